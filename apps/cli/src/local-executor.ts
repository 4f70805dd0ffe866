// Runs trials on the main thread through the CLI's own resolver. A stop-gap while
// @segtune/executor lands: the real executor replaces it.
import { Pruned, isPruned, toMetrics, type Executor, type RunOptions, type TrialOutcome, type TrialTask, type Workload, type WorkloadContext } from '@segtune/core';
import { resolveWorkload } from './workloads';

export class LocalExecutor implements Executor {
  private readonly cache = new Map<string, Promise<Workload>>();
  constructor(readonly capacity = 1) {}

  async run(task: TrialTask, options: RunOptions): Promise<TrialOutcome> {
    const attrs: Record<string, unknown> = { worker: 'main', gpu: null };
    const abort = new AbortController();
    const onAbort = () => abort.abort();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    const timer = task.timeoutMs ? setTimeout(() => abort.abort(), task.timeoutMs) : undefined;
    const ctx: WorkloadContext = {
      trialNumber: task.trialNumber,
      seed: task.seed,
      budget: task.budget,
      signal: abort.signal,
      device: { gpu: null, backend: task.backend },
      setAttrs: (a) => Object.assign(attrs, a),
      artifactDir: task.artifactDir,
      report: async (step, values) => {
        if (abort.signal.aborted) throw new Error('aborted');
        if ((await options.onReport(step, toMetrics(values, task.objectiveNames))) === 'stop') throw new Pruned(step);
      },
    };
    try {
      const key = JSON.stringify([task.workload, task.spaceDir]);
      if (!this.cache.has(key)) this.cache.set(key, resolveWorkload(task.workload, { spaceDir: task.spaceDir }));
      const fn = await this.cache.get(key)!;
      const result = await fn(task.params, ctx);
      if (abort.signal.aborted) return failed(options.signal?.aborted ? 'interrupted' : 'timeout', attrs);
      return { state: 'complete', metrics: toMetrics(result, task.objectiveNames), attrs };
    } catch (e) {
      if (isPruned(e)) return { state: 'pruned', attrs };
      if (abort.signal.aborted) return failed(options.signal?.aborted ? 'interrupted' : 'timeout', attrs);
      return { state: 'failed', reason: 'error', error: (e as Error)?.message ?? String(e), attrs };
    } finally {
      if (timer) clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
    }
  }

  async close(): Promise<void> {}
}

const failed = (reason: string, attrs: Record<string, unknown>): TrialOutcome => ({ state: 'failed', reason, error: reason === 'timeout' ? 'trial timed out' : 'interrupted', attrs });
