import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cpus } from 'node:os';
import {
  Study,
  bestTrials,
  UserError,
  failDeadTrials,
  studyOutputDir,
  noScheduler,
  parseConstraint,
  runController,
  type Scheduler,
  type Sampler,
  type Storage,
  type StudyRecord,
  type Tracker,
  type Executor,
} from '@segtune/core';
import { checkBackendFlag, createCliExecutor, validateCliWorkload } from '../executor';
import { checkStudyName } from '../check-study-name';
import { runOutcome } from '../run-outcome';
import { didYouMean, loadSpaceFile, type LoadedSpace, type SpaceFile } from '@segtune/space';
import { createSampler } from '@segtune/samplers';
import { openStorage, maskUrl } from '@segtune/storage';
import { parseDuration } from '../duration';
import { Progress } from '../progress';
import { handleInterrupts } from '../interrupts';
import { studyDocument, summaryText } from '../study-report';
import { readEnqueueFiles } from '../enqueue-files';
import { chooseTrial, exportDocument, formatExport } from './export';
import { computeFronts, writeParetoPlot } from './pareto';
import { mkdirSync, writeFileSync } from 'node:fs';

export interface SearchOptions {
  trials?: number;
  timeout?: string;
  workers?: number;
  gpus?: string;
  trialsPerGpu?: number;
  /** Heap limit of each trial's worker thread, MB. */
  heapLimitMb?: number;
  storage?: string;
  mlflow?: string;
  study?: string;
  resume?: boolean;
  seed?: number;
  sampler?: string;
  scheduler?: string;
  backend?: string;
  trialTimeout?: string;
  executor?: 'inline' | 'pool' | 'gpu' | 'auto';
  json?: boolean;
  quiet?: boolean;
  /** Export files whose params are enqueued first. */
  enqueue?: string[];
  /** False: no plot and no export at the end. */
  export?: boolean;
  /** `--max-failures N`: stop after N failed trials in a row. */
  maxFailures?: number;
}

/** The CLI's bundled workload resolver, loaded by executor threads and GPU processes. */
export function resolverModulePath(): string {
  // Works from the TypeScript sources (apps/cli/src/commands) and from the bundle (apps/cli/dist).
  const here = dirname(fileURLToPath(import.meta.url));
  const root = here.endsWith('dist') ? resolve(here, '..') : here.includes('/src') ? here.slice(0, here.lastIndexOf('/src')) : resolve(here, '..');
  return resolve(root, 'dist', 'workloads.mjs');
}

export interface SearchResult {
  record: StudyRecord;
  exitCode: number;
}

/** Samplers and schedulers from the space file, overridden by flags. */
export async function strategiesFor(spec: Pick<SpaceFile, 'sampler' | 'scheduler' | 'objectives' | 'budget'>, overrides: { sampler?: string; scheduler?: string } = {}): Promise<{ sampler: Sampler; scheduler: Scheduler; samplerSpec: SpaceFile['sampler']; schedulerSpec: SpaceFile['scheduler'] }> {
  const schedulerSpec = overrides.scheduler ? { kind: overrides.scheduler } : spec.scheduler;
  const samplerSpec = overrides.sampler ? { kind: overrides.sampler } : spec.sampler;
  let scheduler: Scheduler = noScheduler;
  let bohbSampler: Sampler | undefined;
  if (schedulerSpec && schedulerSpec.kind !== 'none') {
    if (!spec.budget) throw new UserError(`scheduler "${schedulerSpec.kind}" needs a "budget" block in the space file (e.g. budget: { name: epochs, min: 1, max: 9 })`);
    const schedulers = await import('@segtune/schedulers');
    scheduler = schedulers.createScheduler(schedulerSpec, spec.budget, spec.objectives);
    if (schedulerSpec.kind === 'bohb' && !overrides.sampler && !spec.sampler) bohbSampler = schedulers.createBohbSampler(schedulerSpec, spec.budget, spec.objectives);
  }
  const defaultSampler = spec.objectives.length > 1 ? 'nsga2' : 'tpe';
  const sampler = bohbSampler ?? createSampler(samplerSpec ?? { kind: defaultSampler });
  return { sampler, scheduler, samplerSpec: samplerSpec ?? { kind: bohbSampler ? 'bohb' : defaultSampler }, schedulerSpec };
}

/** Opens or creates the study that `segtune search` runs. */
export async function openStudyForSearch(storage: Storage, loaded: LoadedSpace, options: SearchOptions, limits: { trials?: number; timeoutMs?: number }): Promise<{ record: StudyRecord; created: boolean }> {
  const name = options.study ?? loaded.spec.name;
  const existing = await storage.getStudy(name);
  if (options.resume) {
    if (!existing) {
      const known = (await storage.listStudies()).map((s) => s.name);
      throw new UserError(`--resume: no study named "${name}" in ${storage.description}${didYouMean(name, known)}${known.length ? `; known: ${known.slice(0, 10).join(', ')}` : '; the storage holds no study'}`);
    }
    return { record: existing, created: false };
  }
  if (existing) throw new UserError(`--study: a study named "${name}" already exists in ${storage.description}; add --resume to continue it, or pass --study with a new name`);
  const { spec } = loaded;
  const record = await storage.createStudy({
    name,
    objectives: spec.objectives,
    constraints: spec.constraints,
    budget: spec.budget,
    sampler: options.sampler ? { kind: options.sampler } : spec.sampler,
    scheduler: options.scheduler ? { kind: options.scheduler } : spec.scheduler,
    seed: options.seed ?? spec.seed ?? Math.floor(Math.random() * 2 ** 31),
    spaceSource: loaded.source,
    limits,
    attrs: { space_file: loaded.file, workload: spec.workload },
  });
  return { record, created: true };
}

export async function runSearch(spaceFile: string, options: SearchOptions, io: { stdout: NodeJS.WritableStream; stderr: NodeJS.WriteStream } = { stdout: process.stdout, stderr: process.stderr }): Promise<SearchResult> {
  checkStudyName(options.study);
  const loaded = loadSpaceFile(spaceFile);
  const { spec } = loaded;
  for (const c of spec.constraints ?? []) if (!parseConstraint(c)) throw new UserError(`${spaceFile}: malformed constraint "${c}"`);
  const trials = options.trials ?? spec.trials;
  if (trials !== undefined && (!Number.isInteger(trials) || trials < 1)) throw new UserError(`--trials: expected a positive integer, got ${trials}`);
  const timeoutMs = options.timeout ? parseDuration(options.timeout) : spec.timeout ? parseDuration(spec.timeout, 'timeout') : undefined;
  const trialTimeoutMs = options.trialTimeout ? parseDuration(options.trialTimeout, '--trial-timeout') : undefined;
  const workers = options.workers ?? spec.workers ?? Math.max(1, cpus().length);
  if (!Number.isInteger(workers) || workers < 1) throw new UserError(`--workers: expected a positive integer, got ${workers}`);
  const { sampler, scheduler } = await strategiesFor(spec, options);

  const spaceDir = dirname(resolve(spaceFile));
  await validateCliWorkload(spec.workload, spaceDir, loaded.space.names, spec.objectives.map((o) => o.name));
  await checkBackendFlag(options.backend);

  const tracking = options.mlflow || process.env.MLFLOW_TRACKING_URI ? await import('@segtune/tracking') : undefined;
  const mlflowUri = tracking?.resolveTrackingUri(options.mlflow);

  // Everything is checked before the storage is opened: bad input never leaves a database file
  // or an empty study behind.
  const enqueueFiles = readEnqueueFiles(options.enqueue ?? [], loaded.space);
  // Bad executor flags (an unknown GPU, --heap-limit-mb 1) fail before the storage is opened.
  const executor: Executor = await createCliExecutor({ kind: options.executor, workers, gpus: options.gpus, trialsPerGpu: options.trialsPerGpu, heapLimitMb: options.heapLimitMb, trialTimeoutMs });
  const storage = await openStorage(options.storage).catch(async (e: unknown) => {
    await executor?.close().catch(() => undefined);
    throw e;
  });
  const progressOut = io.stderr;
  const trackers: Tracker[] = [];
  try {
    const { record } = await openStudyForSearch(storage, loaded, options, { trials, timeoutMs });
    const limitTrials = options.trials ?? (options.resume ? record.limits?.trials : trials);
    if (options.resume) {
      const recovered = await failDeadTrials(storage, record.id, 60_000);
      if (recovered.length && !options.json) progressOut.write(`resume: ${recovered.length} trial(s) that were running are now failed (${recovered.map((t) => `#${t.number} ${t.attrs.reason}`).join(', ')})\n`);
    }
    const existing = await storage.getTrials(record.id);
    const progress = new Progress(record.objectives, limitTrials, progressOut, !options.json && !options.quiet);
    progress.preload(existing);
    if (tracking && mlflowUri) {
      const tracker = tracking.createMlflowTracker({
        uri: mlflowUri,
        storage,
        onWarning: (msg: string) => progress.message(`warning: ${msg}`),
      });
      trackers.push(tracker);
    }
    const study = new Study({ storage, record, space: loaded.space, sampler, scheduler, trackers });
    if (sampler.onWarning === undefined) (sampler as { onWarning?: (m: string) => void }).onWarning = (m) => progress.message(`note: ${m}`);
    if (!options.resume) for (const cfg of spec.enqueue ?? []) await study.enqueue(cfg);
    for (const { file, params } of enqueueFiles) await study.enqueue(params, { enqueued_from: file });
    if (!options.json) {
      progressOut.write(`segtune: study "${record.name}" in ${maskUrl(storage.description)}; sampler ${sampler.name}, scheduler ${scheduler.name}, ${workers} worker${workers === 1 ? '' : 's'}${limitTrials ? `, ${limitTrials} trials` : ''}${timeoutMs ? `, timeout ${options.timeout ?? spec.timeout}` : ''}\n`);
    }
    study.emit({ kind: 'study-started', study: record, spaceFile: loaded.file });
    if (!options.json) {
      for (const t of trackers) {
        const url = tracking && t instanceof tracking.MlflowTracker ? await t.runUrl(15_000).catch(() => undefined) : undefined;
        progressOut.write(url ? `mlflow: ${url}\n` : `mlflow: ${maskUrl(mlflowUri ?? '')} is not answering yet; tracking events wait in the outbox\n`);
      }
    }


    const interrupts = handleInterrupts((m) => progress.message(m));
    let result;
    try {
      result = await runController({
        study,
        executor,
        workload: spec.workload,
        spaceDir,
        maxTrials: limitTrials,
        timeoutMs,
        concurrency: executor.capacity,
        trialTimeoutMs,
        backend: options.backend,
        artifactRoot: studyOutputDir(record.name),
        stopSignal: interrupts.stop,
        abortSignal: interrupts.abort,
        maxConsecutiveFailures: options.maxFailures,
        onTrialFinished: (t) => progress.finished(t),
        onError: (e) => progress.message(`error: ${e.message}`),
      });
    } finally {
      interrupts.dispose();
      progress.stop();
    }
    const all = await study.trials();
    study.emit({ kind: 'study-finished', study: record, best: bestTrials(record.objectives, all, study.constraints) });
    // Give MLflow a moment to take the rest; while it is down, what is left waits in the storage.
    for (const t of trackers) {
      // The tracker itself waits only briefly when MLflow does not answer at all.
      await t.flush?.(10_000).catch(() => undefined);
    }
    if (options.json) io.stdout.write(`${JSON.stringify(studyDocument(record, all), null, 2)}\n`);
    else io.stdout.write(`${summaryText(record, all, result.elapsedMs)}\n`);
    if (options.export !== false && interrupts.count === 0 && all.some((t) => t.state === 'complete')) {
      const files = await writeStudyArtifacts(storage, record);
      if (!options.json) io.stdout.write(`${files.map((f) => `wrote ${f}`).join('\n')}\n`);
    }
    const outcome = runOutcome(result.finished, result.stoppedBy, options.maxFailures);
    if (outcome.message && interrupts.count === 0) io.stderr.write(`segtune: ${outcome.message}\n`);
    return { record, exitCode: interrupts.count > 0 ? 130 : outcome.exitCode };
  } finally {
    await executor?.close().catch(() => undefined);
    for (const t of trackers) await t.close?.().catch(() => undefined);
    await storage.close();
  }
}

/**
 * What a finished search leaves in results/<study>/: the exported best configuration (the knee
 * for several objectives) and, for several objectives, the Pareto plot as SVG and PNG.
 */
export async function writeStudyArtifacts(storage: Storage, record: StudyRecord): Promise<string[]> {
  const dir = studyOutputDir(record.name);
  mkdirSync(dir, { recursive: true });
  const files: string[] = [];
  if (record.objectives.length >= 2) {
    const { fronts } = await computeFronts(storage, [record.name]);
    const plot = await writeParetoPlot(fronts, resolve(dir, 'pareto.svg'));
    files.push(plot.svg, plot.png);
  }
  const trials = await storage.getTrials(record.id);
  const { trial, rule, reason } = chooseTrial(record, trials);
  const file = resolve(dir, `export-${rule}.yaml`);
  writeFileSync(file, formatExport(exportDocument(record, trial, rule, reason), 'yaml'));
  files.push(file);
  return files;
}
