import type { Executor, RunOptions, TrialOutcome, TrialTask } from '@segtune/core';
import { describeError, oneLine } from './failure';

export type Isolation = 'thread' | 'process';

export interface RoutingExecutorOptions {
  capacity: number;
  /** Where a trial must run: a thread of this process, or a process of its own. */
  isolation(task: TrialTask): Isolation | Promise<Isolation>;
  threads(): Executor;
  processes(): Promise<Executor>;
}

/**
 * Sends each trial to a worker thread or to a process of its own, as its workload asks, and
 * starts each kind of executor only when a trial first needs it. A study's trials share one
 * workload, so in practice one of the two runs; both are bounded by the same capacity, which
 * the controller keeps to.
 */
export class RoutingExecutor implements Executor {
  readonly capacity: number;
  private threads?: Executor;
  private processes?: Promise<Executor>;
  private closed = false;

  constructor(private readonly options: RoutingExecutorOptions) {
    this.capacity = options.capacity;
  }

  /** What has been started so far, for tests and reports. */
  get started(): { threads: boolean; processes: boolean } {
    return { threads: this.threads !== undefined, processes: this.processes !== undefined };
  }

  async run(task: TrialTask, options: RunOptions): Promise<TrialOutcome> {
    const attrs = { gpu: null, ...(task.backend ? { backend: task.backend } : {}) };
    if (this.closed) return { state: 'failed', reason: 'interrupted', error: 'the executor is closed', attrs };
    let target: Executor;
    try {
      if ((await this.options.isolation(task)) === 'process') {
        this.processes ??= this.options.processes();
        target = await this.processes;
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
    await Promise.all([this.threads?.close(), processes?.then((p) => p?.close())]);
  }
}
