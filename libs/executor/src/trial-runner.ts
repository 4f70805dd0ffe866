import { Pruned, toMetrics, type DeviceInfo, type Decision, type MetricValues, type TrialAttrs, type TrialOutcome, type TrialTask, type Workload, type WorkloadContext } from '@segtune/core';
import { classifyFailure, oneLine } from './failure';

/** How a running trial talks to whoever decides about it (the controller, maybe threads away). */
export interface TrialChannel {
  report(step: number, values: MetricValues): Promise<Decision>;
  /** Attributes as they are set, so that they survive a crash of the thread. */
  setAttrs(attrs: Record<string, unknown>): void;
}

export interface RunTrialOptions {
  device: DeviceInfo;
  signal: AbortSignal;
  channel: TrialChannel;
  /** Attributes known before the workload starts (worker, gpu, backend). */
  attrs: TrialAttrs;
}

/** Rejects with the signal's reason as soon as it aborts. */
export function raceAbort<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}

/**
 * Runs one workload call and turns whatever happens into an outcome: the same code on the main
 * thread (inline), in a worker thread, and in a GPU process's threads.
 */
export async function runTrial(workload: Workload, task: TrialTask, options: RunTrialOptions): Promise<TrialOutcome> {
  const attrs: TrialAttrs = { ...options.attrs };
  const { signal, channel } = options;
  const state: { stopped: boolean; stopStep?: number; signal: AbortSignal } = { stopped: false, signal };

  const ctx: WorkloadContext = {
    trialNumber: task.trialNumber,
    seed: task.seed,
    budget: task.budget,
    signal,
    device: options.device,
    artifactDir: task.artifactDir,
    resumeFrom: task.resumeFrom,
    ...(task.checkpointSteps ? { checkpointSteps: task.checkpointSteps } : {}),
    objectiveNames: task.objectiveNames,
    setAttrs(more) {
      Object.assign(attrs, more);
      channel.setAttrs(more);
    },
    async report(step, values) {
      if (state.stopped) throw new Pruned(state.stopStep);
      if (signal.aborted) throw signal.reason;
      const decision = await raceAbort(channel.report(step, toMetrics(values, task.objectiveNames)), signal);
      if (decision === 'stop') {
        state.stopped = true;
        state.stopStep = step;
        throw new Pruned(step);
      }
    },
  };

  let result: unknown;
  try {
    result = await workload(task.params, ctx);
  } catch (e) {
    const f = classifyFailure(e, state);
    if (f.state === 'pruned') return { state: 'pruned', step: f.step, attrs };
    if (f.reason === 'error' && e instanceof Error && e.stack) attrs.stack = e.stack.split('\n').slice(0, 8).join('\n');
    return { state: 'failed', reason: f.reason, error: f.error, attrs };
  }
  // A workload that swallowed Pruned, or finished after its time ran out, still ends as told.
  if (state.stopped) return { state: 'pruned', step: state.stopStep, attrs };
  if (signal.aborted) {
    const f = classifyFailure(signal.reason, state);
    if (f.state === 'failed') return { state: 'failed', reason: f.reason, error: f.error, attrs };
  }
  return completeOutcome(result, task.objectiveNames, attrs);
}

/** Checks a workload's return value: a number, or a record whose objectives are numbers. */
export function completeOutcome(result: unknown, objectiveNames: readonly string[], attrs: TrialAttrs): TrialOutcome {
  if (typeof result === 'number') return { state: 'complete', metrics: toMetrics(result, objectiveNames), attrs };
  if (typeof result !== 'object' || result === null || Array.isArray(result)) {
    return { state: 'failed', reason: 'error', error: `the workload returned ${describeValue(result)}; expected a number or a record of metrics`, attrs };
  }
  const metrics: MetricValues = {};
  for (const [k, v] of Object.entries(result as Record<string, unknown>)) {
    if (typeof v === 'number') metrics[k] = v;
    else if (objectiveNames.includes(k)) {
      return { state: 'failed', reason: 'error', error: oneLine(`objective "${k}" is ${describeValue(v)}; expected a number`), attrs };
    }
  }
  return { state: 'complete', metrics, attrs };
}

function describeValue(v: unknown): string {
  if (v === null || v === undefined) return String(v);
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.slice(0, 40))}`;
  return `a ${typeof v}`;
}

