/**
 * Loads the user modules a configuration names (`config.modules`): each file's
 * `createModule(options)` (or default export) makes a `DataPathModule` for the hook points
 * (pipeline/hooks.ts). Called where the data path runs, once per data path: the inline and
 * simulated stacks on the application's thread, each x86 NIC core on its own thread, so a module
 * instance (and its state) is never shared between threads.
 *
 * A file that starts with the ELF magic is an eBPF object (`clang -O2 -target bpf -c`): its XDP
 * program (or the section `section` names) becomes an ingress module (ebpf/xdp-module.ts) named
 * `<file name without .o>:<section>`.
 */
import { open, readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ModuleConfig } from '../config/schema.js';
import type { DataPathModule } from '../pipeline/hooks.js';
import { extractXdpProgram, isElf } from '../ebpf/elf.js';
import { XdpModule } from '../ebpf/xdp-module.js';

/** A module file that could not be loaded or made no usable module; names the file and why. */
export class ModuleLoadError extends Error {
  constructor(
    readonly path: string,
    detail: string,
  ) {
    super(`data-path module ${path}: ${detail}`);
    this.name = 'ModuleLoadError';
  }
}

type ModuleFactory = (options: Record<string, unknown>) => DataPathModule | Promise<DataPathModule>;

const HOOKS = ['ingress', 'afterProtocol', 'egress'] as const;

/** Imports and instantiates `modules` in order. Throws `ModuleLoadError` for the first bad one. */
export async function loadDataPathModules(modules: readonly ModuleConfig[]): Promise<DataPathModule[]> {
  const out: DataPathModule[] = [];
  for (const m of modules) out.push(await loadOne(m));
  return out;
}

async function loadOne(m: ModuleConfig): Promise<DataPathModule> {
  if (await startsWithElfMagic(m.path)) return loadXdpObject(m);
  if (m.section !== undefined)
    throw new ModuleLoadError(
      m.path,
      '"section" names a program section of an eBPF object; this is no ELF file',
    );
  let exports: Record<string, unknown>;
  try {
    exports = (await import(pathToFileURL(m.path).href)) as Record<string, unknown>;
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const why =
      e.code === 'ERR_MODULE_NOT_FOUND' ? 'no such file (or a module it imports is missing)' : e.message;
    throw new ModuleLoadError(m.path, `cannot import it: ${why}`);
  }
  const factory = exports.createModule ?? exports.default;
  if (typeof factory !== 'function')
    throw new ModuleLoadError(m.path, 'exports no createModule(options) function (nor a default one)');
  let made: unknown;
  try {
    made = await (factory as ModuleFactory)({ ...(m.options ?? {}) });
  } catch (err) {
    throw new ModuleLoadError(m.path, `createModule threw: ${(err as Error).message}`);
  }
  return checked(m.path, made);
}

/** The factory's result, checked against the DataPathModule contract before any frame sees it. */
function checked(path: string, made: unknown): DataPathModule {
  if (typeof made !== 'object' || made === null)
    throw new ModuleLoadError(
      path,
      `createModule returned ${made === null ? 'null' : typeof made}, not a module`,
    );
  const m = made as Record<string, unknown>;
  if (typeof m.name !== 'string' || m.name === '')
    throw new ModuleLoadError(
      path,
      'the module has no name (a non-empty string: its counters are kept under it)',
    );
  const hooks = HOOKS.filter((h) => m[h] !== undefined);
  for (const h of hooks)
    if (typeof m[h] !== 'function') throw new ModuleLoadError(path, `the module's ${h} is not a function`);
  if (hooks.length === 0)
    throw new ModuleLoadError(path, `the module "${m.name}" has no hook (ingress, afterProtocol or egress)`);
  return made as DataPathModule;
}

/** The first 4 bytes are the ELF magic (false for a missing or short file: the import reports it). */
async function startsWithElfMagic(path: string): Promise<boolean> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch {
    return false;
  }
  try {
    const head = new Uint8Array(4);
    const { bytesRead } = await handle.read(head, 0, 4, 0);
    return bytesRead === 4 && isElf(head);
  } finally {
    await handle.close();
  }
}

/** An eBPF object's XDP program as an ingress module; refusals name the file and why. */
async function loadXdpObject(m: ModuleConfig): Promise<DataPathModule> {
  if (m.options !== undefined && Object.keys(m.options).length > 0)
    throw new ModuleLoadError(
      m.path,
      'an eBPF program takes no options (set its parameters at compile time, e.g. clang -DPORT=7001)',
    );
  try {
    const { section, code } = extractXdpProgram(await readFile(m.path), m.section);
    const file = basename(m.path).replace(/\.o$/, '');
    return XdpModule.fromCode(code, { name: `${file}:${section}` });
  } catch (err) {
    throw new ModuleLoadError(m.path, `eBPF object refused: ${(err as Error).message}`);
  }
}
