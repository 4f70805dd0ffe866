// `segtune worker`: one more process on a shared study. Every worker runs the same controller
// loop against the storage (no coordinator): trial numbers, claims, limits and stale-trial
// recovery are settled by the storage, samplers see every worker's trials through it, and
// schedulers decide from stored intermediate values.
import { readFileSync } from 'node:fs';
import { cpus, hostname } from 'node:os';
import { dirname, resolve } from 'node:path';
import {
  Study,
  StudyExistsError,
  UserError,
  runController,
  studyOutputDir,
  type Executor,
  type StopReason,
  type Storage,
  type StudyOptions,
  type StudyRecord,
  type Trial,
  type Tracker,
  type TrialAttrs,
} from '@segtune/core';
import { didYouMean, loadSpaceFile, parseSpace, type LoadedSpace } from '@segtune/space';
import { countRetries, maskUrl, openStorage, settleRunningTrials, startStaleSweeper, type StaleRecovery } from '@segtune/storage';
import { parseDuration } from '../duration';
import { checkBackendFlag, createCliExecutor, validateCliWorkload } from '../executor';
import { checkStudyName } from '../check-study-name';
import { runOutcome } from '../run-outcome';
import { Progress } from '../progress';
import { handleInterrupts } from '../interrupts';
import { studyDocument, summaryText } from '../study-report';
import { strategiesFor } from './search';

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
  /** `--grace DURATION`: the same as `graceMs`, as the command line gives it. */
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
  executor?: 'inline' | 'pool' | 'gpu' | 'auto';
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

/**
 * A study whose trial limit does not count reruns of stale trials (`retry_of`): a worker that
 * dies must not shrink the study. The limit is raised by the reruns seen at each ask.
 */
class WorkerStudy extends Study {
  constructor(
    options: StudyOptions,
    private readonly countReruns: boolean,
  ) {
    super(options);
  }

  override async ask(attrs: TrialAttrs = {}, maxTrials?: number): Promise<Trial | undefined> {
    if (maxTrials === undefined || !this.countReruns) return super.ask(attrs, maxTrials);
    return super.ask(attrs, maxTrials + countRetries(await this.trials()));
  }
}

function checkInt(flag: string, v: number | undefined, min: number): void {
  if (v !== undefined && (!Number.isInteger(v) || v < min)) throw new UserError(`${flag}: expected an integer >= ${min}, got ${v}`);
}

/** The study to join, created from `--space` when it does not exist (racing workers agree). */
async function joinStudy(storage: Storage, options: WorkerOptions): Promise<{ record: StudyRecord; created: boolean; loaded?: LoadedSpace }> {
  const existing = await storage.getStudy(options.study);
  if (existing) return { record: existing, created: false };
  if (!options.space) {
    const known = (await storage.listStudies()).map((s) => s.name);
    throw new UserError(
      `--study: no study named "${options.study}" in ${maskUrl(storage.description)}${didYouMean(options.study, known)}${known.length ? `; known: ${known.slice(0, 10).join(', ')}` : '; the storage holds no study'}; create it with \`segtune search SPACE.yaml --storage URL --study ${options.study}\` or pass --space FILE`,
    );
  }
  const loaded = loadSpaceFile(options.space);
  const { spec } = loaded;
  const timeoutMs = spec.timeout ? parseDuration(spec.timeout, 'timeout') : undefined;
  try {
    const record = await storage.createStudy({
      name: options.study,
      objectives: spec.objectives,
      constraints: spec.constraints,
      budget: spec.budget,
      sampler: spec.sampler,
      scheduler: spec.scheduler,
      seed: options.seed ?? spec.seed ?? Math.floor(Math.random() * 2 ** 31),
      spaceSource: loaded.source,
      limits: { trials: options.trials ?? spec.trials, timeoutMs },
      attrs: { space_file: resolve(loaded.file), workload: spec.workload },
    });
    return { record, created: true, loaded };
  } catch (e) {
    // Another worker created it a moment ago: join that one.
    if (!(e instanceof StudyExistsError)) throw e;
    const record = await storage.getStudy(options.study);
    if (!record) throw e;
    return { record, created: false };
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((done) => {
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', () => (clearTimeout(timer), done()), { once: true });
  });
}

/**
 * Joins `options.study` in `options.storage` and runs trials until the study's trial or time
 * limit is reached (or Ctrl-C). With `retryFailed`, it also stays while other workers' trials
 * run, so that one whose worker died is failed as stale after `graceMs` and rerun here.
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
  const startedAt = Date.now();

  const tracking = options.mlflow || process.env.MLFLOW_TRACKING_URI ? await import('@segtune/tracking') : undefined;
  const mlflowUri = tracking?.resolveTrackingUri(options.mlflow);

  // Bad executor flags fail before the storage is opened (and a study created from --space).
  const executor: Executor = deps.createExecutor
    ? await deps.createExecutor({ workers, gpus: options.gpus, trialTimeoutMs, backend: options.backend })
    : await createCliExecutor({ kind: options.executor, workers, gpus: options.gpus, trialsPerGpu: options.trialsPerGpu, heapLimitMb: options.heapLimitMb, trialTimeoutMs });
  const storage = await openStorage(options.storage).catch(async (e: unknown) => {
    await executor?.close().catch(() => undefined);
    throw e;
  });
  const trackers: Tracker[] = [];
  try {
    const { record, created, loaded: fromFlag } = await joinStudy(storage, options);
    if (!record.spaceSource) throw new UserError(`--study: study "${record.name}" stores no space file, so a worker cannot rebuild it; run it with \`segtune search --resume\``);
    const spaceFile = typeof record.attrs.space_file === 'string' ? record.attrs.space_file : undefined;
    const loaded = fromFlag ?? parseSpace(record.spaceSource, spaceFile ?? `<study ${record.name}>`);
    if (options.space && !created && !fromFlag) {
      const text = readFileSync(options.space, 'utf8');
      if (text !== record.spaceSource && !options.quiet) stderr.write(`note: study "${record.name}" exists; using its stored space, not ${options.space}\n`);
    }
    const { sampler, scheduler } = await strategiesFor({ sampler: record.sampler, scheduler: record.scheduler, objectives: record.objectives, budget: record.budget });
    // Relative paths in the workload (a user module) are relative to the space file.
    const spaceDir = dirname(resolve(options.space ?? spaceFile ?? '.'));
    const workload = loaded.spec.workload;
    await validateCliWorkload(workload, spaceDir, loaded.space.names, record.objectives.map((o) => o.name));
    await checkBackendFlag(options.backend);

    const trialLimit = options.trials ?? record.limits?.trials;
    // The study's time limit runs from its creation; --timeout from this worker's start.
    const deadline = ownTimeoutMs !== undefined ? startedAt + ownTimeoutMs : record.limits?.timeoutMs !== undefined ? record.createdAt + record.limits.timeoutMs : undefined;

    if (tracking && mlflowUri) {
      // Each machine drains its own outbox sink, so that no event is sent twice; trials of
      // every worker nest under the study's one parent run.
      trackers.push(tracking.createMlflowTracker({ uri: mlflowUri, storage, sink: `mlflow:${hostname()}`, onWarning: (m: string) => stderr.write(`warning: ${m}\n`) }));
    }
    const study = new WorkerStudy({ storage, record, space: loaded.space, sampler, scheduler, worker: deps.workerName, trackers }, retryFailed > 0);
    if (created) study.emit({ kind: 'study-started', study: record, spaceFile: spaceFile ?? options.space });
    if (created) for (const cfg of loaded.spec.enqueue ?? []) await study.enqueue(cfg);
    const progress = new Progress(record.objectives, trialLimit, stderr, !options.json && !options.quiet);
    if (sampler.onWarning === undefined) (sampler as { onWarning?: (m: string) => void }).onWarning = (m) => progress.message(`note: ${m}`);
    if (!options.json && !options.quiet) {
      stderr.write(
        `segtune worker ${study.worker}: study "${record.name}" in ${maskUrl(storage.description)}; sampler ${sampler.name}, scheduler ${scheduler.name}, ${workers} at once${trialLimit ? `, study limit ${trialLimit} trials` : ''}${retryFailed ? `, retry stale trials up to ${retryFailed}x` : ''}\n`,
      );
    }

    let recovered = 0;
    let requeued = 0;
    const onRecovered = (r: StaleRecovery) => {
      recovered += r.failed.length;
      requeued += r.requeued.length;
      progress.message(`recovered ${r.failed.map((t) => `#${t.number}`).join(', ')} (stale)${r.requeued.length ? `; rerun as ${r.requeued.map((t) => `#${t.number}`).join(', ')}` : ''}`);
    };
    const sweeper = startStaleSweeper(study, { graceMs, retryFailed, onRecovered, onError: (e) => progress.message(`warning: stale-trial sweep failed: ${e.message}`) });

    const interrupts = handleInterrupts((m) => progress.message(m), { listen: deps.handleSignals ?? true });
    const stopSignal = deps.stopSignal ? AbortSignal.any([interrupts.stop, deps.stopSignal]) : interrupts.stop;
    const abortSignal = deps.abortSignal ? AbortSignal.any([interrupts.abort, deps.abortSignal]) : interrupts.abort;

    let started = 0;
    let finished = 0;
    const finishedTrials: Trial[] = [];
    let stoppedBy: StopReason = 'trials';
    try {
      while (true) {
        await sweeper.sweep().catch(() => undefined);
        if (stopSignal.aborted) {
          stoppedBy = 'interrupted';
          break;
        }
        const remaining = deadline === undefined ? undefined : deadline - Date.now();
        if (remaining !== undefined && remaining <= 0) {
          stoppedBy = 'timeout';
          break;
        }
        const result = await runController({
          study,
          executor,
          workload,
          spaceDir,
          maxTrials: trialLimit,
          timeoutMs: remaining,
          concurrency: executor.capacity,
          trialTimeoutMs,
          backend: options.backend,
          artifactRoot: studyOutputDir(record.name),
          stopSignal,
          abortSignal,
          heartbeatMs,
          maxConsecutiveFailures: options.maxFailures,
          onTrialFinished: (t) => progress.finished(t),
          onError: (e) => progress.message(`error: ${e.message}`),
        });
        started += result.started;
        finished += result.finished.length;
        finishedTrials.push(...result.finished);
        if (result.stoppedBy !== 'trials') {
          stoppedBy = result.stoppedBy;
          break;
        }
        // The limit is reached. A rerun enqueued meanwhile raises it; and while another worker's
        // trial runs, stay to rerun it should its worker die (only when reruns are wanted).
        const all = await study.trials();
        const limit = trialLimit === undefined ? undefined : trialLimit + (retryFailed > 0 ? countRetries(all) : 0);
        const active = all.filter((t) => t.state !== 'waiting').length;
        if (all.some((t) => t.state === 'waiting') && (limit === undefined || active < limit)) continue;
        if (retryFailed > 0 && all.some((t) => t.state === 'running')) {
          await sleep(Math.min(1_000, Math.max(50, graceMs / 4)), stopSignal);
          continue;
        }
        // This may be the last worker: recover a dead worker's trial before leaving.
        await settleRunningTrials(study, { graceMs, sweep: sweeper.sweep, signal: stopSignal });
        break;
      }
    } finally {
      await sweeper.stop();
      interrupts.dispose();
      progress.stop();
    }

    const all = await study.trials();
    if (options.json) stdout.write(`${JSON.stringify({ ...studyDocument(record, all), worker: { name: study.worker, started, finished, recovered, requeued, stopped_by: stoppedBy } }, null, 2)}\n`);
    else {
      stdout.write(`worker ${study.worker}: ran ${finished} trial${finished === 1 ? '' : 's'}${recovered ? `, failed ${recovered} stale (${requeued} rerun)` : ''}; stopped by ${stoppedBy}\n`);
      stdout.write(`${summaryText(record, all, Date.now() - startedAt)}\n`);
    }
    const outcome = runOutcome(finishedTrials, stoppedBy, options.maxFailures);
    if (outcome.message && interrupts.count === 0) stderr.write(`segtune: ${outcome.message}\n`);
    return { record, started, finished, recovered, requeued, stoppedBy, exitCode: interrupts.count > 0 ? 130 : outcome.exitCode };
  } finally {
    await executor?.close().catch(() => undefined);
    for (const t of trackers) {
      await t.flush?.(10_000).catch(() => undefined);
      await t.close?.().catch(() => undefined);
    }
    await storage.close();
  }
}
