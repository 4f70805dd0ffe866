import { abortGrace } from './abort-grace';
import type { Executor, RunOptions, TrialAttrs, TrialOutcome, TrialTask, WorkloadResolver } from '@segtune/core';
import { describeError, formatMs, oneLine, TrialAbort } from './failure';
import { killProcessGroup } from './process-group';
import { WorkloadCache } from './resolver-module';
import { runTrial } from './trial-runner';

export interface InlineExecutorOptions {
  resolve: WorkloadResolver;
  /** Trials at once on the main thread (they interleave at their awaits); default 1. */
  capacity?: number;
  timeoutMs?: number;
  /** How long a timed-out or interrupted workload may take to honour `ctx.signal`; default 5000 ms. */
  abortGraceMs?: number;
}

/**
 * Runs workloads on the main thread: for debugging and fast tests. Timeouts and interrupts
 * abort `ctx.signal`; a workload that ignores it is abandoned after the grace period (its
 * promise is left behind; a synchronous endless loop cannot be stopped here, use the pool).
 */
export class InlineExecutor implements Executor {
  readonly capacity: number;
  private readonly workloads: WorkloadCache;

  constructor(private readonly options: InlineExecutorOptions) {
    this.capacity = options.capacity ?? 1;
    this.workloads = new WorkloadCache(options.resolve);
  }

  async run(task: TrialTask, options: RunOptions): Promise<TrialOutcome> {
    const attrs: TrialAttrs = { worker: `pid${process.pid}/main`, gpu: null };
    if (task.backend) attrs.backend = task.backend;
    if (options.signal?.aborted) return { state: 'failed', reason: 'interrupted', error: 'interrupted before the trial started', attrs };
    let workload;
    try {
      workload = await this.workloads.get(task.workload, task.spaceDir);
    } catch (e) {
      return { state: 'failed', reason: 'error', error: oneLine(`could not load the ${task.workload.kind} workload: ${describeError(e)}`), attrs };
    }
    try {
      options.onStart?.({ ...attrs });
    } catch {
      // An observer cannot fail a trial.
    }

    const abort = new AbortController();
    const timeoutMs = task.timeoutMs ?? this.options.timeoutMs;
    const grace = this.options.abortGraceMs ?? 5_000;
    let timer: NodeJS.Timeout | undefined;
    let graceTimer: NodeJS.Timeout | undefined;
    let abandon!: (o: TrialOutcome) => void;
    const abandoned = new Promise<TrialOutcome>((r) => (abandon = r));
    const liveAttrs: TrialAttrs = { ...attrs };
    const stop = (why: TrialAbort) => {
      if (abort.signal.aborted) return;
      abort.abort(why);
      graceTimer = setTimeout(() => {
        if (typeof liveAttrs.command_pid === 'number') killProcessGroup(liveAttrs.command_pid, 'SIGKILL');
        abandon({ state: 'failed', reason: why.reason, error: `${why.message} (the workload ignored the abort and was abandoned)`, attrs: liveAttrs });
      }, abortGrace(why.reason, task, grace));
    };
    const onInterrupt = () => stop(new TrialAbort('interrupted', 'interrupted'));
    options.signal?.addEventListener('abort', onInterrupt, { once: true });
    if (timeoutMs !== undefined && timeoutMs > 0) timer = setTimeout(() => stop(new TrialAbort('timeout', `trial timed out after ${formatMs(timeoutMs)}`)), timeoutMs);

    try {
      return await Promise.race([
        runTrial(workload, task, {
          device: { gpu: null, ...(task.backend ? { backend: task.backend } : {}) },
          signal: abort.signal,
          attrs,
          channel: { report: (step, values) => options.onReport(step, values), setAttrs: (more) => {
            Object.assign(liveAttrs, more);
            options.onAttrs?.({ ...more });
          } },
        }),
        abandoned,
      ]);
    } finally {
      clearTimeout(timer);
      clearTimeout(graceTimer);
      options.signal?.removeEventListener('abort', onInterrupt);
    }
  }

  async close(): Promise<void> {
    // Nothing runs outside the calls to run().
  }
}
