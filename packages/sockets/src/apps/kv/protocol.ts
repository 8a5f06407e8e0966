/**
 * The memcached text protocol (memcached 1.6 doc/protocol.txt), one `KvSession` per
 * connection: bytes in through `feed`, replies out through a `ByteSink`.
 *
 * Hostile input is the normal case: a command line is parsed where it lies in the received
 * chunk (copied only when it straddles two chunks) and may not exceed `maxLineBytes`; a value
 * is copied once, into its own buffer, and only after its length was checked against the item
 * limit; an oversized value is skipped without being buffered ("swallowed", as memcached
 * does); anything malformed gets memcached's own error line (ERROR, CLIENT_ERROR ...,
 * SERVER_ERROR ...). What the session holds per connection is bounded: one partial line, one
 * value being received, and the chunks the transport delivered while the peer was not reading
 * its replies (the server pauses the transport then).
 */
import { KEY_MAX_BYTES, KvStore, StoreResult, type KvItem, type StoreMode } from './store.js';
import { ReplyWriter, type ByteSink } from './reply-writer.js';

export interface KvSessionOptions {
  /** Longest command line accepted (a multi-get names many keys); default 64 KiB. */
  maxLineBytes?: number;
  /** What `version` answers; default the memcached protocol level implemented. */
  version?: string;
}

/** What a session shares with the rest of the server. */
export interface KvServerContext {
  readonly store: KvStore;
  /** Extra `stats` lines the server adds (connections, bytes read and written, uptime...). */
  serverStats(): Iterable<readonly [string, string | number]>;
  /** `stats reset` also resets these. */
  resetServerStats(): void;
}

/** The transport below a session: where replies go, and whether the peer is keeping up. */
export interface KvTransport extends ByteSink {
  /** True while replies queue up unread: the session stops parsing until `resume()`. */
  congested(): boolean;
  /** The session is over (quit, or input that cannot be recovered from): close after the replies. */
  end(): void;
}

export const KV_PROTOCOL_VERSION = '1.6.18-flextoe';

// Parser modes.
const LINE = 0;
const DATA = 1;
const DATA_END = 2;
const SWALLOW = 3;
const ENDED = 4;

const CR = 0x0d;
const LF = 0x0a;
const SP = 0x20;
/** The binary protocol's request magic; we speak only text. */
const BINARY_MAGIC = 0x80;
/** memcached's MAX_TOKENS less the terminal token: no text command needs more. */
const MAX_TOKENS = 8;
/** Chunks held while the peer does not read its replies before we give up on it. */
const MAX_HELD_INPUT_BYTES = 4 * 1024 * 1024;

const lit = (s: string) => Buffer.from(s, 'latin1');
const R = {
  stored: lit('STORED\r\n'),
  notStored: lit('NOT_STORED\r\n'),
  exists: lit('EXISTS\r\n'),
  notFound: lit('NOT_FOUND\r\n'),
  deleted: lit('DELETED\r\n'),
  touched: lit('TOUCHED\r\n'),
  ok: lit('OK\r\n'),
  end: lit('END\r\n'),
  reset: lit('RESET\r\n'),
  error: lit('ERROR\r\n'),
  crlf: lit('\r\n'),
  value: lit('VALUE '),
  badFormat: lit('CLIENT_ERROR bad command line format\r\n'),
  badDelete: lit('CLIENT_ERROR bad command line format.  Usage: delete <key> [noreply]\r\n'),
  badChunk: lit('CLIENT_ERROR bad data chunk\r\n'),
  badExptime: lit('CLIENT_ERROR invalid exptime argument\r\n'),
  badDelta: lit('CLIENT_ERROR invalid numeric delta argument\r\n'),
  nonNumeric: lit('CLIENT_ERROR cannot increment or decrement non-numeric value\r\n'),
  lineTooLong: lit('CLIENT_ERROR line too long\r\n'),
  binary: lit('CLIENT_ERROR the binary protocol is not supported; use the text protocol\r\n'),
  tooLarge: lit('SERVER_ERROR object too large for cache\r\n'),
  noMemory: lit('SERVER_ERROR out of memory storing object\r\n'),
  deltaNoMemory: lit('SERVER_ERROR out of memory\r\n'),
  slowReader: lit('SERVER_ERROR replies are not being read; closing\r\n'),
};

const enum Cmd {
  Unknown,
  Get,
  Gets,
  Gat,
  Gats,
  Set,
  Add,
  Replace,
  Append,
  Prepend,
  Cas,
  Delete,
  Incr,
  Decr,
  Touch,
  FlushAll,
  Version,
  Verbosity,
  Stats,
  Quit,
}

const COMMANDS: readonly [Uint8Array, Cmd][] = (
  [
    ['get', Cmd.Get],
    ['gets', Cmd.Gets],
    ['gat', Cmd.Gat],
    ['gats', Cmd.Gats],
    ['set', Cmd.Set],
    ['add', Cmd.Add],
    ['replace', Cmd.Replace],
    ['append', Cmd.Append],
    ['prepend', Cmd.Prepend],
    ['cas', Cmd.Cas],
    ['delete', Cmd.Delete],
    ['incr', Cmd.Incr],
    ['decr', Cmd.Decr],
    ['touch', Cmd.Touch],
    ['flush_all', Cmd.FlushAll],
    ['version', Cmd.Version],
    ['verbosity', Cmd.Verbosity],
    ['stats', Cmd.Stats],
    ['quit', Cmd.Quit],
  ] as const
).map(([name, cmd]) => [lit(name), cmd]);

const STORE_MODES: Partial<Record<Cmd, StoreMode>> = {
  [Cmd.Set]: 'set',
  [Cmd.Add]: 'add',
  [Cmd.Replace]: 'replace',
  [Cmd.Append]: 'append',
  [Cmd.Prepend]: 'prepend',
  [Cmd.Cas]: 'cas',
};

const NOREPLY = lit('noreply');
const U64_MAX = (1n << 64n) - 1n;

export class KvSession {
  private mode = LINE;
  private firstByte = true;
  private readonly out: ReplyWriter;
  private readonly maxLineBytes: number;
  private readonly version: Buffer;
  /** A command line split across chunks. */
  private line: Buffer | null = null;
  private lineLen = 0;
  /** Token boundaries of the current line: start, end, start, end... */
  private readonly tok = new Int32Array(MAX_TOKENS * 2);
  // The storage command whose value is arriving.
  private storeMode: StoreMode = 'set';
  private storeKey = '';
  private storeFlags = 0;
  private storeExptime = 0;
  private storeCas = 0n;
  private noreply = false;
  /** The value arriving: its announced length and the received pieces (views of input chunks). */
  private valueLength = 0;
  private valueFilled = 0;
  private readonly valuePieces: Buffer[] = [];
  /** DATA_END: how many of the two terminator bytes arrived, and whether they were \r\n. */
  private endSeen = 0;
  private endOk = true;
  private swallowLeft = 0;
  /** Chunks not yet parsed because the peer stopped reading replies. */
  private held: Buffer[] = [];
  private heldPos = 0;
  private heldBytes = 0;

  constructor(
    private readonly ctx: KvServerContext,
    private readonly transport: KvTransport,
    options: KvSessionOptions = {},
  ) {
    this.out = new ReplyWriter(transport);
    this.maxLineBytes = options.maxLineBytes ?? 64 * 1024;
    this.version = lit(`VERSION ${options.version ?? KV_PROTOCOL_VERSION}\r\n`);
  }

  /** Parsing waits for the peer to read replies (`resume` when the transport drains). */
  get stalled(): boolean {
    return this.held.length > 0 && this.mode !== ENDED;
  }

  get ended(): boolean {
    return this.mode === ENDED;
  }

  /** Bytes of replies handed to the transport. */
  get bytesWritten(): number {
    return this.out.written;
  }

  /**
   * Received bytes, in order. The session may keep views of `chunk` until the command they
   * belong to completes: the caller must not reuse its memory (sockets hand out fresh buffers).
   */
  feed(chunk: Buffer): void {
    if (this.mode === ENDED || chunk.length === 0) return;
    this.held.push(chunk);
    this.heldBytes += chunk.length;
    if (this.held.length > 1) {
      // Already stalled: the transport should have paused; bound what a peer can park here.
      if (this.heldBytes > MAX_HELD_INPUT_BYTES) {
        this.fatal(R.slowReader);
        this.run();
      }
      return;
    }
    this.run();
  }

  /** Continue after `stalled` (the transport drained). */
  resume(): void {
    if (this.stalled) this.run();
  }

  private run(): void {
    while (this.held.length > 0 && this.mode !== ENDED) {
      const chunk = this.held[0]!;
      let pos = this.heldPos;
      while (pos < chunk.length && this.mode !== ENDED) {
        pos = this.step(chunk, pos);
        if (this.mode === LINE && this.transport.congested()) break;
      }
      if (pos >= chunk.length) {
        this.held.shift();
        this.heldBytes -= chunk.length;
        this.heldPos = 0;
      } else {
        this.heldPos = pos;
        if (this.mode !== ENDED) break; // congested: wait for resume()
      }
    }
    this.out.flush();
    if (this.mode === ENDED) {
      this.held.length = 0;
      this.heldBytes = 0;
      this.transport.end();
    }
  }

  /** Consumes bytes from `pos` in the current mode; returns the new position. */
  private step(buf: Buffer, pos: number): number {
    switch (this.mode) {
      case LINE:
        return this.readLine(buf, pos);
      case DATA: {
        // Kept as views until complete: a peer that announces a megabyte and sends a byte holds
        // a byte here, not a megabyte.
        const n = Math.min(buf.length - pos, this.valueLength - this.valueFilled);
        this.valuePieces.push(buf.subarray(pos, pos + n));
        this.valueFilled += n;
        if (this.valueFilled === this.valueLength) this.mode = DATA_END;
        return pos + n;
      }
      case DATA_END: {
        // memcached reads exactly <bytes>+2 and checks the last two for \r\n.
        const expected = this.endSeen === 0 ? CR : LF;
        if (buf[pos] !== expected) this.endOk = false;
        if (++this.endSeen === 2) this.completeStore();
        return pos + 1;
      }
      case SWALLOW: {
        const n = Math.min(buf.length - pos, this.swallowLeft);
        this.swallowLeft -= n;
        if (this.swallowLeft === 0) this.mode = LINE;
        return pos + n;
      }
      default:
        return buf.length;
    }
  }

  private readLine(buf: Buffer, pos: number): number {
    if (this.firstByte) {
      this.firstByte = false;
      // memcached picks the protocol from a connection's first byte; we speak only text.
      if (buf[pos] === BINARY_MAGIC) {
        this.fatal(R.binary);
        return buf.length;
      }
    }
    const nl = buf.indexOf(LF, pos);
    const end = nl < 0 ? buf.length : nl;
    if (this.lineLen + (end - pos) > this.maxLineBytes) {
      // memcached closes a connection that sends kilobytes without a newline: it is junk.
      this.fatal(R.lineTooLong);
      return buf.length;
    }
    if (nl < 0) {
      this.keep(buf, pos, end);
      return buf.length;
    }
    if (this.lineLen === 0) {
      this.execute(buf, pos, nl);
    } else {
      this.keep(buf, pos, nl);
      const n = this.lineLen;
      this.lineLen = 0;
      this.execute(this.line!, 0, n);
    }
    return nl + 1;
  }

  /** Copies a line fragment aside (the line straddles chunks). */
  private keep(buf: Buffer, from: number, to: number): void {
    const need = this.lineLen + (to - from);
    if (this.line === null || this.line.length < need) {
      const grown = Buffer.allocUnsafe(Math.min(this.maxLineBytes, Math.max(256, need * 2)));
      if (this.line !== null) this.line.copy(grown, 0, 0, this.lineLen);
      this.line = grown;
    }
    buf.copy(this.line, this.lineLen, from, to);
    this.lineLen = need;
  }

  private fatal(reply: Buffer): void {
    this.out.bytes(reply);
    this.mode = ENDED;
  }

  private reply(b: Buffer): void {
    if (!this.noreply) this.out.bytes(b);
  }

  // ---------------------------------------------------------------- commands

  /** One command line, `buf[s, e)` without the \n. */
  private execute(buf: Buffer, s: number, e: number): void {
    if (e > s && buf[e - 1] === CR) e--;
    this.noreply = false;
    const n = this.tokenize(buf, s, e);
    const t = this.tok;
    if (n === 0) return this.reply(R.error);
    const cmd = commandOf(buf, t[0]!, t[1]!);
    switch (cmd) {
      case Cmd.Get:
      case Cmd.Gets:
        if (n < 2) return this.reply(R.error);
        return this.retrieve(buf, t[2]!, e, cmd === Cmd.Gets, false, 0);
      case Cmd.Gat:
      case Cmd.Gats: {
        if (n < 3) return this.reply(R.error);
        const exptime = parseInt32(buf, t[2]!, t[3]!);
        if (exptime === null) return this.reply(R.badExptime);
        return this.retrieve(buf, t[4]!, e, cmd === Cmd.Gats, true, exptime);
      }
      case Cmd.Set:
      case Cmd.Add:
      case Cmd.Replace:
      case Cmd.Append:
      case Cmd.Prepend:
      case Cmd.Cas:
        return this.beginStore(buf, n, STORE_MODES[cmd]!);
      case Cmd.Delete:
        return this.delete(buf, n);
      case Cmd.Incr:
      case Cmd.Decr:
        return this.delta(buf, n, cmd === Cmd.Incr);
      case Cmd.Touch:
        return this.touch(buf, n);
      case Cmd.FlushAll:
        return this.flushAll(buf, n);
      case Cmd.Version:
        return this.reply(this.version);
      case Cmd.Verbosity:
        if (n !== 2 && n !== 3) return this.reply(R.error);
        this.noreply = this.isNoreply(buf, n);
        return this.reply(parseUint(buf, t[2]!, t[3]!, 0xffffffff) < 0 ? R.badFormat : R.ok);
      case Cmd.Stats:
        return this.stats(buf, n);
      case Cmd.Quit:
        this.mode = ENDED;
        return;
      default:
        return this.reply(R.error);
    }
  }

  /** Splits on spaces into `tok`; returns the token count, or MAX_TOKENS + 1 for "more". */
  private tokenize(buf: Buffer, s: number, e: number): number {
    const t = this.tok;
    let n = 0;
    let i = s;
    while (i < e) {
      while (i < e && buf[i] === SP) i++;
      if (i === e) break;
      const start = i;
      while (i < e && buf[i] !== SP) i++;
      if (n === MAX_TOKENS) return MAX_TOKENS + 1;
      t[2 * n] = start;
      t[2 * n + 1] = i;
      n++;
    }
    return n;
  }

  private isNoreply(buf: Buffer, n: number): boolean {
    const t = this.tok;
    return bytesEqual(buf, t[2 * (n - 1)]!, t[2 * (n - 1) + 1]!, NOREPLY);
  }

  /** get/gets/gat/gats over the keys in `buf[from, e)`; validated before any reply is written. */
  private retrieve(buf: Buffer, from: number, e: number, withCas: boolean, touch: boolean, exptime: number) {
    for (let i = from; i < e;) {
      while (i < e && buf[i] === SP) i++;
      const start = i;
      while (i < e && buf[i] !== SP) i++;
      if (i - start > KEY_MAX_BYTES) return this.reply(R.badFormat);
    }
    const store = this.ctx.store;
    const out = this.out;
    for (let i = from; i < e;) {
      while (i < e && buf[i] === SP) i++;
      if (i === e) break;
      const start = i;
      while (i < e && buf[i] !== SP) i++;
      const key = buf.toString('latin1', start, i);
      const it = touch ? store.touch(key, exptime, 'gat') : store.get(key);
      if (it !== null) this.writeValue(out, it, withCas);
    }
    out.bytes(R.end);
  }

  private writeValue(out: ReplyWriter, it: KvItem, withCas: boolean): void {
    out.bytes(R.value);
    out.latin1(it.key);
    out.bytes(SPACE);
    out.uint(it.flags);
    out.bytes(SPACE);
    out.uint(it.value.length);
    if (withCas) {
      out.bytes(SPACE);
      out.uint(it.cas);
    }
    out.bytes(R.crlf);
    out.bytes(it.value);
    out.bytes(R.crlf);
  }

  /** set/add/replace/append/prepend: <cmd> <key> <flags> <exptime> <bytes> [noreply]; cas adds <cas unique>. */
  private beginStore(buf: Buffer, n: number, mode: StoreMode): void {
    const base = mode === 'cas' ? 6 : 5;
    if (n !== base && n !== base + 1) return this.reply(R.error);
    this.noreply = this.isNoreply(buf, n);
    const t = this.tok;
    if (t[3]! - t[2]! > KEY_MAX_BYTES) return this.reply(R.badFormat);
    const flags = parseUint(buf, t[4]!, t[5]!, 0xffffffff);
    const exptime = parseInt32(buf, t[6]!, t[7]!);
    const length = parseInt32(buf, t[8]!, t[9]!);
    const cas = mode === 'cas' ? parseU64(buf, t[10]!, t[11]!) : 0n;
    // Without a valid length the value cannot be skipped: its bytes will read as commands
    // (and draw ERRORs), exactly as with memcached.
    if (flags < 0 || exptime === null || length === null || length < 0 || cas === null)
      return this.reply(R.badFormat);
    const store = this.ctx.store;
    if (length > store.maxItemBytes) {
      // Refused before a byte is buffered; the value and its \r\n are skipped.
      store.rejectTooLarge(mode, buf.toString('latin1', t[2]!, t[3]!));
      this.reply(R.tooLarge);
      this.swallowLeft = length + 2;
      this.mode = SWALLOW;
      return;
    }
    this.storeMode = mode;
    this.storeKey = buf.toString('latin1', t[2]!, t[3]!);
    this.storeFlags = flags;
    this.storeExptime = exptime;
    this.storeCas = cas;
    this.valueLength = length;
    this.valueFilled = 0;
    this.endSeen = 0;
    this.endOk = true;
    this.mode = length === 0 ? DATA_END : DATA;
  }

  private completeStore(): void {
    this.mode = LINE;
    const pieces = this.valuePieces;
    if (!this.endOk) {
      pieces.length = 0;
      return this.reply(R.badChunk);
    }
    // One copy into memory of its own: a view would pin the input chunk for as long as the
    // item lives (and a pooled slice a shared slab), making the memory limit a fiction.
    const value = this.valueLength === 0 ? EMPTY_VALUE : Buffer.allocUnsafeSlow(this.valueLength);
    let at = 0;
    for (const piece of pieces) {
      value.set(piece, at);
      at += piece.length;
    }
    pieces.length = 0;
    const result = this.ctx.store.store(
      this.storeMode,
      this.storeKey,
      value,
      this.storeFlags,
      this.storeExptime,
      this.storeCas,
    );
    this.reply(STORE_REPLIES[result]);
  }

  /** delete <key> [0] [noreply] (the 0 is a relic memcached still accepts). */
  private delete(buf: Buffer, n: number): void {
    if (n < 2 || n > 4) return this.reply(R.error);
    const t = this.tok;
    if (n > 2) {
      const holdIsZero = t[5]! - t[4]! === 1 && buf[t[4]!] === 0x30;
      this.noreply = this.isNoreply(buf, n);
      const valid = (n === 3 && (holdIsZero || this.noreply)) || (n === 4 && holdIsZero && this.noreply);
      if (!valid) return this.reply(R.badDelete);
    }
    if (t[3]! - t[2]! > KEY_MAX_BYTES) return this.reply(R.badFormat);
    const deleted = this.ctx.store.delete(buf.toString('latin1', t[2]!, t[3]!));
    this.reply(deleted ? R.deleted : R.notFound);
  }

  /** incr|decr <key> <value> [noreply]. */
  private delta(buf: Buffer, n: number, incr: boolean): void {
    if (n !== 3 && n !== 4) return this.reply(R.error);
    this.noreply = this.isNoreply(buf, n);
    const t = this.tok;
    if (t[3]! - t[2]! > KEY_MAX_BYTES) return this.reply(R.badFormat);
    const by = parseU64(buf, t[4]!, t[5]!);
    if (by === null) return this.reply(R.badDelta);
    const result = this.ctx.store.delta(buf.toString('latin1', t[2]!, t[3]!), incr, by);
    if (result === 'not-found') return this.reply(R.notFound);
    if (result === 'non-numeric') return this.reply(R.nonNumeric);
    if (result === 'no-memory') return this.reply(R.deltaNoMemory);
    if (this.noreply) return;
    this.out.latin1(result.toString());
    this.out.bytes(R.crlf);
  }

  /** touch <key> <exptime> [noreply]. */
  private touch(buf: Buffer, n: number): void {
    if (n !== 3 && n !== 4) return this.reply(R.error);
    this.noreply = this.isNoreply(buf, n);
    const t = this.tok;
    if (t[3]! - t[2]! > KEY_MAX_BYTES) return this.reply(R.badFormat);
    const exptime = parseInt32(buf, t[4]!, t[5]!);
    if (exptime === null) return this.reply(R.badExptime);
    const it = this.ctx.store.touch(buf.toString('latin1', t[2]!, t[3]!), exptime, 'touch');
    this.reply(it !== null ? R.touched : R.notFound);
  }

  /** flush_all [delay] [noreply]. */
  private flushAll(buf: Buffer, n: number): void {
    if (n > 3) return this.reply(R.error);
    this.noreply = n > 1 && this.isNoreply(buf, n);
    let delay = 0;
    if (n !== (this.noreply ? 2 : 1)) {
      const parsed = parseInt32(buf, this.tok[2]!, this.tok[3]!);
      if (parsed === null) return this.reply(R.badExptime);
      delay = parsed;
    }
    this.ctx.store.flushAll(delay);
    this.reply(R.ok);
  }

  /** stats [reset|settings|items|slabs|sizes|conns]. */
  private stats(buf: Buffer, n: number): void {
    const t = this.tok;
    const sub = n >= 2 ? buf.toString('latin1', t[2]!, t[3]!) : '';
    const store = this.ctx.store;
    const lines: (readonly [string, string | number])[] = [];
    switch (sub) {
      case '':
        lines.push(...this.ctx.serverStats());
        for (const [k, v] of Object.entries(store.counters)) lines.push([k, v]);
        lines.push(
          ['curr_items', store.itemCount],
          ['bytes', store.bytes],
          ['limit_maxbytes', store.maxBytes],
        );
        break;
      case 'reset':
        store.resetCounters();
        this.ctx.resetServerStats();
        return this.reply(R.reset);
      case 'settings':
        lines.push(
          ['maxbytes', store.maxBytes],
          ['item_size_max', store.maxItemBytes],
          ['evictions', 'on'],
          ['cas_enabled', 'yes'],
          ['binding_protocol', 'ascii'],
          ['max_line_bytes', this.maxLineBytes],
        );
        break;
      case 'slabs':
        lines.push(['active_slabs', 0], ['total_malloced', store.bytes]);
        break;
      case 'items':
      case 'sizes':
      case 'conns':
        break; // no slab classes here: nothing to list
      default:
        return this.reply(R.error);
    }
    let text = '';
    for (const [k, v] of lines) text += `STAT ${k} ${v}\r\n`;
    this.out.latin1(text);
    this.out.bytes(R.end);
  }
}

const SPACE = lit(' ');
const EMPTY_VALUE = Buffer.alloc(0);

const STORE_REPLIES: Record<StoreResult, Buffer> = {
  [StoreResult.Stored]: R.stored,
  [StoreResult.NotStored]: R.notStored,
  [StoreResult.Exists]: R.exists,
  [StoreResult.NotFound]: R.notFound,
  [StoreResult.TooLarge]: R.tooLarge,
  [StoreResult.NoMemory]: R.noMemory,
};

function commandOf(buf: Buffer, s: number, e: number): Cmd {
  for (const [name, cmd] of COMMANDS) if (bytesEqual(buf, s, e, name)) return cmd;
  return Cmd.Unknown;
}

function bytesEqual(buf: Uint8Array, s: number, e: number, want: Uint8Array): boolean {
  if (e - s !== want.length) return false;
  for (let i = 0; i < want.length; i++) if (buf[s + i] !== want[i]) return false;
  return true;
}

/** Decimal digits only, at most `max`; -1 when malformed or too big. */
function parseUint(buf: Uint8Array, s: number, e: number, max: number): number {
  if (e <= s || e - s > 16) return -1;
  let n = 0;
  for (let i = s; i < e; i++) {
    const d = buf[i]! - 0x30;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n <= max ? n : -1;
}

/** An optionally negative decimal in the int32 range (memcached's safe_strtol); null otherwise. */
function parseInt32(buf: Uint8Array, s: number, e: number): number | null {
  const negative = e > s && buf[s] === 0x2d;
  const n = parseUint(buf, negative ? s + 1 : s, e, negative ? 2 ** 31 : 2 ** 31 - 1);
  if (n < 0) return null;
  return negative ? -n : n;
}

/** A decimal below 2^64 (memcached's safe_strtoull), as a bigint; null otherwise. */
function parseU64(buf: Buffer, s: number, e: number): bigint | null {
  if (e <= s || e - s > 20) return null;
  for (let i = s; i < e; i++) if (buf[i]! < 0x30 || buf[i]! > 0x39) return null;
  if (e - s <= 15) return BigInt(parseUint(buf, s, e, Number.MAX_SAFE_INTEGER));
  const n = BigInt(buf.toString('latin1', s, e));
  return n <= U64_MAX ? n : null;
}
