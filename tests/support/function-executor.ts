// A minimal in-process Executor over a plain function, so core tests need no adapter package.
import { setTimeout as wait } from 'node:timers/promises';
import { Pruned, isPruned, toMetrics, type Executor, type RunOptions, type TrialOutcome, type TrialTask, type WorkloadContext } from '@segtune/core';
import type { Params } from '@segtune/space';

export type TestWorkload = (params: Params, ctx: WorkloadContext, task: TrialTask) => Promise<number | Record<string, number>> | number | Record<string, number>;

export class FunctionExecutor implements Executor {
  running = 0;
  maxRunning = 0;
  constructor(
    private readonly fn: TestWorkload,
    readonly capacity = 2,
  ) {}

  async run(task: TrialTask, options: RunOptions): Promise<TrialOutcome> {
    this.running++;
    this.maxRunning = Math.max(this.maxRunning, this.running);
    const attrs: Record<string, unknown> = { worker: 'test', gpu: null };
    const ctx: WorkloadContext = {
      trialNumber: task.trialNumber,
      seed: task.seed,
      budget: task.budget,
      signal: options.signal ?? new AbortController().signal,
      device: { gpu: null },
      setAttrs: (a) => Object.assign(attrs, a),
      report: async (step, values) => {
        const decision = await options.onReport(step, toMetrics(values, task.objectiveNames));
        if (decision === 'stop') throw new Pruned(step);
      },
    };
    try {
      const result = await this.fn(task.params, ctx, task);
      if (options.signal?.aborted) return { state: 'failed', reason: 'interrupted', error: 'interrupted', attrs };
      return { state: 'complete', metrics: toMetrics(result, task.objectiveNames), attrs };
    } catch (e) {
      if (isPruned(e)) return { state: 'pruned', attrs };
      if (options.signal?.aborted) return { state: 'failed', reason: 'interrupted', error: 'interrupted', attrs };
      return { state: 'failed', reason: 'error', error: (e as Error).message, attrs };
    } finally {
      this.running--;
    }
  }

  async close(): Promise<void> {}
}

/** Waits `ms`; rejects with "aborted" when the signal fires. */
export const sleep = (ms: number, signal?: AbortSignal) =>
  wait(ms, undefined, { signal }).catch(() => {
    throw new Error('aborted');
  });
