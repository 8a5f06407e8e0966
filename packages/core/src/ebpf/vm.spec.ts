import { expect } from 'chai';
import fc from 'fast-check';
import { PacketBuffer } from '../hw/packet-buffer.js';
import { HookVerdict } from '../pipeline/hooks.js';
import { allocatedBy } from '../util/allocation-meter.js';
import { BpfVerifyError, programOf, verifyProgram } from './instructions.js';
import { BpfAbort, BpfVm, RUN_ABORTED, STACK_BYTES } from './vm.js';
import { XdpModule } from './xdp-module.js';

type Insn = readonly [number, number, number, number, number];
// Hand assembly (RFC 9669): class | op | source bit.
const ALU64 = 0x07;
const ALU32 = 0x04;
const X = 0x08;
const op = {
  add: 0x00,
  sub: 0x10,
  mul: 0x20,
  div: 0x30,
  or: 0x40,
  and: 0x50,
  lsh: 0x60,
  rsh: 0x70,
  neg: 0x80,
  mod: 0x90,
  xor: 0xa0,
  mov: 0xb0,
  arsh: 0xc0,
  end: 0xd0,
} as const;
const aluK = (cls: number, o: number, dst: number, imm: number): Insn => [cls | o, dst, 0, 0, imm];
const aluX = (cls: number, o: number, dst: number, src: number): Insn => [cls | o | X, dst, src, 0, 0];
const lddw = (dst: number, v: bigint): Insn[] => [
  [0x18, dst, 0, 0, Number(BigInt.asIntN(32, v))],
  [0, 0, 0, 0, Number(BigInt.asIntN(32, v >> 32n))],
];
const EXIT: Insn = [0x95, 0, 0, 0, 0];
const jmp = (cls: 0x05 | 0x06, code: number, dst: number, imm: number, off: number): Insn => [
  cls | code,
  dst,
  0,
  off,
  imm,
];

/** Runs a program and returns r0 as an unsigned 64-bit BigInt (the test's reference type). */
function r0Of(insns: Insn[], vm?: BpfVm): bigint {
  const m = vm ?? new BpfVm(verifyProgram(programOf(insns)), { contextBytes: 20 });
  expect(m.run()).to.not.equal(RUN_ABORTED);
  return (BigInt(m.hi[0]! >>> 0) << 32n) | BigInt(m.lo[0]! >>> 0);
}

const u64 = (v: bigint): bigint => BigInt.asUintN(64, v);
const u32 = (v: bigint): bigint => BigInt.asUintN(32, v);

describe('ebpf/vm: the eBPF interpreter', () => {
  it('64-bit arithmetic matches a BigInt reference (add, sub, mul, div, mod, or, and, xor, shifts, neg)', () => {
    const ops: [number, (a: bigint, b: bigint) => bigint][] = [
      [op.add, (a, b) => a + b],
      [op.sub, (a, b) => a - b],
      [op.mul, (a, b) => a * b],
      [op.div, (a, b) => (b === 0n ? 0n : a / b)],
      [op.mod, (a, b) => (b === 0n ? a : a % b)],
      [op.or, (a, b) => a | b],
      [op.and, (a, b) => a & b],
      [op.xor, (a, b) => a ^ b],
      [op.lsh, (a, b) => a << (b & 63n)],
      [op.rsh, (a, b) => a >> (b & 63n)],
      [op.arsh, (a, b) => BigInt.asIntN(64, a) >> (b & 63n)],
      [op.neg, (a) => -a],
    ];
    const value = fc.oneof(
      fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
      fc.bigInt({ min: 0n, max: 2n ** 32n }),
      fc.constantFrom(0n, 1n, 2n ** 63n, 2n ** 64n - 1n, 2n ** 32n - 1n),
    );
    fc.assert(
      fc.property(value, value, fc.nat(ops.length - 1), (a, b, k) => {
        const [o, ref] = ops[k]!;
        const got = r0Of([...lddw(0, a), ...lddw(1, b), aluX(ALU64, o, 0, 1), EXIT]);
        expect(got, `0x${a.toString(16)} op${o.toString(16)} 0x${b.toString(16)}`).to.equal(u64(ref(a, b)));
      }),
      { numRuns: 2000 },
    );
  });

  it('32-bit arithmetic uses the low halves and zeroes the upper half', () => {
    const ops: [number, (a: bigint, b: bigint) => bigint][] = [
      [op.add, (a, b) => a + b],
      [op.sub, (a, b) => a - b],
      [op.mul, (a, b) => a * b],
      [op.div, (a, b) => (b === 0n ? 0n : a / b)],
      [op.mod, (a, b) => (b === 0n ? a : a % b)],
      [op.lsh, (a, b) => a << (b & 31n)],
      [op.rsh, (a, b) => a >> (b & 31n)],
      [op.arsh, (a, b) => BigInt.asIntN(32, a) >> (b & 31n)],
      [op.xor, (a, b) => a ^ b],
      [op.mov, (_a, b) => b],
    ];
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
        fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
        fc.nat(ops.length - 1),
        (a, b, k) => {
          const [o, ref] = ops[k]!;
          const got = r0Of([...lddw(0, a), ...lddw(1, b), aluX(ALU32, o, 0, 1), EXIT]);
          expect(got).to.equal(u32(ref(u32(a), u32(b))));
        },
      ),
      { numRuns: 1000 },
    );
    expect(r0Of([...lddw(0, 2n ** 64n - 1n), aluK(ALU32, op.add, 0, 1), EXIT])).to.equal(0n);
    expect(r0Of([...lddw(0, 2n ** 64n - 1n), aluK(ALU32, op.mov, 0, -1), EXIT])).to.equal(0xffffffffn);
  });

  it('immediate operands are sign-extended to 64 bits (add, mov, jeq, jne against a BigInt reference)', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
        fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
        (a, k) => {
          const K = BigInt(k);
          expect(r0Of([...lddw(0, a), aluK(ALU64, op.add, 0, k), EXIT])).to.equal(u64(a + K));
          expect(r0Of([...lddw(0, a), aluK(ALU64, op.mov, 0, k), EXIT])).to.equal(u64(K));
          for (const code of [0x10, 0x50]) {
            const taken = r0Of([
              ...lddw(1, a),
              aluK(ALU64, op.mov, 0, 1),
              jmp(0x05, code, 1, k, 1),
              aluK(ALU64, op.mov, 0, 0),
              EXIT,
            ]);
            expect(taken === 1n).to.equal((a === u64(K)) === (code === 0x10));
          }
        },
      ),
      { numRuns: 500 },
    );
    expect(
      r0Of([
        ...lddw(1, 2n ** 64n - 5n),
        aluK(ALU64, op.mov, 0, 1),
        jmp(0x05, 0x10, 1, -5, 1),
        aluK(ALU64, op.mov, 0, 0),
        EXIT,
      ]),
    ).to.equal(1n);
  });

  it('masks shift counts (64-bit: 6 bits, 32-bit: 5 bits) and sign-extends 64-bit immediates', () => {
    expect(r0Of([aluK(ALU64, op.mov, 0, 1), aluK(ALU64, op.lsh, 0, 65), EXIT])).to.equal(2n);
    expect(r0Of([aluK(ALU32, op.mov, 0, 1), aluK(ALU32, op.lsh, 0, 33), EXIT])).to.equal(2n);
    expect(r0Of([aluK(ALU64, op.mov, 0, -2), EXIT])).to.equal(2n ** 64n - 2n);
    expect(r0Of([aluK(ALU32, op.mov, 0, -2), EXIT])).to.equal(2n ** 32n - 2n);
  });

  it('division by zero gives 0; modulo by zero keeps dst (64-bit whole, 32-bit with the upper half zeroed)', () => {
    const big = 0x5_0000_0007n;
    expect(r0Of([...lddw(0, big), aluK(ALU64, op.div, 0, 0), EXIT])).to.equal(0n);
    expect(r0Of([...lddw(0, big), aluX(ALU64, op.mod, 0, 2), EXIT]), 'r2 is 0').to.equal(big);
    expect(r0Of([...lddw(0, big), aluK(ALU32, op.div, 0, 0), EXIT])).to.equal(0n);
    expect(r0Of([...lddw(0, big), aluX(ALU32, op.mod, 0, 2), EXIT])).to.equal(7n);
  });

  it('byte swaps: to-BE swaps 16/32/64 bits, to-LE truncates (little-endian host order)', () => {
    const v = 0x1122334455667788n;
    const end = (toBe: boolean, width: number): Insn => [ALU32 | op.end | (toBe ? X : 0), 0, 0, 0, width];
    expect(r0Of([...lddw(0, v), end(true, 16), EXIT])).to.equal(0x8877n);
    expect(r0Of([...lddw(0, v), end(true, 32), EXIT])).to.equal(0x88776655n);
    expect(r0Of([...lddw(0, v), end(true, 64), EXIT])).to.equal(0x8877665544332211n);
    expect(r0Of([...lddw(0, v), end(false, 16), EXIT])).to.equal(0x7788n);
    expect(r0Of([...lddw(0, v), end(false, 32), EXIT])).to.equal(0x55667788n);
    expect(r0Of([...lddw(0, v), end(false, 64), EXIT])).to.equal(v);
  });

  it('jumps: unsigned and signed conditions differ on negative values; JMP32 ignores the upper half', () => {
    // r0 = 1; if cond(r1, k) skip the "r0 = 0"; exit
    const cond = (cls: 0x05 | 0x06, code: number, r1: bigint, k: number): bigint =>
      r0Of([
        ...lddw(1, r1),
        aluK(ALU64, op.mov, 0, 1),
        jmp(cls, code, 1, k, 1),
        aluK(ALU64, op.mov, 0, 0),
        EXIT,
      ]);
    const minus1 = 2n ** 64n - 1n;
    expect(cond(0x05, 0x20, minus1, 1), 'JGT unsigned: -1 > 1').to.equal(1n);
    expect(cond(0x05, 0x60, minus1, 1), 'JSGT signed: -1 > 1').to.equal(0n);
    expect(cond(0x05, 0xc0, minus1, 0), 'JSLT -1 < 0').to.equal(1n);
    expect(cond(0x05, 0xa0, minus1, 0), 'JLT unsigned -1 < 0').to.equal(0n);
    expect(cond(0x05, 0x30, 5n, 5), 'JGE').to.equal(1n);
    expect(cond(0x05, 0xb0, 6n, 5), 'JLE').to.equal(0n);
    expect(cond(0x05, 0x70, minus1, -1), 'JSGE').to.equal(1n);
    expect(cond(0x05, 0xd0, 0n, -1), 'JSLE 0 <= -1').to.equal(0n);
    expect(cond(0x05, 0x40, 0x1_0000_0000n, 1), 'JSET').to.equal(0n);
    expect(cond(0x05, 0x50, 0x1_0000_0000n, 0), 'JNE 64').to.equal(1n);
    expect(cond(0x05, 0x10, 0x1_0000_0000n, 0), 'JEQ 64').to.equal(0n);
    expect(cond(0x06, 0x10, 0x1_0000_0000n, 0), 'JEQ 32: upper half ignored').to.equal(1n);
    expect(cond(0x06, 0x60, 0xffff_ffffn, 1), 'JSGT 32: 0xffffffff is -1').to.equal(0n);
    expect(cond(0x06, 0x20, 0xffff_ffffn, 1), 'JGT 32 unsigned').to.equal(1n);
  });

  it('loads and stores 1/2/4/8 bytes on the stack; out of bounds aborts', () => {
    // *(u64 *)(r10 - 8) = r1; r0 = *(u32 *)(r10 - 4)
    const v = 0x1122334455667788n;
    expect(r0Of([...lddw(1, v), [0x7b, 10, 1, -8, 0], [0x61, 0, 10, -4, 0], EXIT])).to.equal(0x11223344n);
    expect(r0Of([[0x72, 10, 0, -1, 0x1ff], [0x71, 0, 10, -1, 0], EXIT]), 'ST byte truncates').to.equal(0xffn);
    expect(r0Of([[0x6a, 10, 0, -2, 0xabcd], [0x69, 0, 10, -2, 0], EXIT])).to.equal(0xabcdn);
    expect(r0Of([[0x7a, 10, 0, -8, -1], [0x79, 0, 10, -8, 0], EXIT]), 'ST DW sign-extends').to.equal(
      2n ** 64n - 1n,
    );
    const vm = new BpfVm(verifyProgram(programOf([[0x79, 0, 10, -STACK_BYTES - 8, 0], EXIT])), {
      contextBytes: 20,
    });
    expect(vm.run()).to.equal(RUN_ABORTED);
    expect(vm.abortReason).to.equal(BpfAbort.LoadOutOfBounds);
    expect(vm.abortPc).to.equal(0);
    // r0 = *(u64 *)(r10 - 8); *(u64 *)(r10 - 8) = 7: a second run must not see the first's store.
    const twice = new BpfVm(verifyProgram(programOf([[0x79, 0, 10, -8, 0], [0x7a, 10, 0, -8, 7], EXIT])), {
      contextBytes: 20,
    });
    expect(r0Of([], twice)).to.equal(0n);
    expect(r0Of([], twice), 'the stack is zero at each run').to.equal(0n);
    const over = new BpfVm(verifyProgram(programOf([[0x7a, 10, 0, -4, 0], EXIT])), { contextBytes: 20 });
    expect(over.run(), 'an 8-byte store crossing the top of the stack').to.equal(RUN_ABORTED);
    expect(over.abortReason).to.equal(BpfAbort.StoreOutOfBounds);
  });

  it('helpers: bpf_ktime_get_ns returns the clock as 64 bits; bpf_get_prandom_u32 varies', () => {
    const vm = new BpfVm(verifyProgram(programOf([[0x85, 0, 0, 0, 5], EXIT])), {
      contextBytes: 20,
      clockNs: () => 5 * 2 ** 32 + 3,
    });
    expect(r0Of([], vm)).to.equal(5n * 2n ** 32n + 3n);
    const rnd = new BpfVm(verifyProgram(programOf([[0x85, 0, 0, 0, 7], EXIT])), { contextBytes: 20 });
    expect(r0Of([], rnd)).to.not.equal(r0Of([], rnd));
  });

  it('the verifier refuses what the interpreter does not run, naming the instruction', () => {
    const refused = (insns: Insn[], why: RegExp): void => {
      expect(() => verifyProgram(programOf(insns)))
        .to.throw(BpfVerifyError)
        .with.property('message')
        .that.matches(why);
    };
    refused([aluK(ALU64, op.mov, 0, 0), jmp(0x05, 0x00, 0, 0, -2), EXIT], /instruction 1: jumps backwards/);
    refused([jmp(0x05, 0x10, 0, 0, 5), EXIT], /jumps to 6, outside the program/);
    refused([[0x85, 0, 0, 0, 14], EXIT], /helper id 14/);
    refused([[0x85, 0, 1, 0, 3], EXIT], /bpf-to-bpf/);
    refused([aluK(ALU64, op.mov, 10, 0), EXIT], /r10/);
    refused([[0x30, 0, 0, 0, 12], EXIT], /LD_ABS/);
    refused([[0x18, 1, 1, 0, 3], [0, 0, 0, 0, 0], EXIT], /maps and global data are not supported/);
    refused([[0xdb, 10, 1, -8, 0], EXIT], /atomic/);
    refused([[0xff, 0, 0, 0, 0], EXIT], /unknown/);
    refused([aluK(ALU64, op.mov, 0, 0)], /run off its end/);
    refused([jmp(0x05, 0x10, 0, 0, 1), ...lddw(0, 1n), EXIT], /middle of the 64-bit immediate/);
    refused([[0x3f, 0, 1, 1, 0], EXIT], /signed division/);
    refused([[ALU64 | op.end, 0, 0, 0, 16], EXIT], /bswap/);
  });
});

describe('ebpf/xdp-module: an XDP program as an ingress hook', () => {
  // r2 = ctx->data; r3 = ctx->data_end; r4 = r2 + OFF + 1; if r4 > r3 return PASS;
  // r0 = *(u8 *)(r2 + OFF) (the verdict is the packet's byte at OFF); exit
  const readByte = (offset: number, checked: boolean): Insn[] => [
    [0x61, 2, 1, 0, 0],
    [0x61, 3, 1, 4, 0],
    [0xbf, 4, 2, 0, 0],
    aluK(ALU64, op.add, 4, offset + 1),
    ...(checked ? [[0x2d, 4, 3, 2, 0] as Insn] : []),
    [0x71, 0, 2, offset, 0],
    EXIT,
    ...(checked ? [aluK(ALU64, op.mov, 0, 2), EXIT] : []),
  ];
  const frame = (length: number, fill: number): PacketBuffer => {
    const f = new PacketBuffer(256);
    f.data.fill(fill);
    f.length = length;
    return f;
  };

  it('maps the return code to verdicts; an out-of-bounds packet read aborts and drops', () => {
    const m = new XdpModule(programOf(readByte(53, false)), { name: 'read-53' });
    expect(m.ingress(frame(54, 2))).to.equal(HookVerdict.Pass);
    expect(m.ingress(frame(54, 1))).to.equal(HookVerdict.Drop);
    expect(m.ingress(frame(54, 0))).to.equal(HookVerdict.Drop);
    expect(m.ingress(frame(54, 3))).to.equal(HookVerdict.Drop);
    expect(m.ingress(frame(54, 4))).to.equal(HookVerdict.Drop);
    expect(m.ingress(frame(54, 9))).to.equal(HookVerdict.Drop);
    expect(m.ingress(frame(53, 2)), 'byte 53 is past data_end').to.equal(HookVerdict.Drop);
    expect(m.counters).to.deep.equal({
      pass: 1,
      drop: 1,
      aborted: 2,
      outOfBounds: 1,
      tx: 1,
      redirect: 1,
      unknown: 1,
    });
    expect(m.vm.abortPc).to.equal(4);
  });

  it('a program that checks data_end passes short frames instead', () => {
    const m = new XdpModule(programOf(readByte(53, true)), { name: 'checked' });
    expect(m.ingress(frame(53, 1))).to.equal(HookVerdict.Pass);
    expect(m.ingress(frame(54, 1))).to.equal(HookVerdict.Drop);
    expect(m.counters.outOfBounds).to.equal(0);
  });

  it('the context is read-only: a store to it aborts', () => {
    const m = new XdpModule(programOf([[0x62, 1, 0, 0, 0], aluK(ALU64, op.mov, 0, 2), EXIT]), { name: 'w' });
    expect(m.ingress(frame(54, 0))).to.equal(HookVerdict.Drop);
    expect(m.counters.outOfBounds).to.equal(1);
  });

  it('runs without allocating per frame (best of 3 rounds)', () => {
    const m = new XdpModule(programOf(readByte(53, true)), { name: 'alloc' });
    const f = frame(54, 2);
    const frames = 50_000;
    const run = (): void => {
      for (let i = 0; i < frames; i++) m.ingress(f);
    };
    run();
    const best = Math.min(allocatedBy(run), allocatedBy(run), allocatedBy(run));
    expect(best / frames).to.be.below(1);
  });
});
