/**
 * `npm run bench`: for now, the pipeline micro-benchmark of the core issue. The cross-backend
 * suite (issue "Cross-backend benchmark suite") grows here; `--quick` keeps it short.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { runPipelineMicro, type PipelineMicroResult } from './pipeline-micro.js';

function main(argv: string[]): number {
  const known = new Set(['--quick', '--help']);
  for (const a of argv) {
    if (!known.has(a)) {
      process.stderr.write(`flextoe bench: unknown option ${a}; valid: ${[...known].join(', ')}\n`);
      return 2;
    }
  }
  if (argv.includes('--help')) {
    process.stdout.write(
      'usage: npm run bench [-- --quick]\n  runs the pipeline micro-benchmark (64 B and MSS segments)\n',
    );
    return 0;
  }
  const quick = argv.includes('--quick');
  const runs: PipelineMicroResult[] = [];
  for (const [payload, bytes] of [
    [64, quick ? 4 << 20 : 32 << 20],
    [1448, quick ? 64 << 20 : 512 << 20],
  ] as const) {
    process.stderr.write(`pipeline micro-benchmark: ${payload} B segments, ${bytes >> 20} MiB ...\n`);
    runs.push(runPipelineMicro(payload, bytes));
  }
  const rows = runs.map((r) => [
    `${r.payloadBytes} B`,
    r.segments.toLocaleString('en'),
    r.cpuMs.toFixed(0),
    Math.round(r.segmentsPerSecPerCore).toLocaleString('en'),
    r.bytesAllocatedPerSegment.toFixed(1),
  ]);
  const head = ['payload', 'segments (data+ACK)', 'CPU ms', 'segments/s/core', 'bytes alloc/segment'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => c.padStart(widths[i]!)).join('  ');
  process.stdout.write(`\nFlexTOE pipeline, inline runner (all stages on one core), wall-clock CPU time\n`);
  process.stdout.write(`${line(head)}\n${rows.map(line).join('\n')}\n`);
  const out = {
    machine: {
      cpus: os.cpus().length,
      model: os.cpus()[0]?.model,
      node: process.version,
      platform: process.platform,
    },
    config: { quick },
    runs: runs.map((r) => ({
      backend: 'inline',
      port: 'virtual',
      workload: 'pipeline-micro',
      params: { payloadBytes: r.payloadBytes },
      timeBase: 'wall',
      metrics: r,
    })),
  };
  mkdirSync('bench-results', { recursive: true });
  const file = `bench-results/${new Date().toISOString().replace(/[:.]/g, '-')}.json`;
  writeFileSync(file, JSON.stringify(out, null, 2));
  process.stdout.write(`\nwrote ${file}\n`);
  return 0;
}

process.exitCode = main(process.argv.slice(2));
