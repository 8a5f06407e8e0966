/**
 * Where a NIC core worker starts. From the compiled package it is `nic-worker.js` next to this
 * file. When the package runs from its TypeScript sources (tests, `--conditions=source` with tsx)
 * the worker must load tsx itself: Node 20 does not apply the parent's `--import` loader hooks
 * to a worker's entry module, so the worker starts from a small script that registers tsx and
 * then imports `nic-worker.ts`.
 */
export interface WorkerEntry {
  readonly url: URL;
  /** CommonJS code to `eval` in the worker instead of loading `url` directly, or null. */
  readonly eval: string | null;
}

export function nicWorkerEntry(): WorkerEntry {
  const fromSource = import.meta.url.endsWith('.ts');
  const url = new URL(fromSource ? './nic-worker.ts' : './nic-worker.js', import.meta.url);
  if (!fromSource) return { url, eval: null };
  const code =
    `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(url.href)}); })` +
    `.catch((err) => { process.nextTick(() => { throw err; }); });`;
  return { url, eval: code };
}
