// Progress of a training run. On a terminal: one line redrawn in place,
//
//   step  250/2000 [█████░░░░░░░░░░░░░░░░░░░░░░░]  12% | 0.31 it/s | loss 2.4012 | ETA 1h34m
//
// with other messages (evaluations) printed above it. Anywhere else (a pipe, a file, CI): a plain
// line every `every` steps, so logs stay readable.

export interface Output {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface ProgressOptions {
  /** the last step */
  total: number;
  /** the step the run starts from (a resumed run starts past 0) */
  start: number;
  out: Output;
  /** plain mode: print a line every this many steps (and at the last) */
  every: number;
  /** redraw in place; default: out.isTTY */
  tty?: boolean;
}

export class Progress {
  private readonly tty: boolean;
  private readonly t0 = performance.now();
  private drawn = false;
  private last = "";

  constructor(private readonly o: ProgressOptions) {
    this.tty = o.tty ?? o.out.isTTY === true;
  }

  /** Steps per second since this process started the run. */
  rate(step: number): number {
    const s = (performance.now() - this.t0) / 1000;
    return s > 0 ? (step - this.o.start) / s : 0;
  }

  /** Report that `step` steps are done; `fields` are shown after the rate ("loss 2.4012"). */
  update(step: number, fields: string[]): void {
    const { total } = this.o;
    const rate = this.rate(step);
    const eta = rate > 0 ? formatDuration((total - step) / rate) : "?";
    const width = String(total).length;
    const head = `step ${String(step).padStart(width)}/${total}`;
    const tail = [`${rate < 10 ? rate.toFixed(2) : rate.toFixed(1)} it/s`, ...fields, `ETA ${eta}`];
    if (this.tty) {
      const cols = this.o.out.columns || 100; // 0 when the terminal does not say
      const pct = `${String(Math.floor((100 * step) / total)).padStart(3)}%`;
      const rest = ` ${pct} | ${tail.join(" | ")}`;
      const barWidth = Math.max(10, Math.min(40, cols - head.length - rest.length - 4));
      const filled = Math.round((barWidth * step) / total);
      this.last = `${head} [${"█".repeat(filled)}${"░".repeat(barWidth - filled)}]${rest}`.slice(
        0,
        Math.max(20, cols - 1),
      );
      this.o.out.write(`\r\x1b[2K${this.last}`);
      this.drawn = true;
    } else if (step % this.o.every === 0 || step === total) {
      this.o.out.write(`${head}  ${tail.join("  ")}\n`);
    }
  }

  /** Print a whole line (above the bar on a terminal). */
  line(text: string): void {
    if (this.tty && this.drawn) {
      this.o.out.write(`\r\x1b[2K${text}\n${this.last}`);
    } else {
      this.o.out.write(text + "\n");
    }
  }

  /** End the bar's line (call before printing anything else). */
  done(): void {
    if (this.tty && this.drawn) this.o.out.write("\n");
    this.drawn = false;
  }
}

/** 75 → "1m15s", 5400 → "1h30m", 12.3 → "12s". */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "?";
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}
