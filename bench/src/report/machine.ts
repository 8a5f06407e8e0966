/** What the results file records about the machine, so two runs can be told apart later. */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import type { MachineInfo } from './format.js';

export function machineInfo(cwd: string): MachineInfo {
  const cpus = os.cpus();
  const git = (args: string[]): string | null => {
    const r = spawnSync('git', args, { cwd, encoding: 'utf8', timeout: 5000 });
    return r.status === 0 ? r.stdout.trim() : null;
  };
  const commit = git(['rev-parse', 'HEAD']);
  const dirty =
    commit === null ? null : (git(['status', '--porcelain', '--untracked-files=no']) ?? '') !== '';
  const load = os.loadavg();
  return {
    hostname: os.hostname(),
    platform: process.platform,
    release: os.release(),
    arch: process.arch,
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    cpuCount: os.availableParallelism?.() ?? cpus.length,
    cpuMHz: cpus[0]?.speed ?? 0,
    memoryBytes: os.totalmem(),
    node: process.version,
    v8: process.versions.v8,
    gitCommit: commit,
    gitDirty: dirty,
    loadAverage: [load[0] ?? 0, load[1] ?? 0, load[2] ?? 0],
    root: process.getuid?.() === 0,
    openFilesLimit: openFilesLimit(),
  };
}

/** The soft RLIMIT_NOFILE of this process (Linux /proc), or null where it cannot be read. */
export function openFilesLimit(): number | null {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('Max open files'));
    const soft = line?.split(/\s{2,}/)[1];
    return soft === undefined || soft === 'unlimited' ? null : Number(soft);
  } catch {
    return null;
  }
}
