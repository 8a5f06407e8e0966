/**
 * Where a NIC core worker starts. From the compiled package it is `nic-worker.js` next to this
 * file. When the package runs from its TypeScript sources (tests: tsx with `--conditions=source`)
 * there are two ways:
 *
 * - the compiled worker, when the `tsc -b` output is up to date with the sources (checked once
 *   per process): a worker then starts in ~0.1 s instead of the ~1 s tsx needs to transpile the
 *   data path again in the new thread;
 * - otherwise a small bootstrap that registers tsx in the worker and imports `nic-worker.ts`
 *   (Node 20 does not apply the parent's `--import` loader hooks to a worker's entry module).
 */
import { readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export interface WorkerEntry {
  readonly url: URL;
  /** CommonJS code to `eval` in the worker instead of loading `url` directly, or null. */
  readonly eval: string | null;
  /** Node options for the worker (the compiled worker must not resolve `source` conditions). */
  readonly execArgv: string[] | undefined;
}

let cached: WorkerEntry | null = null;

export function nicWorkerEntry(): WorkerEntry {
  if (cached !== null) return cached;
  const fromSource = import.meta.url.endsWith('.ts');
  if (!fromSource)
    return (cached = { url: new URL('./nic-worker.js', import.meta.url), eval: null, execArgv: undefined });
  const compiled = compiledWorkerIfFresh();
  // Without `--conditions=source` and tsx, the compiled worker imports compiled core too.
  if (compiled !== null)
    return (cached = { url: compiled, eval: null, execArgv: stripPairs(process.execArgv) });
  const url = new URL('./nic-worker.ts', import.meta.url);
  const code =
    `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(url.href)}); })` +
    `.catch((err) => { process.nextTick(() => { throw err; }); });`;
  return (cached = { url, eval: code, execArgv: undefined });
}

/** execArgv without `--conditions X` / `--import X` pairs and their `=` forms. */
function stripPairs(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--conditions' || a === '-C' || a === '--import') {
      i++;
      continue;
    }
    if (/^(--conditions|-C|--import)=/.test(a)) continue;
    out.push(a);
  }
  return out;
}

/**
 * dist/threads/nic-worker.js when the last `tsc -b` of core and of this package ran after every
 * source the worker runs was last changed: tsc's own up-to-date rule (newest input older than the
 * project's tsbuildinfo).
 */
function compiledWorkerIfFresh(): URL | null {
  const threadsSrc = dirname(fileURLToPath(import.meta.url));
  const x86Root = dirname(dirname(threadsSrc));
  const coreRoot = join(x86Root, '..', 'core');
  const worker = join(x86Root, 'dist', 'threads', 'nic-worker.js');
  try {
    statSync(worker);
    for (const [root, dir] of [
      [x86Root, dirname(threadsSrc)], // the worker imports the DPDK driver too
      [coreRoot, join(coreRoot, 'src')],
    ] as const) {
      const built = statSync(join(root, 'tsconfig.tsbuildinfo')).mtimeMs;
      for (const src of tsSources(dir)) if (statSync(src).mtimeMs > built) return null;
    }
  } catch {
    return null; // no build output
  }
  return pathToFileURL(worker);
}

function tsSources(dir: string): string[] {
  try {
    return readdirSync(dir, { recursive: true, encoding: 'utf8' })
      .filter((f) => f.endsWith('.ts') && !f.endsWith('.spec.ts') && !f.endsWith('.d.ts'))
      .map((f) => join(dir, f));
  } catch {
    return [];
  }
}
