/**
 * The part of ELF we need to take a program out of `clang -O2 -target bpf -c prog.c -o prog.o`:
 * a 64-bit little-endian relocatable object for machine EM_BPF (247). We read the section
 * headers and their names (System V gABI, "Sections"), pick the program's section and refuse,
 * with a message that says why, what would need a loader we do not have: relocations against the
 * program (maps, global data, calls into other sections), BTF-defined maps (`.maps`) and CO-RE
 * relocations (.BTF.ext). Debug and BTF type sections are otherwise ignored.
 */

/** An object file we cannot run, and why (the loader prefixes the path). */
export class ElfError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ElfError';
  }
}

export const ELF_MAGIC = [0x7f, 0x45, 0x4c, 0x46] as const;
const ELFCLASS64 = 2;
const ELFDATA2LSB = 1;
const ET_REL = 1;
const EM_BPF = 247;
const SHT_PROGBITS = 1;
const SHT_SYMTAB = 2;
const SHT_REL = 9;
const SHF_EXECINSTR = 0x4;
const SECTION_HEADER_BYTES = 64;
const SYMBOL_BYTES = 24;
const REL_BYTES = 16;
/** .BTF.ext header (linux btf.h struct btf_ext_header): magic, then core_relo_len at 28 if hdr_len >= 32. */
const BTF_MAGIC = 0xeb9f;

export interface ElfSection {
  readonly index: number;
  readonly name: string;
  readonly type: number;
  readonly flags: number;
  readonly offset: number;
  readonly size: number;
  readonly link: number;
  readonly info: number;
}

/** True when `bytes` starts with the ELF magic (how config.modules tells an object from JS). */
export function isElf(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && ELF_MAGIC.every((b, i) => bytes[i] === b);
}

/** The section headers of a 64-bit little-endian BPF relocatable object, with their names. */
export function readSections(bytes: Uint8Array): ElfSection[] {
  if (!isElf(bytes)) throw new ElfError('not an ELF file');
  if (bytes.length < 64) throw new ElfError('truncated ELF header');
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes[4] !== ELFCLASS64) throw new ElfError('not a 64-bit ELF object (compile with -target bpf)');
  if (bytes[5] !== ELFDATA2LSB)
    throw new ElfError('a big-endian object (-target bpfeb): only little-endian programs run here');
  const machine = v.getUint16(18, true);
  if (machine !== EM_BPF) throw new ElfError(`machine ${machine} is not BPF (247): compile with -target bpf`);
  if (v.getUint16(16, true) !== ET_REL)
    throw new ElfError('not a relocatable object (use the .o from clang -c, not a linked file)');
  const shoff = Number(v.getBigUint64(0x28, true));
  const shentsize = v.getUint16(0x3a, true);
  const shnum = v.getUint16(0x3c, true);
  const shstrndx = v.getUint16(0x3e, true);
  if (shentsize !== SECTION_HEADER_BYTES || shoff + shnum * shentsize > bytes.length)
    throw new ElfError('section header table is malformed or truncated');
  const raw = Array.from({ length: shnum }, (_, index) => {
    const at = shoff + index * SECTION_HEADER_BYTES;
    return {
      index,
      nameOffset: v.getUint32(at, true),
      type: v.getUint32(at + 4, true),
      flags: Number(v.getBigUint64(at + 8, true)),
      offset: Number(v.getBigUint64(at + 24, true)),
      size: Number(v.getBigUint64(at + 32, true)),
      link: v.getUint32(at + 40, true),
      info: v.getUint32(at + 44, true),
    };
  });
  const names = raw[shstrndx];
  if (!names) throw new ElfError('no section name table');
  for (const s of raw)
    if (s.type !== 8 /* NOBITS */ && s.offset + s.size > bytes.length)
      throw new ElfError(`section ${s.index} runs past the end of the file`);
  return raw.map(({ nameOffset, ...s }) => ({ ...s, name: cString(bytes, names.offset + nameOffset) }));
}

function cString(bytes: Uint8Array, at: number): string {
  let end = at;
  while (end < bytes.length && bytes[end] !== 0) end++;
  return Buffer.from(bytes.buffer, bytes.byteOffset + at, end - at).toString('latin1');
}

/** Whether a section name is an XDP program's: `SEC("xdp")`, `SEC("xdp/name")`, `SEC("xdp.frags")`. */
export function isXdpSectionName(name: string): boolean {
  return name === 'xdp' || name.startsWith('xdp/') || name.startsWith('xdp.') || name.startsWith('xdp_');
}

export interface XdpObject {
  /** The program section's name (the module name uses it). */
  readonly section: string;
  /** Its instruction bytes (a copy). */
  readonly code: Uint8Array;
}

/**
 * The program to run: the section `wanted` names, else the one XDP-named executable section.
 * Refuses (ElfError) what would need relocation or maps.
 */
export function extractXdpProgram(bytes: Uint8Array, wanted?: string): XdpObject {
  const sections = readSections(bytes);
  const executable = sections.filter((s) => s.type === SHT_PROGBITS && s.flags & SHF_EXECINSTR && s.size > 0);
  const list = executable.map((s) => `"${s.name}"`).join(', ') || 'none';
  let program: ElfSection | undefined;
  if (wanted !== undefined) {
    program = executable.find((s) => s.name === wanted);
    if (!program) throw new ElfError(`no program section "${wanted}" (program sections: ${list})`);
  } else {
    const xdp = executable.filter((s) => isXdpSectionName(s.name));
    if (xdp.length !== 1)
      throw new ElfError(
        xdp.length === 0
          ? `no XDP program section (SEC("xdp")); program sections: ${list}`
          : `several XDP program sections (${xdp.map((s) => `"${s.name}"`).join(', ')}): name one with "section"`,
      );
    program = xdp[0]!;
  }
  for (const s of sections) {
    if (s.type === SHT_REL && s.info === program.index) {
      const count = Math.floor(s.size / REL_BYTES);
      throw new ElfError(
        `section "${program.name}" has ${count} relocation(s) (first against "${firstRelocationSymbol(bytes, sections, s)}"): ` +
          'maps, global data and calls to other functions are not supported',
      );
    }
    if (s.name === '.maps' || s.name === 'maps')
      throw new ElfError(`the object defines BPF maps (section "${s.name}"): maps are not supported`);
    if (s.name === '.BTF.ext' && coreRelocationBytes(bytes, s) > 0)
      throw new ElfError('the object has CO-RE relocations (.BTF.ext core_relo): not supported');
  }
  return { section: program.name, code: bytes.slice(program.offset, program.offset + program.size) };
}

/** The name of the symbol the first entry of a REL section refers to (for the error message). */
function firstRelocationSymbol(bytes: Uint8Array, sections: ElfSection[], rel: ElfSection): string {
  const symtab = sections[rel.link];
  const strtab = symtab && sections[symtab.link];
  if (!symtab || symtab.type !== SHT_SYMTAB || !strtab || rel.size < REL_BYTES) return '?';
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const symbol = Number(v.getBigUint64(rel.offset + 8, true) >> 32n);
  const at = symtab.offset + symbol * SYMBOL_BYTES;
  if (at + SYMBOL_BYTES > symtab.offset + symtab.size) return '?';
  const name = cString(bytes, strtab.offset + v.getUint32(at, true));
  if (name !== '') return name;
  // A section symbol (e.g. .rodata for a string constant): name the section.
  return sections[v.getUint16(at + 6, true)]?.name ?? '?';
}

function coreRelocationBytes(bytes: Uint8Array, s: ElfSection): number {
  if (s.size < 8) return 0;
  const v = new DataView(bytes.buffer, bytes.byteOffset + s.offset, s.size);
  if (v.getUint16(0, true) !== BTF_MAGIC) return 0;
  const headerLength = v.getUint32(4, true);
  if (headerLength < 32 || s.size < 32) return 0;
  return v.getUint32(28, true);
}
