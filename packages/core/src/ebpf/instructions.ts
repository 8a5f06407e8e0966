/**
 * The eBPF instruction set (RFC 9669, "BPF Instruction Set Architecture"): the opcode fields, the
 * decoded program as typed arrays, and the load-time checks a cheap verifier can make. What is
 * checked here is what the interpreter (vm.ts) relies on: every opcode is one it executes, every
 * register number is 0..10 and r10 (the frame pointer) is never written, every jump lands on an
 * instruction inside the program, jumps only go forward (so a program ends in at most `length`
 * steps: bounded loops need an execution budget we do not keep), the last instruction cannot fall
 * off the end, and every helper call names a helper we provide. Memory accesses are checked at
 * run time, against the packet, the stack and the context (vm.ts).
 */

/** RFC 9669 3: instruction classes, the low 3 bits of the opcode. */
export enum BpfClass {
  Ld = 0x00,
  Ldx = 0x01,
  St = 0x02,
  Stx = 0x03,
  Alu = 0x04,
  Jmp = 0x05,
  Jmp32 = 0x06,
  Alu64 = 0x07,
}

/** RFC 9669 4.1: the arithmetic operation, bits 4..7 of an ALU/ALU64 opcode. */
export enum AluOp {
  Add = 0x00,
  Sub = 0x10,
  Mul = 0x20,
  Div = 0x30,
  Or = 0x40,
  And = 0x50,
  Lsh = 0x60,
  Rsh = 0x70,
  Neg = 0x80,
  Mod = 0x90,
  Xor = 0xa0,
  Mov = 0xb0,
  Arsh = 0xc0,
  End = 0xd0,
}

/** RFC 9669 4.3: the jump operation, bits 4..7 of a JMP/JMP32 opcode. */
export enum JmpOp {
  Ja = 0x00,
  Jeq = 0x10,
  Jgt = 0x20,
  Jge = 0x30,
  Jset = 0x40,
  Jne = 0x50,
  Jsgt = 0x60,
  Jsge = 0x70,
  Call = 0x80,
  Exit = 0x90,
  Jlt = 0xa0,
  Jle = 0xb0,
  Jslt = 0xc0,
  Jsle = 0xd0,
}

/** RFC 9669 3: bit 3 of an ALU/JMP opcode: the operand is `imm` (K) or `src` (X). */
export const SOURCE_X = 0x08;
/** RFC 9669 5.1: the access size of a load/store (bits 3..4). */
export enum MemSize {
  W = 0x00,
  H = 0x08,
  B = 0x10,
  DW = 0x18,
}
/** RFC 9669 5.1: the mode of a load/store (bits 5..7); we run MEM and IMM (for LD_IMM64). */
export enum MemMode {
  Imm = 0x00,
  Abs = 0x20,
  Ind = 0x40,
  Mem = 0x60,
  Atomic = 0xc0,
}
/** The one wide instruction: `lddw dst, imm64` (two 8-byte slots). */
export const LD_IMM64 = BpfClass.Ld | MemSize.DW | MemMode.Imm;

/** Bytes of one instruction slot. */
export const INSTRUCTION_BYTES = 8;
/** Registers r0..r10; r10 is the read-only frame pointer. */
export const REGISTER_COUNT = 11;
export const FRAME_POINTER = 10;

/** Helper functions a program may call (kernel `enum bpf_func_id` numbers). */
export enum BpfHelper {
  /** u64 bpf_ktime_get_ns(void): monotonic time in ns (here: the module's clock). */
  KtimeGetNs = 5,
  /** u32 bpf_get_prandom_u32(void): a pseudo-random number (here: xorshift32, seeded per module). */
  GetPrandomU32 = 7,
  /** u32 bpf_get_smp_processor_id(void): the CPU; 0 (each data-path instance has its own module). */
  GetSmpProcessorId = 8,
}
export const SUPPORTED_HELPERS: ReadonlyMap<number, string> = new Map([
  [BpfHelper.KtimeGetNs, 'bpf_ktime_get_ns'],
  [BpfHelper.GetPrandomU32, 'bpf_get_prandom_u32'],
  [BpfHelper.GetSmpProcessorId, 'bpf_get_smp_processor_id'],
]);

/** A program the loader refuses, with the instruction index and why. */
export class BpfVerifyError extends Error {
  constructor(
    readonly pc: number,
    detail: string,
  ) {
    super(pc >= 0 ? `instruction ${pc}: ${detail}` : detail);
    this.name = 'BpfVerifyError';
  }
}

/**
 * A decoded program: one entry per 8-byte slot (the second slot of LD_IMM64 keeps its upper
 * 32 bits in `imm`). Typed arrays so the interpreter reads fields without objects.
 */
export interface BpfProgram {
  readonly length: number;
  readonly opcode: Uint8Array;
  readonly dst: Uint8Array;
  readonly src: Uint8Array;
  readonly offset: Int16Array;
  readonly imm: Int32Array;
}

/** Decodes little-endian instruction bytes (what `clang -target bpf` emits on x86 and arm64). */
export function decodeProgram(bytes: Uint8Array): BpfProgram {
  if (bytes.length === 0 || bytes.length % INSTRUCTION_BYTES !== 0)
    throw new BpfVerifyError(-1, `program size ${bytes.length} is not a positive multiple of 8 bytes`);
  const length = bytes.length / INSTRUCTION_BYTES;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const p = {
    length,
    opcode: new Uint8Array(length),
    dst: new Uint8Array(length),
    src: new Uint8Array(length),
    offset: new Int16Array(length),
    imm: new Int32Array(length),
  };
  for (let i = 0; i < length; i++) {
    const at = i * INSTRUCTION_BYTES;
    p.opcode[i] = view.getUint8(at);
    const regs = view.getUint8(at + 1);
    p.dst[i] = regs & 0x0f;
    p.src[i] = regs >>> 4;
    p.offset[i] = view.getInt16(at + 2, true);
    p.imm[i] = view.getInt32(at + 4, true);
  }
  return p;
}

/** Builds a program from instruction fields (tests and hand-assembled programs). */
export function programOf(
  instructions: readonly (readonly [opcode: number, dst: number, src: number, offset: number, imm: number])[],
): BpfProgram {
  const bytes = new Uint8Array(instructions.length * INSTRUCTION_BYTES);
  const view = new DataView(bytes.buffer);
  instructions.forEach(([op, dst, src, off, imm], i) => {
    const at = i * INSTRUCTION_BYTES;
    view.setUint8(at, op);
    view.setUint8(at + 1, (dst & 0x0f) | ((src & 0x0f) << 4));
    view.setInt16(at + 2, off, true);
    view.setInt32(at + 4, imm | 0, true);
  });
  return decodeProgram(bytes);
}

const ALU_OPS = new Set<number>([
  AluOp.Add,
  AluOp.Sub,
  AluOp.Mul,
  AluOp.Div,
  AluOp.Or,
  AluOp.And,
  AluOp.Lsh,
  AluOp.Rsh,
  AluOp.Neg,
  AluOp.Mod,
  AluOp.Xor,
  AluOp.Mov,
  AluOp.Arsh,
  AluOp.End,
]);

/**
 * The load-time checks (see the file comment). Throws `BpfVerifyError` naming the first
 * instruction that fails and why; returns the program unchanged.
 */
export function verifyProgram(p: BpfProgram): BpfProgram {
  const n = p.length;
  // Second slots of LD_IMM64: not instructions, and no jump may land on one.
  const wideTail = new Uint8Array(n);
  for (let pc = 0; pc < n; pc++) {
    if (wideTail[pc]) continue;
    const op = p.opcode[pc]!;
    const dst = p.dst[pc]!;
    const src = p.src[pc]!;
    const off = p.offset[pc]!;
    const imm = p.imm[pc]!;
    const cls = op & 0x07;
    const fail = (why: string): never => {
      throw new BpfVerifyError(pc, `${why} (opcode 0x${op.toString(16).padStart(2, '0')})`);
    };
    if (dst >= REGISTER_COUNT || src >= REGISTER_COUNT)
      fail(`register r${Math.max(dst, src)} does not exist`);
    switch (cls) {
      case BpfClass.Alu:
      case BpfClass.Alu64: {
        const code = op & 0xf0;
        if (!ALU_OPS.has(code)) fail('unknown arithmetic operation');
        if (dst === FRAME_POINTER) fail('writes r10, the read-only frame pointer');
        if (off !== 0) fail('signed division, sign-extending moves and the like (cpu v4) are not supported');
        if (code === AluOp.End) {
          if (cls === BpfClass.Alu64) fail('unconditional byte swap (cpu v4 bswap) is not supported');
          if (imm !== 16 && imm !== 32 && imm !== 64) fail(`byte swap width ${imm} is not 16, 32 or 64`);
        }
        break;
      }
      case BpfClass.Jmp:
      case BpfClass.Jmp32: {
        const code = op & 0xf0;
        if (code === JmpOp.Exit) {
          if (cls === BpfClass.Jmp32) fail('unknown jump operation');
          break;
        }
        if (code === JmpOp.Call) {
          if (cls === BpfClass.Jmp32) fail('unknown jump operation');
          if (src === 1) fail('calls to other BPF functions (bpf-to-bpf calls) are not supported');
          if (src !== 0) fail('kfunc calls are not supported');
          if (!SUPPORTED_HELPERS.has(imm))
            fail(
              `calls helper id ${imm}, which this runtime does not provide (supported: ${[
                ...SUPPORTED_HELPERS,
              ]
                .map(([id, name]) => `${id} ${name}`)
                .join(', ')})`,
            );
          break;
        }
        if (code > JmpOp.Jsle) fail('unknown jump operation');
        if (code === JmpOp.Ja && cls === BpfClass.Jmp32)
          fail('32-bit long jump (gotol, cpu v4) is not supported');
        const target = pc + 1 + off;
        if (target < 0 || target >= n) fail(`jumps to ${target}, outside the program (0..${n - 1})`);
        if (target <= pc)
          fail(`jumps backwards to ${target}: loops are not supported (unroll them: #pragma unroll)`);
        break;
      }
      case BpfClass.Ld: {
        if (op !== LD_IMM64)
          fail('legacy packet access (LD_ABS/LD_IND) is not supported; read through ctx->data');
        if (dst === FRAME_POINTER) fail('writes r10, the read-only frame pointer');
        if (src !== 0)
          fail(
            `64-bit load of a map or global (pseudo source ${src}): maps and global data are not supported`,
          );
        if (pc + 1 >= n) fail('64-bit immediate load is missing its second half');
        wideTail[pc + 1] = 1;
        break;
      }
      case BpfClass.Ldx:
      case BpfClass.St:
      case BpfClass.Stx: {
        const mode = op & 0xe0;
        if (mode === MemMode.Atomic) fail('atomic operations are not supported');
        if (mode !== MemMode.Mem) fail('unknown load/store mode');
        if (cls === BpfClass.Ldx && dst === FRAME_POINTER) fail('writes r10, the read-only frame pointer');
        break;
      }
    }
  }
  // Jump targets may not be the tail of a wide load (checked now that every tail is known).
  for (let pc = 0; pc < n; pc++) {
    const cls = p.opcode[pc]! & 0x07;
    const code = p.opcode[pc]! & 0xf0;
    if (wideTail[pc] || (cls !== BpfClass.Jmp && cls !== BpfClass.Jmp32)) continue;
    if (code === JmpOp.Call || code === JmpOp.Exit) continue;
    const target = pc + 1 + p.offset[pc]!;
    if (wideTail[target])
      throw new BpfVerifyError(pc, `jumps into the middle of the 64-bit immediate load at ${target - 1}`);
  }
  const last = n - 1;
  // Jumps only go forward, so the last instruction is reached by falling through: it must be exit.
  if (wideTail[last] || p.opcode[last] !== (BpfClass.Jmp | JmpOp.Exit))
    throw new BpfVerifyError(last, 'the program can run off its end (the last instruction is not exit)');
  return p;
}
