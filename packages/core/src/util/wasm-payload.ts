/**
 * Payload passes in WebAssembly SIMD over one shared `WebAssembly.Memory`: the Internet checksum
 * partial sum of a range (RFC 1071), a copy (`memory.copy`) and a copy that sums what it moves.
 * One JavaScript pass over a 1448-byte payload costs ~200 ns here whatever the element size
 * (README, performance, fourth pass); 16-byte vector loads do the same pass several times faster.
 *
 * The module is a byte array built below by a small encoder with the opcodes named (no
 * toolchain, no dependency), checked with `WebAssembly.validate` at load. A runtime without
 * SIMD or shared WebAssembly memory gets `null` from `wasmPayload()` and callers keep their
 * JavaScript loops. Every function takes absolute byte addresses in the shared memory
 * (`view.byteOffset + offset` for a view over its buffer).
 *
 * Sums: a 16-byte little-endian load holds eight byte-swapped big-endian 16-bit words;
 * `i32x4.extadd_pairwise_i16x8_u` adds them pairwise into four 32-bit lanes, and the lanes are
 * widened to 64 bits (`i64x2.extend_*_i32x4_u`) once at the end. RFC 1071 section 2(B): the
 * ones' complement sum of byte-swapped words is the byte swap of the words' sum, so the total
 * is folded to 16 bits and swapped once. Loads need no alignment, so an odd start simply pairs
 * bytes (start, start + 1) as the JavaScript loops do; an odd final byte is the low byte of a
 * little-endian word, i.e. padded on the right as RFC 9293 3.1 prescribes.
 */
import type { RegionPurpose } from '../hw/memory-tiers.js';

// ---- A minimal WebAssembly binary encoder (the MVP binary format plus the SIMD opcodes used) ----

const enum Op {
  Block = 0x02,
  Loop = 0x03,
  If = 0x04,
  End = 0x0b,
  Br = 0x0c,
  BrIf = 0x0d,
  LocalGet = 0x20,
  LocalSet = 0x21,
  LocalTee = 0x22,
  I32Load8U = 0x2d,
  I32Load16U = 0x2f,
  I32Store8 = 0x3a,
  I32Store16 = 0x3b,
  I32Const = 0x41,
  I32Eqz = 0x45,
  I32LtU = 0x49,
  I32GeU = 0x4f,
  I64Eqz = 0x50,
  I32Add = 0x6a,
  I32Sub = 0x6b,
  I32And = 0x71,
  I32Or = 0x72,
  I32Shl = 0x74,
  I32ShrU = 0x76,
  I64Add = 0x7c,
  I32WrapI64 = 0xa7,
  I64ExtendI32U = 0xad,
  I64And = 0x83,
  I64ShrU = 0x88,
  I64Const = 0x42,
  I64Ne = 0x52,
  /** Prefix of the bulk-memory instructions (memory.copy). */
  PrefixFc = 0xfc,
  /** Prefix of the SIMD instructions. */
  PrefixSimd = 0xfd,
}

/** SIMD opcodes (after the 0xfd prefix, LEB128-encoded). */
const enum Simd {
  V128Load = 0x00,
  V128Store = 0x0b,
  I64x2ExtractLane = 0x1d,
  I32x4ExtaddPairwiseI16x8U = 0x7f,
  I32x4Add = 0xae,
  I64x2ExtendLowI32x4U = 0xc9,
  I64x2ExtendHighI32x4U = 0xca,
  I64x2Add = 0xce,
}

const enum Bulk {
  MemoryCopy = 0x0a,
}

const enum ValType {
  I32 = 0x7f,
  I64 = 0x7e,
  V128 = 0x7b,
}

const BLOCK_VOID = 0x40;

function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

/** A function body under construction: one method per instruction kind used. */
class Code {
  readonly bytes: number[] = [];
  op(...ops: number[]): this {
    this.bytes.push(...ops);
    return this;
  }
  get(i: number): this {
    return this.op(Op.LocalGet, ...uleb(i));
  }
  set(i: number): this {
    return this.op(Op.LocalSet, ...uleb(i));
  }
  tee(i: number): this {
    return this.op(Op.LocalTee, ...uleb(i));
  }
  i32(v: number): this {
    return this.op(Op.I32Const, ...sleb(v));
  }
  i64(v: number): this {
    return this.op(Op.I64Const, ...sleb(v));
  }
  /** A memory access with its alignment hint (log2) and a zero offset. */
  mem(op: number, alignLog2: number): this {
    return this.op(op, alignLog2, 0);
  }
  simd(op: Simd, ...imm: number[]): this {
    return this.op(Op.PrefixSimd, ...uleb(op), ...imm);
  }
  /** v128.load / v128.store with a 1-byte alignment hint (ranges start anywhere). */
  simdMem(op: Simd.V128Load | Simd.V128Store): this {
    return this.simd(op, 0, 0);
  }
  block(): this {
    return this.op(Op.Block, BLOCK_VOID);
  }
  loop(): this {
    return this.op(Op.Loop, BLOCK_VOID);
  }
  if_(): this {
    return this.op(Op.If, BLOCK_VOID);
  }
  end(): this {
    return this.op(Op.End);
  }
  br(depth: number): this {
    return this.op(Op.Br, depth);
  }
  brIf(depth: number): this {
    return this.op(Op.BrIf, depth);
  }
}

function section(id: number, body: number[]): number[] {
  return [id, ...uleb(body.length), ...body];
}

function vec(items: number[][]): number[] {
  return [...uleb(items.length), ...items.flat()];
}

function name(s: string): number[] {
  return vec([...s].map((c) => [c.charCodeAt(0)]));
}

interface FunctionDef {
  name: string;
  params: ValType[];
  results: ValType[];
  /** Extra locals, one entry each (indexes follow the parameters). */
  locals: ValType[];
  code: Code;
}

/** Shared memory limits: flags 0x03 (maximum present, shared). */
function sharedLimits(min: number, max: number): number[] {
  return [0x03, ...uleb(min), ...uleb(max)];
}

function encodeModule(fns: FunctionDef[], memMin: number, memMax: number): Uint8Array {
  const types = fns.map((f) => [0x60, ...vec(f.params.map((p) => [p])), ...vec(f.results.map((r) => [r]))]);
  const imports = [[...name('env'), ...name('memory'), 0x02, ...sharedLimits(memMin, memMax)]];
  const exportsVec = fns.map((f, i) => [...name(f.name), 0x00, ...uleb(i)]);
  const bodies = fns.map((f) => {
    const locals = vec(f.locals.map((t) => [1, t]));
    const body = [...locals, ...f.code.bytes, Op.End];
    return [...uleb(body.length), ...body];
  });
  return Uint8Array.from([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vec(types)),
    ...section(2, vec(imports)),
    ...section(3, vec(fns.map((_, i) => uleb(i)))),
    ...section(7, vec(exportsVec)),
    ...section(10, vec(bodies)),
  ]); // prettier-ignore
}

// ---- The three functions ----

/**
 * Emits the tail and the final fold shared by `sum` and `copySum`. Locals: p (cursor), end, acc
 * (v128 i32x4 lanes), total (i64), d (destination cursor, or -1 for "no copy").
 * Leaves the folded, byte-swapped 16-bit sum (an i32) on the stack.
 */
function emitTailAndFold(
  c: Code,
  p: number,
  end: number,
  acc: number,
  total: number,
  d: number | null,
): void {
  // total = lane0 + lane1 of (extend_low(acc) + extend_high(acc)), as u64.
  c.get(acc).simd(Simd.I64x2ExtendLowI32x4U);
  c.get(acc).simd(Simd.I64x2ExtendHighI32x4U);
  c.simd(Simd.I64x2Add).tee(acc);
  c.simd(Simd.I64x2ExtractLane, 0);
  c.get(acc).simd(Simd.I64x2ExtractLane, 1);
  c.op(Op.I64Add).set(total);
  // Whole 16-bit words left (fewer than 16 bytes): while (end - p >= 2) total += load16(p).
  c.block().loop();
  c.get(end).get(p).op(Op.I32Sub).i32(2).op(Op.I32LtU).brIf(1);
  if (d !== null) c.get(d).get(p).mem(Op.I32Load16U, 0).mem(Op.I32Store16, 0);
  c.get(total).get(p).mem(Op.I32Load16U, 0).op(Op.I64ExtendI32U, Op.I64Add).set(total);
  c.get(p).i32(2).op(Op.I32Add).set(p);
  if (d !== null) c.get(d).i32(2).op(Op.I32Add).set(d);
  c.br(0).end().end();
  // An odd final byte: the low byte of a little-endian word, i.e. padded on the right.
  c.get(p).get(end).op(Op.I32LtU).if_();
  if (d !== null) c.get(d).get(p).mem(Op.I32Load8U, 0).mem(Op.I32Store8, 0);
  c.get(total).get(p).mem(Op.I32Load8U, 0).op(Op.I64ExtendI32U, Op.I64Add).set(total);
  c.end();
  // Fold the end-around carries: while (total >> 16) total = (total & 0xffff) + (total >> 16).
  c.block().loop();
  c.get(total).i64(16).op(Op.I64ShrU, Op.I64Eqz).brIf(1);
  c.get(total).i64(0xffff).op(Op.I64And);
  c.get(total).i64(16).op(Op.I64ShrU, Op.I64Add).set(total);
  c.br(0).end().end();
  // Byte swap back to big-endian words: ((s & 0xff) << 8) | (s >> 8).
  c.get(total).op(Op.I32WrapI64).set(p);
  c.get(p).i32(0xff).op(Op.I32And).i32(8).op(Op.I32Shl);
  c.get(p).i32(8).op(Op.I32ShrU).op(Op.I32Or);
}

/** Bytes per iteration of the vector loops (four 16-byte loads). */
const UNROLL = 4;

/** sum(off, len) -> folded 16-bit sum of the big-endian words of [off, off + len). */
function sumFunction(): FunctionDef {
  // params: 0 off, 1 len; locals: 2 end, 3 acc (v128), 4 total (i64)
  const [p, len, end, acc, total] = [0, 1, 2, 3, 4];
  const c = new Code();
  c.get(p).get(len).op(Op.I32Add).set(end);
  // 64 bytes per iteration while end - p >= 64.
  c.block().loop();
  c.get(end)
    .get(p)
    .op(Op.I32Sub)
    .i32(16 * UNROLL)
    .op(Op.I32LtU)
    .brIf(1);
  for (let k = 0; k < UNROLL; k++) {
    c.get(acc);
    c.get(p);
    if (k > 0) c.i32(16 * k).op(Op.I32Add);
    c.simdMem(Simd.V128Load).simd(Simd.I32x4ExtaddPairwiseI16x8U).simd(Simd.I32x4Add).set(acc);
  }
  c.get(p)
    .i32(16 * UNROLL)
    .op(Op.I32Add)
    .set(p);
  c.br(0).end().end();
  // 16 bytes per iteration.
  c.block().loop();
  c.get(end).get(p).op(Op.I32Sub).i32(16).op(Op.I32LtU).brIf(1);
  c.get(acc).get(p).simdMem(Simd.V128Load).simd(Simd.I32x4ExtaddPairwiseI16x8U).simd(Simd.I32x4Add).set(acc);
  c.get(p).i32(16).op(Op.I32Add).set(p);
  c.br(0).end().end();
  emitTailAndFold(c, p, end, acc, total, null);
  return {
    name: 'sum',
    params: [ValType.I32, ValType.I32],
    results: [ValType.I32],
    locals: [ValType.I32, ValType.V128, ValType.I64],
    code: c,
  };
}

/** copy(dst, src, len): memory.copy (memmove semantics). */
function copyFunction(): FunctionDef {
  const c = new Code();
  c.get(0)
    .get(1)
    .get(2)
    .op(Op.PrefixFc, ...uleb(Bulk.MemoryCopy), 0, 0);
  return { name: 'copy', params: [ValType.I32, ValType.I32, ValType.I32], results: [], locals: [], code: c };
}

/** copySum(dst, src, len) -> copies [src, src + len) to dst and returns `sum(src, len)`. */
function copySumFunction(): FunctionDef {
  // params: 0 dst, 1 src (the cursor p), 2 len; locals: 3 end, 4 acc (v128), 5 total (i64), 6 v (v128)
  const [d, p, len, end, acc, total, v] = [0, 1, 2, 3, 4, 5, 6];
  const c = new Code();
  c.get(p).get(len).op(Op.I32Add).set(end);
  const vectorLoop = (unroll: number): void => {
    c.block().loop();
    c.get(end)
      .get(p)
      .op(Op.I32Sub)
      .i32(16 * unroll)
      .op(Op.I32LtU)
      .brIf(1);
    for (let k = 0; k < unroll; k++) {
      c.get(p);
      if (k > 0) c.i32(16 * k).op(Op.I32Add);
      c.simdMem(Simd.V128Load).set(v);
      c.get(d);
      if (k > 0) c.i32(16 * k).op(Op.I32Add);
      c.get(v).simdMem(Simd.V128Store);
      c.get(acc).get(v).simd(Simd.I32x4ExtaddPairwiseI16x8U).simd(Simd.I32x4Add).set(acc);
    }
    c.get(p)
      .i32(16 * unroll)
      .op(Op.I32Add)
      .set(p);
    c.get(d)
      .i32(16 * unroll)
      .op(Op.I32Add)
      .set(d);
    c.br(0).end().end();
  };
  vectorLoop(UNROLL);
  vectorLoop(1);
  emitTailAndFold(c, p, end, acc, total, d);
  return {
    name: 'copySum',
    params: [ValType.I32, ValType.I32, ValType.I32],
    results: [ValType.I32],
    locals: [ValType.I32, ValType.V128, ValType.I64, ValType.V128],
    code: c,
  };
}

// ---- Loading ----

/**
 * The parts of the WebAssembly JS API used here (the repository's TypeScript libs carry no DOM
 * or WebAssembly declarations); read from `globalThis` so a runtime without it gets null.
 */
export interface SharedWasmMemory {
  readonly buffer: SharedArrayBuffer;
  grow(pages: number): number;
}
interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Memory: new (d: { initial: number; maximum: number; shared: boolean }) => SharedWasmMemory;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
}

/** WebAssembly pages are 64 KiB. */
export const WASM_PAGE = 65536;
/** The shared memory's maximum (1 GiB): address space reserved, not committed. */
const MAX_PAGES = 16384;

/**
 * Sums of ranges up to this long are exact in the 32-bit lanes (each 16-byte load adds at most
 * 2 * 0xffff < 2^17 to a lane: 2^14 loads stay below 2^31); longer ranges take JavaScript.
 */
export const WASM_SUM_MAX = 1 << 18;

export interface WasmPayload {
  /** The shared memory the functions address. */
  readonly memory: SharedWasmMemory;
  /** Folded (0..0xffff, 0 only for all-zero words) sum of the big-endian words of [off, off + len). */
  readonly sum: (off: number, len: number) => number;
  /** memmove of len bytes from src to dst. */
  readonly copy: (dst: number, src: number, len: number) => void;
  /** copy, returning the folded sum of the bytes copied (as `sum(src, len)`). */
  readonly copySum: (dst: number, src: number, len: number) => number;
}

/** The module's bytes (exported for the specs and the micro-benchmark). */
export function payloadModuleBytes(): Uint8Array {
  return encodeModule([sumFunction(), copyFunction(), copySumFunction()], 1, MAX_PAGES);
}

let loaded: WasmPayload | null | undefined;

/**
 * The payload module over its shared memory, or null where the runtime lacks WebAssembly SIMD,
 * shared memory or bulk memory (then callers use their JavaScript loops). Made once.
 * `FLEXTOE_NO_WASM=1` forces null (A/B measurements, the JavaScript paths' specs).
 */
export function wasmPayload(): WasmPayload | null {
  if (loaded !== undefined) return loaded;
  loaded = null;
  try {
    const wasm = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;
    if (wasm === undefined || process.env.FLEXTOE_NO_WASM === '1') return null;
    const bytes = payloadModuleBytes();
    if (!wasm.validate(bytes)) return null;
    const memory = new wasm.Memory({ initial: 1, maximum: MAX_PAGES, shared: true });
    if (!(memory.buffer instanceof SharedArrayBuffer)) return null;
    const instance = new wasm.Instance(new wasm.Module(bytes), { env: { memory } });
    const e = instance.exports as unknown as Omit<WasmPayload, 'memory'>;
    loaded = { memory, sum: e.sum, copy: e.copy, copySum: e.copySum };
  } catch {
    loaded = null;
  }
  return loaded;
}

// ---- The shared memory as an arena ----

/** Regions start on cache lines. The first line is left unused (no region at address 0). */
const ARENA_ALIGN = 64;
let arenaTop = ARENA_ALIGN;
/** The memory's buffer objects handed out (one per size the memory had): views over them are ours. */
const arenaBuffers = new WeakSet<ArrayBufferLike>();

/** A range of the payload memory: byte `byteOffset` of `buffer` is address `byteOffset`. */
export interface PayloadRange {
  readonly buffer: SharedArrayBuffer;
  readonly byteOffset: number;
}

/**
 * A zeroed range of `byteLength` bytes in the payload memory (grown as needed), or null without
 * the module or when the memory's maximum (1 GiB) is reached: the caller allocates elsewhere and
 * its copies take JavaScript. Never freed: the memory tiers' regions (host rings, frame slots)
 * are viewed by whatever the stack handed them to (a connection's rings, an application's
 * `peek` views), which may outlive the stack, so no one can say when they are unreachable;
 * memory only one object ever views takes `allocateOwnedPayloadMemory` instead.
 */
export function allocatePayloadMemory(byteLength: number): PayloadRange | null {
  const w = wasmPayload();
  if (w === null) return null;
  const at = arenaTop;
  const end = at + roundUp(byteLength);
  const have = w.memory.buffer.byteLength;
  if (end > have) {
    try {
      w.memory.grow(Math.ceil((end - have) / WASM_PAGE));
    } catch {
      return null;
    }
  }
  arenaTop = end;
  return rangeAt(w, at);
}

/**
 * Where a memory-tiers region's bytes lie: host rings ('host-buffers') and frame slots
 * ('packet-buffers') in the payload memory when the tiers offer it (`MemoryTiers.payloadMemory`:
 * payload copies and sums between them then run in WebAssembly SIMD); any other region, or any
 * region once the payload memory is full, in its own buffer from `elsewhere`. At least 8 bytes.
 */
export function regionBacking(
  purpose: RegionPurpose,
  byteLength: number,
  payloadMemory: boolean,
  elsewhere: (byteLength: number) => ArrayBufferLike,
): { buffer: ArrayBufferLike; byteOffset: number } {
  const n = Math.max(8, byteLength);
  const range =
    payloadMemory && (purpose === 'host-buffers' || purpose === 'packet-buffers')
      ? allocatePayloadMemory(n)
      : null;
  return range ?? { buffer: elsewhere(n), byteOffset: 0 };
}

/** True when `buffer` is the payload memory's (a view over it can be passed by address). */
export function isPayloadBuffer(buffer: ArrayBufferLike): boolean {
  return arenaBuffers.has(buffer);
}

/** Bytes of the payload memory handed out so far, recycled ranges included (specs, budgets). */
export function payloadMemoryUsed(): number {
  return arenaTop - ARENA_ALIGN;
}

// ---- Ranges one owner alone views, recycled ----

/**
 * Owners take fresh memory only while the arena stays below a quarter of the maximum: their
 * ranges are a speed-up (a port's slots copied by address), the memory tiers' regions, which
 * are never freed, are what the data path's SIMD passes need; and an owner a spec suite keeps
 * reachable (a port it never detaches) gives nothing back. Past it, owners get null (plain
 * buffers). The full suite's process: 517 MB high-water with this, 751 MB with half.
 */
const OWNED_TOP_MAX = (MAX_PAGES * WASM_PAGE) / 4;
/** Free ranges' addresses by rounded size (owners of one kind ask for one size: a port's slots). */
const freeBySize = new Map<number, number[]>();
/** Each owner's ranges, as [address, rounded size] pairs. */
const ownedRanges = new WeakMap<object, number[]>();
/** An owner collected without `releasePayloadMemory` gives its ranges back then. */
const collected = new FinalizationRegistry<number[]>((ranges) => recycle(ranges));

/**
 * `allocatePayloadMemory` for memory that `owner` alone ever views (a port's frame slots, which
 * only the port copies in and out of), recycled once the owner is done with it:
 * `releasePayloadMemory(owner)`, or the owner being garbage-collected (nothing can view the
 * range then). A recycled range is zeroed and handed to the next request of its size before
 * the arena grows; fresh ranges come only up to a quarter of the memory's maximum
 * (`OWNED_TOP_MAX`). The rule that makes this safe: no view of the range ever leaves the owner,
 * and the owner touches none of its views after releasing it.
 */
export function allocateOwnedPayloadMemory(owner: object, byteLength: number): PayloadRange | null {
  const w = wasmPayload();
  if (w === null) return null;
  const size = roundUp(byteLength);
  const at = freeBySize.get(size)?.pop();
  let range: PayloadRange | null;
  if (at !== undefined) {
    range = rangeAt(w, at);
    new Uint8Array(range.buffer, at, size).fill(0);
  } else {
    if (arenaTop + size > OWNED_TOP_MAX) return null;
    range = allocatePayloadMemory(size);
    if (range === null) return null;
  }
  let ranges = ownedRanges.get(owner);
  if (ranges === undefined) {
    ranges = [];
    ownedRanges.set(owner, ranges);
    collected.register(owner, ranges, owner);
  }
  ranges.push(range.byteOffset, size);
  return range;
}

/** Gives back every range `owner` took with `allocateOwnedPayloadMemory` (it views none of them again). */
export function releasePayloadMemory(owner: object): void {
  const ranges = ownedRanges.get(owner);
  if (ranges === undefined) return;
  ownedRanges.delete(owner);
  collected.unregister(owner);
  recycle(ranges);
}

function recycle(ranges: number[]): void {
  for (let i = 0; i < ranges.length; i += 2) {
    const size = ranges[i + 1]!;
    let list = freeBySize.get(size);
    if (list === undefined) freeBySize.set(size, (list = []));
    list.push(ranges[i]!);
  }
}

function roundUp(byteLength: number): number {
  return (byteLength + ARENA_ALIGN - 1) & ~(ARENA_ALIGN - 1);
}

/** Address `at` over the memory's buffer at its current size (noted as ours). */
function rangeAt(w: WasmPayload, at: number): PayloadRange {
  const buffer = w.memory.buffer;
  arenaBuffers.add(buffer);
  return { buffer, byteOffset: at };
}
