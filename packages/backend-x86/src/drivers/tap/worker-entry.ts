/**
 * Starts one of the TAP driver's threads. The built package starts `<name>.js` beside this file.
 * From the TypeScript sources (tests, tsx) a worker must register tsx itself: Node 20 does not
 * apply the parent's `--import` hooks to a worker's entry module, so it starts from a line of
 * CommonJS that does, then imports `<name>.ts`.
 */
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';

export function startTapWorker(name: string, workerData: unknown, threadName: string): Worker {
  const fromSource = extname(fileURLToPath(import.meta.url)) === '.ts';
  const url = new URL(`./${name}${fromSource ? '.ts' : '.js'}`, import.meta.url);
  const options = { workerData, name: threadName };
  if (!fromSource) return new Worker(url, options);
  const code =
    `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(url.href)}); })` +
    `.catch((err) => { process.nextTick(() => { throw err; }); });`;
  return new Worker(code, { ...options, eval: true });
}
