/**
 * The memcached-protocol server over real connections, the same checks on the kernel's TCP
 * (node:net, loopback) and on FlexTOE (two x86 stacks on the virtual wire): every command,
 * noreply, memcached's error replies, big values, and a pipelined request stream written in
 * pieces cut at arbitrary byte boundaries. Each exchange ends with a `version` sentinel, so a
 * reply that should be empty (noreply) is checked to be empty.
 */
import { randomBytes } from 'node:crypto';
import type { Duplex } from 'node:stream';
import { expect } from 'chai';
import { Prng } from '@flextoe/core';
import {
  closeServer,
  createKvServer,
  KV_PROTOCOL_VERSION,
  listenServer,
  type KvServer,
} from '@flextoe/sockets';
import { flexTransport, kernelTransport, type Transport } from './toe-fixtures.js';

const SENTINEL = Buffer.from(`VERSION ${KV_PROTOCOL_VERSION}\r\n`, 'latin1');

/** A raw protocol client: writes bytes, reads replies up to the sentinel. */
class RawClient {
  private chunks: Buffer[] = [];
  private length = 0;
  private waiter: (() => void) | null = null;
  closed = false;
  readonly done: Promise<void>;

  constructor(readonly socket: Duplex) {
    socket.on('data', (chunk: Buffer) => {
      this.chunks.push(chunk);
      this.length += chunk.length;
      this.waiter?.();
    });
    this.done = new Promise((resolve) =>
      socket.once('close', () => {
        this.closed = true;
        this.waiter?.();
        resolve();
      }),
    );
    socket.on('error', () => {});
  }

  /** Sends `request` then `version`; resolves with the reply before the VERSION line. */
  async call(request: string | Buffer, pieces?: Prng): Promise<string> {
    const bytes = Buffer.concat([toBytes(request), Buffer.from('version\r\n')]);
    await this.send(bytes, pieces);
    await this.until(() => this.tail(SENTINEL.length).equals(SENTINEL));
    const all = this.take();
    return all.subarray(0, all.length - SENTINEL.length).toString('latin1');
  }

  /** The last `n` bytes received (fewer when fewer arrived), without joining everything. */
  private tail(n: number): Buffer {
    const parts: Buffer[] = [];
    let have = 0;
    for (let i = this.chunks.length - 1; i >= 0 && have < n; i--) {
      parts.unshift(this.chunks[i]!);
      have += this.chunks[i]!.length;
    }
    const joined = Buffer.concat(parts);
    return joined.subarray(Math.max(0, joined.length - n));
  }

  private take(): Buffer {
    const all = Buffer.concat(this.chunks, this.length);
    this.chunks = [];
    this.length = 0;
    return all;
  }

  /** Sends `request`; resolves with everything received once the server closed. */
  async callUntilClosed(request: string | Buffer): Promise<string> {
    await this.send(toBytes(request));
    await this.until(() => this.closed);
    return this.take().toString('latin1');
  }

  /** Writes in pieces of random sizes (1 B upwards) when `pieces` is given, yielding between. */
  private async send(bytes: Buffer, pieces?: Prng): Promise<void> {
    if (!pieces) {
      this.socket.write(bytes);
      return;
    }
    for (let i = 0; i < bytes.length;) {
      const n = 1 + pieces.nextInt(pieces.chance(0.3) ? 8 : 3000);
      this.socket.write(bytes.subarray(i, i + n));
      i += n;
      if (pieces.chance(0.2)) await new Promise((r) => setImmediate(r));
    }
  }

  private until(done: () => boolean, ms = 20_000): Promise<void> {
    if (done()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter = null;
        reject(new Error(`no complete reply within ${ms} ms; got ${this.length} B`));
      }, ms);
      this.waiter = () => {
        if (!done()) return;
        clearTimeout(timer);
        this.waiter = null;
        resolve();
      };
    });
  }
}

function toBytes(s: string | Buffer): Buffer {
  return typeof s === 'string' ? Buffer.from(s, 'latin1') : s;
}

const transports: [string, () => Promise<Transport>][] = [
  ['node:net', async () => kernelTransport()],
  ['flextoe', () => flexTransport()],
];

for (const [label, makeTransport] of transports) {
  describe(`sockets/apps: the KV server over ${label}`, function () {
    this.timeout(60_000);
    let t: Transport;
    let kv: KvServer;
    let port: number;
    const clients: RawClient[] = [];
    const connect = async () => {
      const c = new RawClient(t.connect(port));
      clients.push(c);
      return c;
    };

    before(async () => {
      t = await makeTransport();
    });
    after(() => t.close());
    beforeEach(async () => {
      kv = createKvServer(t.net, { maxItemBytes: 1024 * 1024, maxBytes: 16 * 1024 * 1024 });
      await listenServer(kv.server, 0, t.host === '127.0.0.1' ? '127.0.0.1' : undefined);
      port = (kv.server.address() as { port: number }).port;
    });
    afterEach(async () => {
      for (const c of clients.splice(0)) c.socket.destroy();
      await closeServer(kv.server);
    });

    it('stores and retrieves: set/add/replace/append/prepend/cas, get/gets/gat/gats', async () => {
      const c = await connect();
      expect(await c.call('set a 5 0 3\r\nabc\r\n')).to.equal('STORED\r\n');
      expect(await c.call('get a\r\n')).to.equal('VALUE a 5 3\r\nabc\r\nEND\r\n');
      expect(await c.call('add a 0 0 1\r\nx\r\nadd b 0 0 1\r\ny\r\n')).to.equal('NOT_STORED\r\nSTORED\r\n');
      expect(await c.call('replace zz 0 0 1\r\nx\r\nreplace b 7 0 2\r\nyy\r\n')).to.equal(
        'NOT_STORED\r\nSTORED\r\n',
      );
      expect(
        await c.call('append a 9 0 2\r\nde\r\nprepend a 9 0 2\r\n<<\r\nappend zz 0 0 1\r\nx\r\n'),
      ).to.equal('STORED\r\nSTORED\r\nNOT_STORED\r\n');
      const gets = await c.call('gets a b missing\r\n');
      const m = /^VALUE a 5 7 (\d+)\r\n<<abcde\r\nVALUE b 7 2 (\d+)\r\nyy\r\nEND\r\n$/.exec(gets);
      expect(m, gets).to.not.equal(null);
      const casA = m![1]!;
      expect(await c.call(`cas a 1 0 1 ${BigInt(casA) + 1n}\r\nX\r\n`)).to.equal('EXISTS\r\n');
      expect(await c.call(`cas zz 1 0 1 ${casA}\r\nX\r\n`)).to.equal('NOT_FOUND\r\n');
      expect(await c.call(`cas a 1 0 1 ${casA}\r\nX\r\n`)).to.equal('STORED\r\n');
      expect(await c.call(`cas a 1 0 1 ${casA}\r\nY\r\n`), 'the id changed with the store').to.equal(
        'EXISTS\r\n',
      );
      expect(await c.call('gat 100 a\r\n')).to.equal('VALUE a 1 1\r\nX\r\nEND\r\n');
      expect(await c.call('gats 100 b\r\n')).to.match(/^VALUE b 7 2 \d+\r\nyy\r\nEND\r\n$/);
      expect(await c.call('get\r\n'), 'get without a key').to.equal('ERROR\r\n');
    });

    it('delete, incr/decr, touch, flush_all, verbosity, stats', async () => {
      const c = await connect();
      expect(await c.call('set n 0 0 2\r\n10\r\nincr n 5\r\ndecr n 3\r\ndecr n 100\r\n')).to.equal(
        'STORED\r\n15\r\n12\r\n0\r\n',
      );
      expect(await c.call('set n 0 0 20\r\n18446744073709551615\r\nincr n 2\r\n')).to.equal(
        'STORED\r\n1\r\n',
      );
      expect(await c.call('incr nope 1\r\ndecr nope 1\r\n')).to.equal('NOT_FOUND\r\nNOT_FOUND\r\n');
      expect(await c.call('delete n\r\ndelete n\r\ndelete n 0\r\n')).to.equal(
        'DELETED\r\nNOT_FOUND\r\nNOT_FOUND\r\n',
      );
      expect(await c.call('set t 0 0 1\r\nx\r\ntouch t 1000\r\ntouch nope 10\r\n')).to.equal(
        'STORED\r\nTOUCHED\r\nNOT_FOUND\r\n',
      );
      expect(await c.call('touch t -1\r\nget t\r\n'), 'touched into the past').to.equal('TOUCHED\r\nEND\r\n');
      expect(await c.call('set f 0 0 1\r\nx\r\nflush_all\r\nget f\r\n')).to.equal('STORED\r\nOK\r\nEND\r\n');
      expect(await c.call('flush_all 0\r\nverbosity 1\r\n')).to.equal('OK\r\nOK\r\n');
      const stats = await c.call('stats\r\n');
      expect(stats).to.match(/^(STAT [a-z_]+ \S+\r\n)+END\r\n$/);
      expect(stats).to.include('STAT cmd_flush 2\r\n');
      expect(stats).to.include('STAT curr_connections 1\r\n');
      expect(stats).to.include('STAT limit_maxbytes 16777216\r\n');
      expect(await c.call('stats settings\r\n')).to.include('STAT item_size_max 1048576\r\n');
      expect(await c.call('stats reset\r\nstats nonsense\r\n')).to.equal('RESET\r\nERROR\r\n');
      expect(await c.callUntilClosed('quit\r\nversion\r\n'), 'quit closes without a reply').to.equal('');
    });

    it('noreply: every command that takes it answers nothing, and still acts', async () => {
      const c = await connect();
      const quiet = [
        'set q 0 0 1 noreply\r\n1\r\n',
        'add q 0 0 1 noreply\r\n2\r\n', // NOT_STORED, unsaid
        'add r 0 0 1 noreply\r\n5\r\n',
        'replace q 3 0 1 noreply\r\n7\r\n',
        'append q 0 0 1 noreply\r\n0\r\n',
        'prepend q 0 0 1 noreply\r\n1\r\n',
        'incr q 3 noreply\r\n',
        'decr q 1 noreply\r\n',
        'touch q 100 noreply\r\n',
        'delete r noreply\r\n',
        'cas q 0 0 1 999999 noreply\r\nz\r\n', // EXISTS, unsaid
        'verbosity 0 noreply\r\n',
        'set bad 0 0 x noreply\r\n', // an error under noreply is not said either (as memcached)
      ].join('');
      expect(await c.call(quiet)).to.equal('');
      expect(await c.call('get q r\r\n')).to.equal('VALUE q 3 3\r\n172\r\nEND\r\n');
      expect(await c.call('flush_all noreply\r\nget q\r\n')).to.equal('END\r\n');
    });

    it("answers malformed commands with memcached's error lines and stays in sync", async () => {
      const c = await connect();
      const cases: [string, string][] = [
        ['nonsense\r\n', 'ERROR\r\n'],
        ['\r\n', 'ERROR\r\n'],
        ['set k 0 0\r\n', 'ERROR\r\n'],
        ['set k abc 0 1\r\nx\r\n', 'CLIENT_ERROR bad command line format\r\nERROR\r\n'],
        ['set k 0 0 -1\r\n', 'CLIENT_ERROR bad command line format\r\n'],
        ['set k 0 0 99999999999\r\n', 'CLIENT_ERROR bad command line format\r\n'],
        ['set k 4294967296 0 1\r\nx\r\n', 'CLIENT_ERROR bad command line format\r\nERROR\r\n'],
        [`set ${'k'.repeat(251)} 0 0 1\r\nx\r\n`, 'CLIENT_ERROR bad command line format\r\nERROR\r\n'],
        [`get a ${'k'.repeat(251)}\r\n`, 'CLIENT_ERROR bad command line format\r\n'],
        ['set k 0 0 3\r\nabcd\r\n', 'CLIENT_ERROR bad data chunk\r\nERROR\r\n'],
        ['delete k 5\r\n', 'CLIENT_ERROR bad command line format.  Usage: delete <key> [noreply]\r\n'],
        ['touch k soon\r\n', 'CLIENT_ERROR invalid exptime argument\r\n'],
        ['gat soon k\r\n', 'CLIENT_ERROR invalid exptime argument\r\n'],
        ['flush_all later\r\n', 'CLIENT_ERROR invalid exptime argument\r\n'],
        ['incr k -1\r\n', 'CLIENT_ERROR invalid numeric delta argument\r\n'],
        ['incr k 18446744073709551616\r\n', 'CLIENT_ERROR invalid numeric delta argument\r\n'],
        [
          'set s 0 0 5\r\nhello\r\nincr s 1\r\n',
          'STORED\r\nCLIENT_ERROR cannot increment or decrement non-numeric value\r\n',
        ],
        ['verbosity\r\n', 'ERROR\r\n'],
      ];
      for (const [request, reply] of cases)
        expect(await c.call(request), JSON.stringify(request)).to.equal(reply);
      // An oversized value is refused by its length and skipped, so the next command is read right.
      const big = Buffer.concat([
        Buffer.from('set big 0 0 2000000\r\n'),
        Buffer.alloc(2_000_000, 0x61),
        Buffer.from('\r\nget big\r\n'),
      ]);
      expect(await c.call(big)).to.equal('SERVER_ERROR object too large for cache\r\nEND\r\n');
    });

    it('closes a connection that sends junk without newlines, and one speaking the binary protocol', async () => {
      const junk = await connect();
      const reply = await junk.callUntilClosed(Buffer.alloc(100_000, 0x41));
      expect(reply).to.equal('CLIENT_ERROR line too long\r\n');
      const binary = await connect();
      // A binary-protocol GET request header (magic 0x80, opcode 0x00).
      const header = Buffer.alloc(24);
      header[0] = 0x80;
      expect(await binary.callUntilClosed(header)).to.match(
        /^CLIENT_ERROR the binary protocol is not supported/,
      );
      // The server is fine: a new connection is served.
      expect(await (await connect()).call('')).to.equal('');
    });

    it('stores and returns values from 0 B to the 1 MiB limit byte-exact, binary included', async () => {
      const c = await connect();
      for (const size of [0, 1, 1000, 65_536, 1024 * 1024]) {
        const value = randomBytes(size);
        const set = Buffer.concat([Buffer.from(`set v${size} 42 0 ${size}\r\n`), value, Buffer.from('\r\n')]);
        expect(await c.call(set)).to.equal('STORED\r\n');
        const got = Buffer.from(await c.call(`get v${size}\r\n`), 'latin1');
        const head = Buffer.from(`VALUE v${size} 42 ${size}\r\n`);
        expect(got.subarray(0, head.length).toString(), `${size} B header`).to.equal(head.toString());
        expect(got.subarray(head.length, head.length + size).equals(value), `${size} B value`).to.equal(true);
        expect(got.subarray(head.length + size).toString()).to.equal('\r\nEND\r\n');
      }
      expect(await c.call(`set over 0 0 ${1024 * 1024 + 1}\r\n${'x'.repeat(1024 * 1024 + 1)}\r\n`)).to.equal(
        'SERVER_ERROR object too large for cache\r\n',
      );
    });

    it('answers a pipelined stream written in arbitrary pieces exactly as a model predicts', async () => {
      const rng = new Prng(`kv-pipeline-${label}`);
      const model = new Map<string, { value: Buffer; flags: number }>();
      const request: Buffer[] = [];
      let expected = '';
      const add = (req: Buffer | string, reply: string) => {
        request.push(toBytes(req));
        expected += reply;
      };
      for (let i = 0; i < 600; i++) {
        const key = `k${rng.nextInt(40)}`;
        const op = rng.nextInt(6);
        const item = model.get(key);
        if (op <= 1) {
          // Values with \r\n and every byte value inside: the length, not the bytes, delimits.
          const value = Buffer.alloc(rng.nextInt(rng.chance(0.1) ? 20_000 : 300));
          for (let j = 0; j < value.length; j++) value[j] = rng.nextInt(256);
          const noreply = rng.chance(0.3);
          const head = `set ${key} ${i} 0 ${value.length}${noreply ? ' noreply' : ''}\r\n`;
          add(Buffer.concat([Buffer.from(head), value, Buffer.from('\r\n')]), noreply ? '' : 'STORED\r\n');
          model.set(key, { value, flags: i });
        } else if (op === 2) {
          add(
            `get ${key}\r\n`,
            item === undefined
              ? 'END\r\n'
              : `VALUE ${key} ${item.flags} ${item.value.length}\r\n${item.value.toString('latin1')}\r\nEND\r\n`,
          );
        } else if (op === 3) {
          add(`delete ${key}\r\n`, model.delete(key) ? 'DELETED\r\n' : 'NOT_FOUND\r\n');
        } else if (op === 4) {
          add(`append ${key} 0 0 2\r\n+!\r\n`, item === undefined ? 'NOT_STORED\r\n' : 'STORED\r\n');
          if (item !== undefined) item.value = Buffer.concat([item.value, Buffer.from('+!')]);
        } else {
          add('bogus command\r\n', 'ERROR\r\n');
        }
      }
      const c = await connect();
      expect(await c.call(Buffer.concat(request), rng.fork('pieces'))).to.equal(expected);
    });
  });
}
