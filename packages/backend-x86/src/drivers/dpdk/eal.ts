/**
 * DPDK's Environment Abstraction Layer, initialised once per process with arguments that work
 * on an ordinary machine: no hugepages, no PCI scan, no shared config files (so two processes
 * never collide), a per-process file prefix, a small memory reservation, no telemetry socket.
 * A port config's `eal` adds to these; an added option replaces the defaults it contradicts
 * (`-a 0000:01:00.0` drops `--no-pci`, `--huge-dir` or `--socket-mem` drop `--no-huge`, ...),
 * so using a real NIC with hugepages is one `eal` list away.
 *
 * EAL is process-wide and cannot be initialised twice: every dpdk port in a process shares it,
 * and a later port asking for different EAL arguments is refused with both lists named. A failed
 * initialisation cannot be retried either (DPDK refuses a second rte_eal_init; the error says so).
 */
import { rmSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { DpdkAddon } from './dpdk-addon.js';

/** Memory EAL reserves without hugepages, in MiB: mbuf pools for a few ports (~10 MiB each). */
export const DEFAULT_EAL_MEMORY_MB = 256;

/** Our defaults, each with the options that, when the caller passes them, replace it. */
function defaults(): { arg: string[]; replacedBy: string[] }[] {
  return [
    {
      arg: ['--no-huge'],
      replacedBy: [
        '--no-huge',
        '--huge-dir',
        '--socket-mem',
        '--socket-limit',
        '--huge-unlink',
        '--in-memory',
      ],
    },
    { arg: ['--no-pci'], replacedBy: ['--no-pci', '-a', '--allow', '-b', '--block'] },
    { arg: ['--no-shconf'], replacedBy: ['--no-shconf', '--in-memory', '--proc-type'] },
    { arg: ['-m', String(DEFAULT_EAL_MEMORY_MB)], replacedBy: ['-m', '--socket-mem'] },
    { arg: [`--file-prefix=flextoe-${process.pid}`], replacedBy: ['--file-prefix'] },
    { arg: ['--no-telemetry'], replacedBy: ['--telemetry', '--no-telemetry'] },
    // PMD notices (e.g. net_tap's "failed to create multiq qdisc" on kernels without sch_multiq)
    // are not errors of ours; warnings and worse still print, on stderr.
    { arg: ['--log-level=*:warning'], replacedBy: ['--log-level'] },
  ];
}

/** True when `args` contains option `opt` (as `opt`, `opt=value`, or a short option `-mVALUE`). */
function hasOption(args: readonly string[], opt: string): boolean {
  return args.some(
    (a) =>
      a === opt ||
      a.startsWith(`${opt}=`) ||
      (opt.length === 2 && !opt.startsWith('--') && a.startsWith(opt)),
  );
}

/** The EAL argument list for a port's extra `eal` arguments: our defaults, minus replaced ones, then the extras. */
export function ealArguments(extra: readonly string[] = []): string[] {
  for (const a of extra) {
    if (typeof a !== 'string' || a.length === 0)
      throw new TypeError(`dpdk: eal arguments must be non-empty strings, got ${JSON.stringify(a)}`);
  }
  const kept = defaults().filter((d) => !d.replacedBy.some((opt) => hasOption(extra, opt)));
  return [...kept.flatMap((d) => d.arg), ...extra];
}

/**
 * Initialises EAL on the first call; later calls must ask for the same arguments. The addon
 * holds the state (EAL is per process, and a process may load this module twice: sources and
 * build, or two bundles), so every copy agrees.
 */
export function ensureEal(addon: DpdkAddon, extra: readonly string[] = []): { args: readonly string[] } {
  const args = ealArguments(extra);
  const current = addon.ealState();
  if (current.ready) {
    if (JSON.stringify(current.args) !== JSON.stringify(args)) {
      throw new Error(
        `dpdk: EAL is already initialised in this process with ${JSON.stringify(current.args)}; ` +
          `this port asks for ${JSON.stringify(args)}. EAL arguments are process-wide: give every dpdk port ` +
          'the same `eal` list (or none)',
      );
    }
    return current;
  }
  const result = addon.ealInit(args);
  removeRuntimeDirAtExit(result.runtimeDir);
  return result;
}

const EXIT_HOOKED = Symbol.for('flextoe.dpdk.runtimeDirHook');

/** EAL creates /var/run/dpdk/<prefix> even without shared config; leave nothing behind. */
function removeRuntimeDirAtExit(dir: string): void {
  if (!dir || basename(dirname(dir)) !== 'dpdk' || !basename(dir).startsWith('flextoe-')) return;
  const g = globalThis as { [EXIT_HOOKED]?: boolean };
  if (g[EXIT_HOOKED]) return;
  g[EXIT_HOOKED] = true;
  process.once('exit', () => {
    try {
      rmSync(dir, { recursive: true, force: true });
    } catch {
      // Best effort at exit: a leftover empty directory harms nothing.
    }
  });
}
