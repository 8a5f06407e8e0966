import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { HookVerdict } from '../pipeline/hooks.js';
import { PacketBuffer } from '../hw/packet-buffer.js';
import { loadDataPathModules, ModuleLoadError } from './module-loader.js';

describe('runtime/module-loader (config.modules)', () => {
  let dir: string;
  const file = (name: string, text: string): string => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };
  const failure = async (path: string, options?: Record<string, unknown>): Promise<ModuleLoadError> => {
    try {
      await loadDataPathModules([{ path, ...(options ? { options } : {}) }]);
    } catch (e) {
      expect(e).to.be.instanceOf(ModuleLoadError);
      expect((e as ModuleLoadError).path).to.equal(path);
      return e as ModuleLoadError;
    }
    throw new Error('expected a ModuleLoadError');
  };

  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'flextoe-modules-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('makes each module from createModule(options) or the default export, in order, options copied', async () => {
    const a = file(
      'a.mjs',
      'export function createModule(o) { o.seen = true; return { name: "a-" + o.tag, ingress: () => 1 }; }',
    );
    const b = file('b.mjs', 'export default async () => ({ name: "b", afterProtocol() {} });');
    const options = { tag: 'x' };
    const [ma, mb] = await loadDataPathModules([{ path: a, options }, { path: b }]);
    expect(ma!.name).to.equal('a-x');
    expect(ma!.ingress!({} as never)).to.equal(HookVerdict.Drop);
    expect(mb!.name).to.equal('b');
    expect(options, 'the configuration is not changed by the module').to.deep.equal({ tag: 'x' });
  });

  it('names the file and why when it cannot make a module', async () => {
    expect((await failure(join(dir, 'missing.mjs'))).message).to.match(
      /missing\.mjs: cannot import it: no such file/,
    );
    expect((await failure(file('syntax.mjs', 'export const = 1;'))).message).to.match(/cannot import it/);
    expect((await failure(file('none.mjs', 'export const x = 1;'))).message).to.match(
      /exports no createModule/,
    );
    expect(
      (await failure(file('throws.mjs', 'export function createModule() { throw new Error("bad port"); }')))
        .message,
    ).to.match(/createModule threw: bad port/);
    expect((await failure(file('null.mjs', 'export default () => null;'))).message).to.match(/returned null/);
    expect((await failure(file('noname.mjs', 'export default () => ({ ingress() {} });'))).message).to.match(
      /has no name/,
    );
    expect((await failure(file('nohook.mjs', 'export default () => ({ name: "n" });'))).message).to.match(
      /"n" has no hook/,
    );
    expect(
      (await failure(file('badhook.mjs', 'export default () => ({ name: "n", egress: 3 });'))).message,
    ).to.match(/egress is not a function/);
  });

  it('an ELF file is an eBPF object: its XDP section becomes an ingress module named <file>:<section>', async () => {
    // r0 = XDP_DROP (1); exit
    const code = new Uint8Array([0xb7, 0, 0, 0, 1, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0]);
    const path = join(dir, 'dropper.o');
    writeFileSync(path, bpfObject([['xdp/all', code]]));
    const [m] = await loadDataPathModules([{ path }]);
    expect(m!.name).to.equal('dropper:xdp/all');
    const frame = new PacketBuffer(64);
    frame.length = 60;
    expect(m!.ingress!(frame)).to.equal(HookVerdict.Drop);

    const other = join(dir, 'other.o');
    writeFileSync(other, bpfObject([['tc', code]]));
    expect((await failure(other)).message).to.match(/eBPF object refused: no XDP program section.*"tc"/);
    const [tc] = await loadDataPathModules([{ path: other, section: 'tc' }]);
    expect(tc!.name).to.equal('other:tc');
    const garbage = file('garbage.o', '\x7fELF not really');
    expect((await failure(garbage)).message).to.match(/eBPF object refused/);
    const js = file('plain.mjs', 'export default () => ({ name: "p", ingress: () => 0 });');
    const e = await loadDataPathModules([{ path: js, section: 'xdp' }]).catch((x: Error) => x);
    expect((e as Error).message).to.match(/no ELF file/);
  });
});

/** A minimal ELF64 little-endian BPF relocatable object with the given executable sections. */
function bpfObject(sections: [name: string, code: Uint8Array][]): Uint8Array {
  const names = ['', '.shstrtab', ...sections.map(([n]) => n)];
  const nameOffsets: number[] = [];
  let strtab = '';
  for (const n of names) {
    nameOffsets.push(strtab.length);
    strtab += `${n}\0`;
  }
  let at = 64;
  const codeAt = sections.map(([, c]) => {
    const here = at;
    at += c.length;
    return here;
  });
  const strtabAt = at;
  at += strtab.length;
  const shoff = (at + 7) & ~7;
  const count = names.length;
  const out = new Uint8Array(shoff + count * 64);
  const v = new DataView(out.buffer);
  out.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]);
  v.setUint16(16, 1, true); // ET_REL
  v.setUint16(18, 247, true); // EM_BPF
  v.setUint32(20, 1, true);
  v.setBigUint64(0x28, BigInt(shoff), true);
  v.setUint16(0x34, 64, true);
  v.setUint16(0x3a, 64, true);
  v.setUint16(0x3c, count, true);
  v.setUint16(0x3e, 1, true);
  sections.forEach(([, c], i) => out.set(c, codeAt[i]!));
  out.set(new TextEncoder().encode(strtab), strtabAt);
  const header = (index: number, type: number, flags: number, offset: number, size: number): void => {
    const h = shoff + index * 64;
    v.setUint32(h, nameOffsets[index]!, true);
    v.setUint32(h + 4, type, true);
    v.setBigUint64(h + 8, BigInt(flags), true);
    v.setBigUint64(h + 24, BigInt(offset), true);
    v.setBigUint64(h + 32, BigInt(size), true);
  };
  header(1, 3 /* STRTAB */, 0, strtabAt, strtab.length);
  sections.forEach(([, c], i) =>
    header(2 + i, 1 /* PROGBITS */, 0x6 /* ALLOC|EXECINSTR */, codeAt[i]!, c.length),
  );
  return out;
}
