/**
 * `flextoe info`: the resolved configuration with where each choice came from, and what each
 * backend can do on this host. Text for people, `--json` for scripts; both come from one
 * report object so they cannot disagree.
 */
import {
  loadConfig,
  type BackendDescriptor,
  type FlexToeConfig,
  type PortConfig,
  type ResolvedConfig,
} from '@flextoe/core';
import type { CliCommand } from './command.js';
import { table } from './table.js';
import { version } from './version.js';

export interface InfoReport extends ResolvedConfig {
  version: string;
  backends: BackendDescriptor[];
  /** Things that will stop the selected configuration from running, in words. */
  notes: string[];
}

export const infoCommand: CliCommand = {
  name: 'info',
  summary: 'show the resolved configuration, where each choice came from, and the backends',
  options: { json: { type: 'boolean', description: 'print the report as JSON' } },
  async run(ctx) {
    const report = infoReport(loadConfig({ argv: ctx.argv, env: ctx.env, cwd: ctx.cwd }), ctx.backends);
    ctx.stdout.write(ctx.values.json ? `${JSON.stringify(report, null, 2)}\n` : renderInfo(report, ctx.cwd));
    return 0;
  },
};

export function infoReport(resolved: ResolvedConfig, backends: readonly BackendDescriptor[]): InfoReport {
  // Read each descriptor once: `drivers` may probe the host on first read.
  const snapshot = backends.map((b) => ({ ...b, drivers: [...b.drivers], features: { ...b.features } }));
  return { version: version(), ...resolved, backends: snapshot, notes: notes(resolved.config, snapshot) };
}

function notes(config: FlexToeConfig, backends: readonly BackendDescriptor[]): string[] {
  const selected = backends.find((b) => b.name === config.backend);
  if (!selected) return [`backend ${config.backend} is not installed`];
  const out: string[] = [];
  if (selected.status === 'not-implemented') {
    out.push(`backend ${selected.name} is not implemented yet: missing ${selected.issue}`);
  }
  const driver = selected.drivers.find((d) => d.name === config.port.driver);
  if (!driver) {
    const supported = selected.drivers.map((d) => d.name).join(', ');
    out.push(
      `port driver ${config.port.driver} is not supported by backend ${selected.name} (supported: ${supported})`,
    );
  } else if (!driver.available) {
    out.push(`port driver ${driver.name} is not available on this host: ${driver.detail}`);
  }
  return out;
}

export function renderInfo(report: InfoReport, cwd: string): string {
  const { config, origin } = report;
  const from = (pointer: string) => origin[pointer] ?? 'default';
  const settings: string[][] = [['SETTING', 'VALUE', 'FROM']];
  settings.push(['backend', config.backend, from('/backend')]);
  settings.push(['port', describePort(config.port), from('/port')]);
  settings.push(['timeMode', config.timeMode, from('/timeMode')]);
  for (const [key, value] of Object.entries(config.stack)) {
    settings.push([
      `stack.${key}`,
      key.endsWith('Bytes') ? bytes(value as number) : String(value),
      from(`/stack/${key}`),
    ]);
  }
  for (const key of ['x86', 'agilioSim', 'bluefieldSim'] as const) {
    const entries = Object.entries(config[key]);
    if (entries.length === 0) settings.push([key, '{}', from(`/${key}`)]);
    for (const [sub, value] of entries)
      settings.push([`${key}.${sub}`, JSON.stringify(value), from(`/${key}/${sub}`)]);
  }

  const overview: string[][] = [['', 'NAME', 'STATUS', 'TIME', 'DRIVERS']];
  for (const b of report.backends) {
    const drivers = b.drivers.map((d) => `${d.name} ${d.available ? 'yes' : 'no'}`).join(', ');
    overview.push([b.name === config.backend ? '*' : '', b.name, b.status, b.timeBase, drivers]);
  }

  const details = report.backends.map((b) => {
    const lines = [wrap(`${b.name}: ${b.title}. ${b.description}`, '  ')];
    if (b.status !== 'implemented') lines.push(wrap(`  missing: ${b.issue}`, '    '));
    lines.push(table(b.drivers.map((d) => [d.name, d.available ? 'available' : 'unavailable', d.detail])));
    return lines.join('\n');
  });

  // DPDK-style matrix: one row per feature, one column per backend.
  const features = [...new Set(report.backends.flatMap((b) => Object.keys(b.features)))];
  const matrix = [['FEATURE', ...report.backends.map((b) => b.name)]];
  for (const f of features) matrix.push([f, ...report.backends.map((b) => b.features[f] ?? '-')]);

  const file = report.file ?? `none (no flextoe.config.json in ${cwd})`;
  const sections = [
    `flextoe ${report.version}`,
    `Configuration (file: ${file})\n${table(settings)}`,
    `Backends (* = selected)\n${table(overview)}`,
    details.join('\n\n'),
    `Features\n${table(matrix)}`,
  ];
  if (report.notes.length > 0)
    sections.push(`Notes\n${report.notes.map((n) => wrap(`  - ${n}`, '    ')).join('\n')}`);
  return `${sections.join('\n\n')}\n`;
}

/** Breaks prose at spaces so it fits a terminal; continuation lines get `indent`. */
function wrap(text: string, indent: string, width = 100): string {
  const lead = /^ */.exec(text)![0];
  const lines: string[] = [];
  let line = lead;
  for (const word of text.slice(lead.length).split(' ')) {
    if (line.trim() !== '' && line.length + 1 + word.length > width) {
      lines.push(line);
      line = indent + word;
    } else {
      line = line.trim() === '' ? line + word : `${line} ${word}`;
    }
  }
  return [...lines, line].join('\n');
}

function describePort(port: PortConfig): string {
  const rest = Object.entries(port)
    .filter(([k]) => k !== 'driver')
    .map(([k, v]) => `${k}=${Array.isArray(v) ? JSON.stringify(v) : String(v)}`);
  return [port.driver, ...rest].join(' ');
}

function bytes(n: number): string {
  if (n % (1024 * 1024) === 0) return `${n} (${n / (1024 * 1024)} MiB)`;
  if (n % 1024 === 0) return `${n} (${n / 1024} KiB)`;
  return String(n);
}
