import type { Executor, RunOptions, TrialOutcome, TrialTask } from '@segtune/core';
import { describeError, oneLine } from './failure';

/**
 * Where a trial runs: on this thread (`main`: code of our own that only awaits, where a hop
 * to a worker thread would cost more than the trial), a worker thread, or a process of its own.
 */
export type Isolation = 'main' | 'thread' | 'process';

export interface RoutingExecutorOptions {
  capacity: number;
  /** Where a trial must run: this thread, a worker thread of this process, or a process of its own. */
  isolation(task: TrialTask): Isolation | Promise<Isolation>;
  main(): Executor;
  threads(): Executor;
  processes(): Promise<Executor>;
}

/**
 * Sends each trial to this thread, a worker thread or a process of its own, as its workload
 * asks, and starts each kind of executor only when a trial first needs it. A study's trials
 * share one workload, so in practice one of them runs; all are bounded by the same capacity,
 * which the controller keeps to.
 */
export class RoutingExecutor implements Executor {
  readonly capacity: number;
  private main?: Executor;
  private threads?: Executor;
  private processes?: Promise<Executor>;
  private closed = false;

  constructor(private readonly options: RoutingExecutorOptions) {
    this.capacity = options.capacity;
  }

  /** What has been started so far, for tests and reports. */
  get started(): { main: boolean; threads: boolean; processes: boolean } {
    return { main: this.main !== undefined, threads: this.threads !== undefined, processes: this.processes !== undefined };
  }

  async run(task: TrialTask, options: RunOptions): Promise<TrialOutcome> {
    const attrs = { gpu: null, ...(task.backend ? { backend: task.backend } : {}) };
    if (this.closed) return { state: 'failed', reason: 'interrupted', error: 'the executor is closed', attrs };
    let target: Executor;
    try {
      const where = await this.options.isolation(task);
      if (where === 'process') {
        this.processes ??= this.options.processes();
        target = await this.processes;
      } else if (where === 'main') {
        target = this.main ??= this.options.main();
      } else {
        target = this.threads ??= this.options.threads();
      }
    } catch (e) {
      return { state: 'failed', reason: 'crash', error: oneLine(`could not start the trial's executor: ${describeError(e)}`), attrs };
    }
    return target.run(task, options);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const processes = this.processes?.catch(() => undefined);
    await Promise.all([this.main?.close(), this.threads?.close(), processes?.then((p) => p?.close())]);
  }
}
