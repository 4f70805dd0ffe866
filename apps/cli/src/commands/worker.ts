// `segtune worker`: one more process on a shared study. Every worker runs the same session
// loop (core's runSession) against the storage, with no coordinator: trial numbers, claims,
// limits and stale-trial recovery are settled by the storage, samplers see every worker's
// trials through it, and schedulers decide from stored intermediate values.
import { cpus } from 'node:os';
import { UserError, currentLimits, openSession, type Executor, type StopReason, type StudyRecord } from '@segtune/core';
import { loadSpaceFile, type WorkloadSpec } from '@segtune/space';
import { createStrategies } from '@segtune/schedulers';
import { maskUrl, openStorage } from '@segtune/storage';
import { parseDuration } from '../duration';
import { checkBackendFlag, validateCliWorkload } from '../executor';
import { checkStudyName } from '../check-study-name';
import type { Progress } from '../progress';
import { runCliSession } from '../cli-session';
import { studyDocument, summaryText } from '../study-report';
import { openRunResources } from '../run-resources';

export interface WorkerOptions {
  /** `--storage URL` (required): the shared storage, normally `postgresql://…`. */
  storage: string;
  /** `--study NAME` (required). */
  study: string;
  /** `--workers N`: trials at once in this process (default: the number of cores). */
  workers?: number;
  /** `--gpus all|none|0,1`, handed to the executor. */
  gpus?: string;
  /** `--space FILE`: creates the study from this file when it does not exist yet. */
  space?: string;
  /** `--retry-failed N`: rerun a stale trial's configuration at most N times (default 0). */
  retryFailed?: number;
  /** Heartbeat period of running trials, ms (default 5 s). */
  heartbeatMs?: number;
  /** A running trial without a heartbeat for this long is failed as `stale`, ms (default 60 s). */
  graceMs?: number;
  /** `--grace DURATION`: the same as `graceMs`, as the command line gives it (e.g. `90s`). */
  grace?: string;
  /** `--trials N`: overrides the study's trial limit. */
  trials?: number;
  /** `--timeout DURATION`: overrides the study's time limit, counted from this worker's start. */
  timeout?: string;
  /** `--trial-timeout DURATION`. */
  trialTimeout?: string;
  backend?: string;
  /** `--trials-per-gpu N`. */
  trialsPerGpu?: number;
  /** `--heap-limit-mb N`: heap limit of each trial's worker thread. */
  heapLimitMb?: number;
  /** `--executor`: auto (default), pool, gpu or inline. */
  executor?: 'inline' | 'pool' | 'process' | 'gpu' | 'auto';
  /** `--mlflow URL` (default: $MLFLOW_TRACKING_URI): this worker's trials nest under the study's run. */
  mlflow?: string;
  /** Study seed when `--space` creates the study. */
  seed?: number;
  json?: boolean;
  quiet?: boolean;
  /** `--max-failures N`: stop after N failed trials in a row. */
  maxFailures?: number;
}

export interface WorkerDeps {
  stdout?: NodeJS.WritableStream;
  stderr?: NodeJS.WriteStream;
  /** Builds the executor (default: in-process, `workers` trials at once). */
  createExecutor?: (options: { workers: number; gpus?: string; trialTimeoutMs?: number; backend?: string }) => Promise<Executor> | Executor;
  /** Stop starting trials (like a first Ctrl-C). */
  stopSignal?: AbortSignal;
  /** Stop running trials too (like a second Ctrl-C). */
  abortSignal?: AbortSignal;
  /** Listen for SIGINT/SIGTERM (default true). */
  handleSignals?: boolean;
  /** Name stored on this worker's trials (default host:pid). */
  workerName?: string;
}

export interface WorkerResult {
  record: StudyRecord;
  /** Trials this worker started and finished. */
  started: number;
  finished: number;
  /** Other workers' trials this one failed as stale, and how many of those it enqueued again. */
  recovered: number;
  requeued: number;
  stoppedBy: StopReason;
  exitCode: number;
}

function checkInt(flag: string, v: number | undefined, min: number): void {
  if (v !== undefined && (!Number.isInteger(v) || v < min)) throw new UserError(`${flag}: expected an integer >= ${min}, got ${v}`);
}

/**
 * Joins `options.study` in `options.storage` (created from `--space` when it does not exist) and
 * runs trials until the study's trial or time limit is reached (or Ctrl-C). With `retryFailed`,
 * it also stays while other workers' trials run, so that one whose worker died is failed as
 * stale after the grace period and rerun here.
 */
export async function runWorker(options: WorkerOptions, deps: WorkerDeps = {}): Promise<WorkerResult> {
  const stdout = deps.stdout ?? process.stdout;
  const stderr = deps.stderr ?? process.stderr;
  if (!options.storage) throw new UserError('--storage: required; the shared storage every worker uses, e.g. postgresql://user@host/db');
  if (!options.study) throw new UserError('--study: required; the name of the study to join');
  checkStudyName(options.study);
  checkInt('--workers', options.workers, 1);
  checkInt('--retry-failed', options.retryFailed, 0);
  checkInt('--trials', options.trials, 1);
  const graceMs = options.graceMs ?? (options.grace ? parseDuration(options.grace, '--grace') : 60_000);
  // A short grace needs heartbeats often enough to keep live trials from looking stale.
  const heartbeatMs = options.heartbeatMs ?? Math.min(5_000, Math.floor(graceMs / 3));
  if (!(heartbeatMs > 0) || !(graceMs > heartbeatMs)) throw new UserError(`--grace: the grace period (${graceMs} ms) must be longer than the heartbeat period (${heartbeatMs} ms)`);
  const retryFailed = options.retryFailed ?? 0;
  const workers = options.workers ?? Math.max(1, cpus().length);
  const trialTimeoutMs = options.trialTimeout ? parseDuration(options.trialTimeout, '--trial-timeout') : undefined;
  const ownTimeoutMs = options.timeout ? parseDuration(options.timeout) : undefined;
  const space = options.space ? loadSpaceFile(options.space) : undefined;
  const startedAt = Date.now();
  const quiet = options.json || options.quiet;
  let progress: Progress | undefined;
  // The executor starts before the session (bad GPU flags fail before anything is written), so
  // on a machine with GPUs the study's workload is read first: it decides whether trials take
  // the GPU processes (see createExecutor).
  const inventory = !deps.createExecutor && options.gpus === undefined && (options.executor ?? 'auto') === 'auto' ? (await import('@segtune/executor')).detectGpus() : undefined;
  const workload = inventory?.length ? ((await storedWorkload(options.storage, options.study)) ?? space?.spec.workload) : undefined;
  const res = await openRunResources({
    executor: deps.createExecutor
      ? () => deps.createExecutor!({ workers, gpus: options.gpus, trialTimeoutMs, backend: options.backend })
      : { kind: options.executor, workers, gpus: options.gpus, trialsPerGpu: options.trialsPerGpu, heapLimitMb: options.heapLimitMb, trialTimeoutMs, inventory, ...(workload ? { workload: { spec: workload, backend: options.backend } } : {}) },
    storage: options.storage,
    mlflow: options.mlflow,
    perMachineSink: true,
    onWarning: (m) => (progress ? progress.message(`warning: ${m}`) : stderr.write(`warning: ${m}\n`)),
  });
  try {
    const timeoutFromSpace = space?.spec.timeout ? parseDuration(space.spec.timeout, 'timeout') : undefined;
    const session = await openSession({ storage: res.storage, strategies: createStrategies, mode: 'join', name: options.study, space, seed: options.seed, limits: { trials: options.trials ?? space?.spec.trials, timeoutMs: timeoutFromSpace }, openStorage: (url) => openStorage(url, { readonly: true, flag: '--warm-start' }) });
    const { record } = session;
    if (!options.quiet) for (const w of session.warnings) stderr.write(`note: ${w}\n`);
    await validateCliWorkload(session.workload, session.spaceDir, session.loaded.space.names, record.objectives.map((o) => o.name));
    await checkBackendFlag(options.backend);
    // The study's limits as a resume last set them; its time limit runs from then (its creation
    // if never), --timeout from this worker's start.
    const limits = currentLimits(record);
    const maxTrials = options.trials ?? limits.trials;
    const deadline = ownTimeoutMs !== undefined ? startedAt + ownTimeoutMs : limits.timeoutMs !== undefined ? limits.since + limits.timeoutMs : undefined;
    const result = await runCliSession(session, {
      stderr,
      show: !quiet,
      listen: deps.handleSignals,
      onProgress: (p) => (progress = p),
      executor: res.executor,
      trackers: res.trackers,
      worker: deps.workerName,
      maxTrials,
      deadline,
      trialTimeoutMs,
      backend: options.backend,
      heartbeatMs,
      maxConsecutiveFailures: options.maxFailures,
      maxFailures: options.maxFailures,
      shared: { graceMs, retryFailed },
      stopSignal: deps.stopSignal,
      abortSignal: deps.abortSignal,
      onReady: (study) => {
        if (quiet) return;
        stderr.write(
          `segtune worker ${study.worker}: study "${record.name}" in ${maskUrl(res.storage.description)}; sampler ${session.sampler.name}, scheduler ${session.scheduler.name}, ${workers} at once${maxTrials ? `, study limit ${maxTrials} trials` : ''}${retryFailed ? `, retry stale trials up to ${retryFailed}x` : ''}\n`,
        );
      },
    });
    const { study, started, recovered, requeued, stoppedBy, trials: all } = result;
    const n = result.finished.length;
    if (options.json) stdout.write(`${JSON.stringify({ ...studyDocument(record, all), worker: { name: study.worker, started, finished: n, recovered, requeued, stopped_by: stoppedBy } }, null, 2)}\n`);
    else {
      stdout.write(`worker ${study.worker}: ran ${n} trial${n === 1 ? '' : 's'}${recovered ? `, failed ${recovered} stale (${requeued} rerun)` : ''}; stopped by ${stoppedBy}\n`);
      stdout.write(`${summaryText(record, all, Date.now() - startedAt)}\n`);
    }
    return { record, started, finished: n, recovered, requeued, stoppedBy, exitCode: result.exitCode };
  } finally {
    await res.close();
  }
}

/** The workload of a study that exists, read without writing; undefined when it cannot be (the real open reports why). */
async function storedWorkload(url: string, name: string): Promise<WorkloadSpec | undefined> {
  const storage = await openStorage(url, { readonly: true }).catch(() => undefined);
  if (!storage) return undefined;
  try {
    const w = (await storage.getStudy(name))?.attrs.workload;
    return w && typeof w === 'object' && typeof (w as { kind?: unknown }).kind === 'string' ? (w as WorkloadSpec) : undefined;
  } catch {
    return undefined;
  } finally {
    await storage.close().catch(() => undefined);
  }
}
