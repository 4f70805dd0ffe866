import { isBetter, type Objective, type Trial } from '@segtune/core';
import { formatDuration } from './duration';
import { formatCell } from './table';

/**
 * What a search shows while it runs: on a terminal, one live line (a bar of trials done of the
 * total, best so far, elapsed, ETA); elsewhere one line per finished trial, for logs.
 */
export class Progress {
  private done = 0;
  private best: { value: number; number: number } | undefined;
  private readonly started = Date.now();
  private timer: NodeJS.Timeout | undefined;
  private readonly tty: boolean;

  constructor(
    private readonly objectives: readonly Objective[],
    private readonly total: number | undefined,
    private readonly out: NodeJS.WriteStream = process.stderr,
    private readonly enabled = true,
  ) {
    this.tty = Boolean(out.isTTY) && enabled;
    if (this.tty) {
      this.timer = setInterval(() => this.render(), 250);
      this.timer.unref();
    }
  }

  /** Counts trials a resumed study already has. */
  preload(trials: readonly Trial[]): void {
    for (const t of trials) if (t.state !== 'waiting' && t.state !== 'running') this.note(t);
  }

  private note(t: Trial): void {
    this.done++;
    if (t.state === 'complete' && t.values && this.objectives.length === 1) {
      const v = t.values[0];
      if (!this.best || isBetter(this.objectives[0].direction, v, this.best.value)) this.best = { value: v, number: t.number };
    }
  }

  finished(t: Trial): void {
    this.note(t);
    if (!this.enabled) return;
    if (this.tty) return this.render();
    const values = t.values ? this.objectives.map((o, i) => `${o.name}=${formatCell(t.values![i])}`).join(' ') : '';
    const why = t.state === 'failed' ? ` (${t.attrs.reason ?? 'error'}: ${t.attrs.error ?? ''})` : t.state === 'pruned' ? ` at step ${Math.max(...Object.keys(t.intermediate).map(Number), 0)}` : '';
    const best = this.best ? `; best ${formatCell(this.best.value)} (trial ${this.best.number})` : '';
    this.out.write(`trial ${t.number} ${t.state}${values ? ` ${values}` : ''}${why}${best} [${this.done}${this.total ? `/${this.total}` : ''}, ${formatDuration(Date.now() - this.started)}]\n`);
  }

  message(line: string): void {
    if (!this.enabled) return;
    if (this.tty) this.out.write('\r\x1b[2K');
    this.out.write(`${line}\n`);
    if (this.tty) this.render();
  }

  private render(): void {
    const elapsed = Date.now() - this.started;
    const width = 24;
    const frac = this.total ? Math.min(1, this.done / this.total) : 0;
    const filled = Math.round(frac * width);
    const bar = this.total ? `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ` : '';
    const eta = this.total && this.done > 0 && this.done < this.total ? ` eta ${formatDuration((elapsed / this.done) * (this.total - this.done))}` : '';
    const best = this.best ? ` best ${formatCell(this.best.value)}` : '';
    this.out.write(`\r\x1b[2K${bar}${this.done}${this.total ? `/${this.total}` : ''} trials${best} elapsed ${formatDuration(elapsed)}${eta}`);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    if (this.tty) {
      this.render();
      this.out.write('\n');
    }
  }
}
