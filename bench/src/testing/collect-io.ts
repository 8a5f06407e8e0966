/** A BenchIo that collects what the suite prints, for in-process tests of the command. */
import type { BenchIo } from '../report/text-sink.js';

export function collectIo(cwd = process.cwd()): BenchIo & { out: () => string; err: () => string } {
  let out = '';
  let err = '';
  return {
    stdout: { write: (s: string) => (out += s) },
    stderr: { write: (s: string) => (err += s) },
    cwd,
    env: {},
    stderrIsTTY: false,
    columns: 100,
    out: () => out,
    err: () => err,
  };
}
