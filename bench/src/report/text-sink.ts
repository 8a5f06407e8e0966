/** Anything with `write(string)`: process.stdout, or a string collector in tests. */
export interface TextSink {
  write(chunk: string): unknown;
}

export interface BenchIo {
  readonly stdout: TextSink;
  readonly stderr: TextSink;
  readonly cwd: string;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Whether stderr is a terminal (draw a progress bar) and how wide. */
  readonly stderrIsTTY: boolean;
  readonly columns: number;
}
