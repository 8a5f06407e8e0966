/**
 * Progress on stderr: a redrawn bar on a terminal; on anything else (CI logs, a pipe) one plain
 * line per run, so logs stay readable. No dependency: a bar is a line of text and a carriage return.
 */
import type { TextSink } from './text-sink.js';

export interface ProgressOptions {
  readonly isTTY: boolean;
  /** Terminal width (columns). */
  readonly columns: number;
}

export class Progress {
  private done = 0;
  private label = '';
  private lastDraw = 0;
  private readonly t0 = Date.now();

  constructor(
    private readonly out: TextSink,
    private readonly total: number,
    private readonly options: ProgressOptions,
  ) {}

  /** A new step begins (one run). */
  begin(label: string): void {
    this.label = label;
    if (this.options.isTTY) this.draw(0, true);
    else this.out.write(`[${this.done + 1}/${this.total}] ${label}\n`);
  }

  /** Progress within the current step, 0..1. */
  update(fraction: number): void {
    if (this.options.isTTY) this.draw(fraction, false);
  }

  /** The current step ended; `outcome` is a short word or phrase (ok, unavailable: why). */
  end(outcome: string): void {
    this.done++;
    if (this.options.isTTY) {
      this.clear();
      if (outcome !== 'ok') this.out.write(`  ${this.label}: ${outcome}\n`);
      this.draw(0, true);
    } else if (outcome !== 'ok') this.out.write(`    ${outcome}\n`);
  }

  finish(): void {
    if (this.options.isTTY) this.clear();
    const s = ((Date.now() - this.t0) / 1000).toFixed(1);
    this.out.write(`${this.done} runs in ${s} s\n`);
  }

  private clear(): void {
    this.out.write(`\r${' '.repeat(Math.max(0, this.options.columns - 1))}\r`);
  }

  private draw(fraction: number, force: boolean): void {
    const now = Date.now();
    if (!force && now - this.lastDraw < 80) return; // redraw at most ~12 times a second
    this.lastDraw = now;
    const overall = this.total > 0 ? (this.done + Math.min(1, Math.max(0, fraction))) / this.total : 1;
    const width = 24;
    const filled = Math.round(overall * width);
    const count = `${Math.min(this.done + 1, this.total)}/${this.total}`;
    const head = `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${String(Math.round(overall * 100)).padStart(3)}% ${count} `;
    const room = Math.max(0, this.options.columns - 1 - head.length);
    const label = this.label.length > room ? `${this.label.slice(0, Math.max(0, room - 1))}…` : this.label;
    this.out.write(`\r${`${head}${label}`.padEnd(this.options.columns - 1)}`);
  }
}
