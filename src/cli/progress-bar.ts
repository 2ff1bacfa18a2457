/**
 * A progress bar on stderr, drawn by hand (no dependency). On a terminal it redraws one line in
 * place at most ~10 times a second; otherwise (CI, a pipe, a test) it prints a plain line at most
 * every few seconds, so logs stay readable. stdout is left alone: it carries the results.
 */
export interface ProgressBarOptions {
  label: string;
  /** Expected total; 0 or unknown draws a counter without a percentage. */
  total: number;
  unit?: string;
  stream?: NodeJS.WriteStream;
  /** Force or suppress the in-place bar (default: stream.isTTY). */
  tty?: boolean;
  width?: number;
}

export class ProgressBar {
  private readonly stream: NodeJS.WriteStream;
  private readonly tty: boolean;
  private readonly started = Date.now();
  private lastDraw = 0;
  private done = 0;
  private finished = false;
  private total: number;

  constructor(private readonly options: ProgressBarOptions) {
    this.stream = options.stream ?? process.stderr;
    this.tty = options.tty ?? Boolean(this.stream.isTTY);
    this.total = Math.max(0, options.total);
  }

  /** Sets the number of units done (not an increment). */
  update(done: number): void {
    this.done = done;
    if (this.total > 0 && done > this.total) this.total = done;
    const now = Date.now();
    if (now - this.lastDraw < (this.tty ? 100 : 5000)) return;
    this.lastDraw = now;
    this.draw(false);
  }

  increment(by = 1): void {
    this.update(this.done + by);
  }

  /** Draws the final state (`done` units, when given) and ends the line. */
  finish(done?: number): void {
    if (this.finished) return;
    this.finished = true;
    if (done !== undefined) this.done = done;
    this.draw(true);
  }

  private draw(final: boolean): void {
    const unit = this.options.unit ?? 'events';
    const elapsed = (Date.now() - this.started) / 1000;
    const rate = elapsed > 0 ? Math.round(this.done / elapsed) : 0;
    const width = this.options.width ?? 30;
    let text: string;
    if (this.total > 0) {
      const ratio = Math.min(1, this.done / this.total);
      const filled = Math.round(ratio * width);
      const bar = '█'.repeat(filled) + '░'.repeat(width - filled);
      text = `${this.options.label} [${bar}] ${(ratio * 100).toFixed(0).padStart(3)}% ${this.done}/${this.total} ${unit}`;
    } else {
      text = `${this.options.label} ${this.done} ${unit}`;
    }
    text += ` ${rate}/s ${elapsed.toFixed(1)}s`;
    if (this.tty) this.stream.write(`\r\x1b[2K${text}${final ? '\n' : ''}`);
    else this.stream.write(`${text}\n`);
  }
}
