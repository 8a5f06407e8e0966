/**
 * An interpreter for verified eBPF programs (instructions.ts; RFC 9669 semantics). 64-bit
 * registers are pairs of int32 (low and high halves in two Int32Arrays): no BigInt and no
 * allocation per run, so a program can run on every received frame.
 *
 * Memory is three regions at fixed 32-bit addresses, so pointers are ordinary register values a
 * program can add to and compare (the packet bounds checks every XDP program makes):
 * - the packet `[PACKET_BASE, PACKET_BASE + length)`, readable and writable (XDP may rewrite);
 * - the 512-byte stack `[STACK_BASE, STACK_BASE + 512)`, r10 pointing at its end, zero at each run's
 *   start (what the previous run wrote is cleared, so no packet's bytes carry over);
 * - the context (for XDP: struct xdp_md) at CONTEXT_BASE, read-only.
 * Every load and store is checked against them at run time; any other address aborts the run
 * (the kernel's verifier would have refused the program; we refuse the packet instead).
 */
import { FRAME_POINTER, REGISTER_COUNT, type BpfProgram } from './instructions.js';

export const PACKET_BASE = 0x1000_0000;
export const STACK_BASE = 0x2000_0000;
export const CONTEXT_BASE = 0x3000_0000;
/** RFC 9669 / kernel MAX_BPF_STACK. */
export const STACK_BYTES = 512;
/** `run()`'s result when the program was stopped (out-of-bounds access). */
export const RUN_ABORTED = -1;

/** Why the last run aborted (no strings on the packet path: a code, named by `abortReasonText`). */
export enum BpfAbort {
  None = 0,
  /** A load outside the packet, stack and context. */
  LoadOutOfBounds = 1,
  /** A store outside the packet and stack (the context is read-only). */
  StoreOutOfBounds = 2,
}

export function abortReasonText(reason: BpfAbort): string {
  return ['none', 'load out of bounds', 'store out of bounds'][reason] ?? `abort ${reason}`;
}

const TWO_32 = 4294967296;
/** Access bytes by the size field (opcode bits 3..4): W, H, B, DW. */
const SIZE_BYTES = new Uint8Array([4, 2, 1, 8]);
const EMPTY = new Uint8Array(0);

export interface BpfVmOptions {
  /** Bytes of the context structure (read-only, at CONTEXT_BASE). */
  contextBytes: number;
  /** bpf_ktime_get_ns: nanoseconds of a monotonic clock (default: performance.now()). */
  clockNs?: () => number;
  /** Seed of bpf_get_prandom_u32 (xorshift32; 0 is replaced). */
  seed?: number;
}

export class BpfVm {
  /** Register halves r0..r10. */
  readonly lo = new Int32Array(REGISTER_COUNT);
  readonly hi = new Int32Array(REGISTER_COUNT);
  readonly stack = new Uint8Array(STACK_BYTES);
  /** The context structure; the caller fills it before `run`. */
  readonly context: Uint8Array;
  /** Why the last run aborted and at which instruction. */
  abortReason = BpfAbort.None;
  abortPc = -1;
  /** Instructions the last run executed (set when it exits; not on an abort). */
  steps = 0;

  /** Lowest stack byte written since the stack was last zeroed. */
  private stackLow = STACK_BYTES;
  private packet: Uint8Array = EMPTY;
  private packetLength = 0;
  private readonly clockNs: () => number;
  private random: number;
  // Results of the memory and arithmetic helpers (no tuples: nothing allocated per instruction).
  private mem: Uint8Array = EMPTY;
  private index = 0;
  private outLo = 0;
  private outHi = 0;

  constructor(
    readonly program: BpfProgram,
    options: BpfVmOptions,
  ) {
    this.context = new Uint8Array(options.contextBytes);
    this.clockNs = options.clockNs ?? (() => performance.now() * 1e6);
    this.random = options.seed ? options.seed | 0 : 0x2545f491;
  }

  /** The packet the next runs see (a view over a frame buffer: no copy). */
  setPacket(bytes: Uint8Array, length: number): void {
    this.packet = bytes;
    this.packetLength = Math.min(length, bytes.length);
  }

  /**
   * Runs the program from instruction 0 with r1 = the context pointer. Returns r0's low 32 bits
   * (unsigned), or RUN_ABORTED with `abortReason`/`abortPc` set.
   */
  run(): number {
    const p = this.program;
    const ops = p.opcode;
    const dsts = p.dst;
    const srcs = p.src;
    const offs = p.offset;
    const imms = p.imm;
    const lo = this.lo;
    const hi = this.hi;
    for (let r = 0; r < REGISTER_COUNT; r++) {
      lo[r] = 0;
      hi[r] = 0;
    }
    // Zero what the last run wrote of the stack (from its lowest store up), not all 512 bytes.
    const stack = this.stack;
    for (let i = this.stackLow; i < STACK_BYTES; i++) stack[i] = 0;
    this.stackLow = STACK_BYTES;
    lo[1] = CONTEXT_BASE;
    lo[FRAME_POINTER] = STACK_BASE + STACK_BYTES;
    this.abortReason = BpfAbort.None;
    this.abortPc = -1;
    let pc = 0;
    let steps = 0;
    for (;;) {
      steps++;
      const op = ops[pc]!;
      const d = dsts[pc]!;
      // The instructions compiled packet parsers run most, inline (the general cases below
      // compute the same results through the helper methods).
      switch (op) {
        case 0xb7: {
          // mov64 dst, imm
          const k = imms[pc]!;
          lo[d] = k;
          hi[d] = k >> 31;
          pc++;
          continue;
        }
        case 0xbf: {
          // mov64 dst, src
          const s = srcs[pc]!;
          lo[d] = lo[s]!;
          hi[d] = hi[s]!;
          pc++;
          continue;
        }
        case 0x07: {
          // add64 dst, imm
          const k = imms[pc]!;
          const l = (lo[d]! >>> 0) + (k >>> 0);
          lo[d] = l | 0;
          hi[d] = (hi[d]! + (k >> 31) + (l > 0xffffffff ? 1 : 0)) | 0;
          pc++;
          continue;
        }
        case 0x0f: {
          // add64 dst, src
          const s = srcs[pc]!;
          const l = (lo[d]! >>> 0) + (lo[s]! >>> 0);
          lo[d] = l | 0;
          hi[d] = (hi[d]! + hi[s]! + (l > 0xffffffff ? 1 : 0)) | 0;
          pc++;
          continue;
        }
        case 0x15:
        case 0x55: {
          // jeq/jne dst, imm
          const k = imms[pc]!;
          const equal = lo[d] === k && hi[d] === k >> 31;
          pc += equal === (op === 0x15) ? 1 + offs[pc]! : 1;
          continue;
        }
        case 0x71:
        case 0x69:
        case 0x61: {
          // ldxb/ldxh/ldxw from the packet (header fields); other regions take the general path.
          const s = srcs[pc]!;
          const size = op === 0x71 ? 1 : op === 0x69 ? 2 : 4;
          const i = (lo[s]! >>> 0) + offs[pc]! - PACKET_BASE;
          if (hi[s] === 0 && i >= 0 && i + size <= this.packetLength) {
            const m = this.packet;
            lo[d] =
              size === 1
                ? m[i]!
                : size === 2
                  ? m[i]! | (m[i + 1]! << 8)
                  : m[i]! | (m[i + 1]! << 8) | (m[i + 2]! << 16) | (m[i + 3]! << 24);
            hi[d] = 0;
            pc++;
            continue;
          }
          break;
        }
        case 0x2d: {
          // jgt dst, src (the `data + n > data_end` bounds check)
          const s = srcs[pc]!;
          pc += ugt64(lo[d]!, hi[d]!, lo[s]!, hi[s]!) ? 1 + offs[pc]! : 1;
          continue;
        }
      }
      switch (op & 0x07) {
        case 0x07: {
          // ALU64 (RFC 9669 4.1): operand src or sign-extended imm.
          let bl: number;
          let bh: number;
          if (op & 0x08) {
            bl = lo[srcs[pc]!]!;
            bh = hi[srcs[pc]!]!;
          } else {
            bl = imms[pc]!;
            bh = bl >> 31;
          }
          this.alu64(op & 0xf0, d, bl, bh);
          pc++;
          break;
        }
        case 0x04: {
          // ALU (32-bit): the result's upper half is zeroed.
          const b = op & 0x08 ? lo[srcs[pc]!]! : imms[pc]!;
          this.alu32(op & 0xf0, op & 0x08, d, b, imms[pc]!);
          pc++;
          break;
        }
        case 0x05:
        case 0x06: {
          const code = op & 0xf0;
          if (code === 0x90) {
            this.steps = steps;
            return lo[0]! >>> 0; // EXIT
          }
          if (code === 0x80) {
            this.call(imms[pc]!);
            pc++;
            break;
          }
          if (code === 0x00) {
            pc += 1 + offs[pc]!; // JA
            break;
          }
          let taken: boolean;
          if (op & 0x08) {
            const s = srcs[pc]!;
            taken =
              (op & 0x07) === 0x05
                ? cmp64(code, lo[d]!, hi[d]!, lo[s]!, hi[s]!)
                : cmp32(code, lo[d]!, lo[s]!);
          } else {
            const k = imms[pc]!;
            taken = (op & 0x07) === 0x05 ? cmp64(code, lo[d]!, hi[d]!, k, k >> 31) : cmp32(code, lo[d]!, k);
          }
          pc += taken ? 1 + offs[pc]! : 1;
          break;
        }
        case 0x01: {
          // LDX MEM: zero-extending load.
          const size = SIZE_BYTES[(op >>> 3) & 3]!;
          if (!this.locate(srcs[pc]!, offs[pc]!, size, false))
            return this.abort(BpfAbort.LoadOutOfBounds, pc);
          this.load(size);
          lo[d] = this.outLo;
          hi[d] = this.outHi;
          pc++;
          break;
        }
        case 0x02:
        case 0x03: {
          // ST MEM (imm, sign-extended) / STX MEM (src register).
          const size = SIZE_BYTES[(op >>> 3) & 3]!;
          if (!this.locate(d, offs[pc]!, size, true)) return this.abort(BpfAbort.StoreOutOfBounds, pc);
          if (op & 0x01) this.store(size, lo[srcs[pc]!]!, hi[srcs[pc]!]!);
          else this.store(size, imms[pc]!, imms[pc]! >> 31);
          pc++;
          break;
        }
        default: {
          // LD_IMM64 (the only LD the verifier lets through): the second slot's imm is the high half.
          lo[d] = imms[pc]!;
          hi[d] = imms[pc + 1]!;
          pc += 2;
          break;
        }
      }
    }
  }

  private abort(reason: BpfAbort, pc: number): number {
    this.abortReason = reason;
    this.abortPc = pc;
    return RUN_ABORTED;
  }

  /** Resolves `reg + off` for a `size`-byte access into `mem`/`index`; false if out of bounds. */
  private locate(reg: number, off: number, size: number, write: boolean): boolean {
    // Every valid address is below 2^32: a pointer with a high half is out of bounds (also one
    // that went below 0, whose high half is -1).
    if (this.hi[reg] !== 0) return false;
    const addr = (this.lo[reg]! >>> 0) + off;
    if (addr >= PACKET_BASE && addr + size <= PACKET_BASE + this.packetLength) {
      this.mem = this.packet;
      this.index = addr - PACKET_BASE;
      return true;
    }
    if (addr >= STACK_BASE && addr + size <= STACK_BASE + STACK_BYTES) {
      this.mem = this.stack;
      this.index = addr - STACK_BASE;
      if (write && this.index < this.stackLow) this.stackLow = this.index;
      return true;
    }
    if (!write && addr >= CONTEXT_BASE && addr + size <= CONTEXT_BASE + this.context.length) {
      this.mem = this.context;
      this.index = addr - CONTEXT_BASE;
      return true;
    }
    return false;
  }

  /** Little-endian load (the byte order of `-target bpf` on little-endian hosts). */
  private load(size: number): void {
    const m = this.mem;
    const i = this.index;
    switch (size) {
      case 1:
        this.outLo = m[i]!;
        this.outHi = 0;
        return;
      case 2:
        this.outLo = m[i]! | (m[i + 1]! << 8);
        this.outHi = 0;
        return;
      case 4:
        this.outLo = m[i]! | (m[i + 1]! << 8) | (m[i + 2]! << 16) | (m[i + 3]! << 24);
        this.outHi = 0;
        return;
      default:
        this.outLo = m[i]! | (m[i + 1]! << 8) | (m[i + 2]! << 16) | (m[i + 3]! << 24);
        this.outHi = m[i + 4]! | (m[i + 5]! << 8) | (m[i + 6]! << 16) | (m[i + 7]! << 24);
    }
  }

  private store(size: number, vlo: number, vhi: number): void {
    const m = this.mem;
    const i = this.index;
    m[i] = vlo;
    if (size === 1) return;
    m[i + 1] = vlo >>> 8;
    if (size === 2) return;
    m[i + 2] = vlo >>> 16;
    m[i + 3] = vlo >>> 24;
    if (size === 4) return;
    m[i + 4] = vhi;
    m[i + 5] = vhi >>> 8;
    m[i + 6] = vhi >>> 16;
    m[i + 7] = vhi >>> 24;
  }

  /** The helpers verifyProgram lets through (instructions.ts SUPPORTED_HELPERS); result in r0. */
  private call(id: number): void {
    let rlo = 0;
    let rhi = 0;
    if (id === 5) {
      // bpf_ktime_get_ns
      const ns = Math.max(0, Math.floor(this.clockNs()));
      rlo = (ns % TWO_32) | 0;
      rhi = Math.floor(ns / TWO_32) | 0;
    } else if (id === 7) {
      // bpf_get_prandom_u32: xorshift32
      let x = this.random;
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      this.random = x;
      rlo = x;
    } // 8, bpf_get_smp_processor_id: 0
    this.lo[0] = rlo;
    this.hi[0] = rhi;
  }

  private alu64(code: number, d: number, bl: number, bh: number): void {
    const lo = this.lo;
    const hi = this.hi;
    const al = lo[d]!;
    const ah = hi[d]!;
    switch (code) {
      case 0x00: {
        // ADD
        const l = (al >>> 0) + (bl >>> 0);
        lo[d] = l | 0;
        hi[d] = (ah + bh + (l > 0xffffffff ? 1 : 0)) | 0;
        return;
      }
      case 0x10: {
        // SUB
        const l = (al >>> 0) - (bl >>> 0);
        lo[d] = l | 0;
        hi[d] = (ah - bh - (l < 0 ? 1 : 0)) | 0;
        return;
      }
      case 0x20:
        this.mul64(al, ah, bl, bh);
        lo[d] = this.outLo;
        hi[d] = this.outHi;
        return;
      case 0x30:
        // DIV (unsigned); RFC 9669 4.1: division by zero gives 0.
        if (bl === 0 && bh === 0) {
          lo[d] = 0;
          hi[d] = 0;
          return;
        }
        this.divmod64(al, ah, bl, bh, false);
        lo[d] = this.outLo;
        hi[d] = this.outHi;
        return;
      case 0x90:
        // MOD (unsigned); modulo by zero leaves dst unchanged (ALU64).
        if (bl === 0 && bh === 0) return;
        this.divmod64(al, ah, bl, bh, true);
        lo[d] = this.outLo;
        hi[d] = this.outHi;
        return;
      case 0x40:
        lo[d] = al | bl;
        hi[d] = ah | bh;
        return;
      case 0x50:
        lo[d] = al & bl;
        hi[d] = ah & bh;
        return;
      case 0xa0:
        lo[d] = al ^ bl;
        hi[d] = ah ^ bh;
        return;
      case 0xb0:
        lo[d] = bl;
        hi[d] = bh;
        return;
      case 0x80: {
        // NEG: ~x + 1
        const l = ~al + 1;
        lo[d] = l | 0;
        hi[d] = (~ah + (al === 0 ? 1 : 0)) | 0;
        return;
      }
      case 0x60: {
        // LSH: the shift count is masked to 6 bits (RFC 9669 4.1).
        const n = bl & 63;
        if (n === 0) return;
        if (n < 32) {
          hi[d] = (ah << n) | (al >>> (32 - n));
          lo[d] = al << n;
        } else {
          hi[d] = al << (n - 32);
          lo[d] = 0;
        }
        return;
      }
      case 0x70: {
        // RSH (logical)
        const n = bl & 63;
        if (n === 0) return;
        if (n < 32) {
          lo[d] = (al >>> n) | (ah << (32 - n));
          hi[d] = ah >>> n;
        } else {
          lo[d] = ah >>> (n - 32);
          hi[d] = 0;
        }
        return;
      }
      case 0xc0: {
        // ARSH (sign-filling)
        const n = bl & 63;
        if (n === 0) return;
        if (n < 32) {
          lo[d] = (al >>> n) | (ah << (32 - n));
          hi[d] = ah >> n;
        } else {
          lo[d] = ah >> (n - 32);
          hi[d] = ah >> 31;
        }
        return;
      }
      // END is 32-bit class only (the verifier refuses ALU64 END).
    }
  }

  private alu32(code: number, fromRegister: number, d: number, b: number, imm: number): void {
    const lo = this.lo;
    const a = lo[d]!;
    let r: number;
    switch (code) {
      case 0x00:
        r = a + b;
        break;
      case 0x10:
        r = a - b;
        break;
      case 0x20:
        r = Math.imul(a, b);
        break;
      case 0x30:
        r = b === 0 ? 0 : Math.floor((a >>> 0) / (b >>> 0));
        break;
      case 0x90:
        // Modulo by zero keeps dst's low half; as for every 32-bit op the upper half is zeroed.
        r = b === 0 ? a : (a >>> 0) % (b >>> 0);
        break;
      case 0x40:
        r = a | b;
        break;
      case 0x50:
        r = a & b;
        break;
      case 0xa0:
        r = a ^ b;
        break;
      case 0xb0:
        r = b;
        break;
      case 0x80:
        r = -a;
        break;
      case 0x60:
        r = a << (b & 31);
        break;
      case 0x70:
        r = a >>> (b & 31);
        break;
      case 0xc0:
        r = a >> (b & 31);
        break;
      default: {
        // END (RFC 9669 4.2): the source bit picks the order; imm is the width. Our byte order is
        // little-endian, so to-LE only truncates and to-BE swaps.
        const big = fromRegister !== 0;
        if (imm === 16) {
          lo[d] = big ? ((a & 0xff) << 8) | ((a >>> 8) & 0xff) : a & 0xffff;
        } else if (imm === 32) {
          lo[d] = big ? bswap32(a) : a;
        } else if (big) {
          const h = this.hi[d]!;
          lo[d] = bswap32(h);
          this.hi[d] = bswap32(a);
          return;
        } else return; // to-LE 64: unchanged
        this.hi[d] = 0;
        return;
      }
    }
    lo[d] = r | 0;
    this.hi[d] = 0;
  }

  /** Low 64 bits of a 64x64 product in 16-bit limbs (each partial product exact in a double). */
  private mul64(al: number, ah: number, bl: number, bh: number): void {
    const a48 = ah >>> 16;
    const a32 = ah & 0xffff;
    const a16 = al >>> 16;
    const a00 = al & 0xffff;
    const b48 = bh >>> 16;
    const b32 = bh & 0xffff;
    const b16 = bl >>> 16;
    const b00 = bl & 0xffff;
    let c00 = a00 * b00;
    let c16 = c00 >>> 16;
    c00 &= 0xffff;
    c16 += a16 * b00;
    let c32 = c16 >>> 16;
    c16 &= 0xffff;
    c16 += a00 * b16;
    c32 += c16 >>> 16;
    c16 &= 0xffff;
    c32 += a32 * b00;
    let c48 = c32 >>> 16;
    c32 &= 0xffff;
    c32 += a16 * b16;
    c48 += c32 >>> 16;
    c32 &= 0xffff;
    c32 += a00 * b32;
    c48 += c32 >>> 16;
    c32 &= 0xffff;
    c48 += a48 * b00 + a32 * b16 + a16 * b32 + a00 * b48;
    c48 &= 0xffff;
    this.outLo = (c16 << 16) | c00;
    this.outHi = (c48 << 16) | c32;
  }

  /** Unsigned 64-bit a / b or a % b (b != 0): 32-bit fast path, else shift-subtract. */
  private divmod64(al: number, ah: number, bl: number, bh: number, remainder: boolean): void {
    if (ah === 0 && bh === 0) {
      const a = al >>> 0;
      const b = bl >>> 0;
      this.outLo = (remainder ? a % b : Math.floor(a / b)) | 0;
      this.outHi = 0;
      return;
    }
    let ql = 0;
    let qh = 0;
    let rl = 0;
    let rh = 0;
    for (let i = 63; i >= 0; i--) {
      const carry = rh >>> 31; // r's bit 63 before the shift: then r >= 2^64 > b
      const bit = i >= 32 ? (ah >>> (i - 32)) & 1 : (al >>> i) & 1;
      rh = (rh << 1) | (rl >>> 31);
      rl = (rl << 1) | bit;
      if (carry !== 0 || uge64(rl, rh, bl, bh)) {
        const l = (rl >>> 0) - (bl >>> 0);
        rh = (rh - bh - (l < 0 ? 1 : 0)) | 0;
        rl = l | 0;
        if (i >= 32) qh |= 1 << (i - 32);
        else ql |= 1 << i;
      }
    }
    this.outLo = remainder ? rl : ql;
    this.outHi = remainder ? rh : qh;
  }
}

function bswap32(x: number): number {
  return ((x & 0xff) << 24) | ((x & 0xff00) << 8) | ((x >>> 8) & 0xff00) | (x >>> 24);
}

function uge64(al: number, ah: number, bl: number, bh: number): boolean {
  const ahu = ah >>> 0;
  const bhu = bh >>> 0;
  return ahu > bhu || (ahu === bhu && al >>> 0 >= bl >>> 0);
}

function ugt64(al: number, ah: number, bl: number, bh: number): boolean {
  const ahu = ah >>> 0;
  const bhu = bh >>> 0;
  return ahu > bhu || (ahu === bhu && al >>> 0 > bl >>> 0);
}

function sgt64(al: number, ah: number, bl: number, bh: number): boolean {
  return ah > bh || (ah === bh && al >>> 0 > bl >>> 0);
}

function sge64(al: number, ah: number, bl: number, bh: number): boolean {
  return ah > bh || (ah === bh && al >>> 0 >= bl >>> 0);
}

/** RFC 9669 4.3 conditions on 64-bit operands (halves as int32). */
function cmp64(code: number, al: number, ah: number, bl: number, bh: number): boolean {
  switch (code) {
    case 0x10:
      return al === bl && ah === bh;
    case 0x50:
      return al !== bl || ah !== bh;
    case 0x20:
      return ugt64(al, ah, bl, bh);
    case 0x30:
      return uge64(al, ah, bl, bh);
    case 0xa0:
      return !uge64(al, ah, bl, bh);
    case 0xb0:
      return !ugt64(al, ah, bl, bh);
    case 0x60:
      return sgt64(al, ah, bl, bh);
    case 0x70:
      return sge64(al, ah, bl, bh);
    case 0xc0:
      return !sge64(al, ah, bl, bh);
    case 0xd0:
      return !sgt64(al, ah, bl, bh);
    default:
      return ((al & bl) | (ah & bh)) !== 0; // JSET
  }
}

/** The same conditions on the low 32 bits (JMP32). */
function cmp32(code: number, a: number, b: number): boolean {
  switch (code) {
    case 0x10:
      return a === b;
    case 0x50:
      return a !== b;
    case 0x20:
      return a >>> 0 > b >>> 0;
    case 0x30:
      return a >>> 0 >= b >>> 0;
    case 0xa0:
      return a >>> 0 < b >>> 0;
    case 0xb0:
      return a >>> 0 <= b >>> 0;
    case 0x60:
      return a > b;
    case 0x70:
      return a >= b;
    case 0xc0:
      return a < b;
    case 0xd0:
      return a <= b;
    default:
      return (a & b) !== 0;
  }
}
