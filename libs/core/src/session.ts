import { dirname, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { didYouMean, parseSpace, type Budget, type LoadedSpace, type Params, type StrategySpec, type WorkloadSpec } from '@segtune/space';
import { runController, type StopReason } from './controller';
import type { Executor } from './executor';
import { bestTrials, parseConstraint, type Objective } from './objectives';
import { failDeadTrials } from './recovery';
import type { Sampler } from './sampler';
import type { Scheduler } from './scheduler';
import { settleRunningTrials } from './settle-running';
import { countRetries, startStaleSweeper, type StaleRecovery } from './stale-recovery';
import { StudyExistsError, type Storage, type StudyRecord } from './storage';
import { Study, type StudyOptions } from './study';
import type { Tracker } from './tracker';
import type { Trial, TrialAttrs } from './trial';
import { UserError, isUserError } from './user-error';
import { studyOutputDir } from './output-path';
import { compareSpaces } from './space-change';
import type { StopDetail, StopRule } from './stop-rule';
import { joinPriors, mapTrialsToSpace, warmStartSummary, type MappedTrials, type WarmStartSource } from './warm-start';

/**
 * Builds a study's sampler and scheduler (the one factory lives in @segtune/schedulers; core
 * knows only its shape, so that it imports no adapter).
 */
export type StrategyBuilder = (
  input: { sampler?: StrategySpec; scheduler?: StrategySpec; objectives: readonly Objective[]; budget?: Budget },
  overrides?: { sampler?: string; scheduler?: string },
) => { sampler: Sampler; scheduler: Scheduler; samplerSpec: StrategySpec; schedulerSpec?: StrategySpec; warnings: string[] };

export interface OpenSessionOptions {
  storage: Storage;
  strategies: StrategyBuilder;
  /**
   * `create`: a new study (one that exists is refused); `resume`: an existing one, run with the
   * space file given; `join`: an existing one as stored (a worker), created from `space` when it
   * does not exist yet (racing workers agree on one).
   */
  mode: 'create' | 'resume' | 'join';
  /** The study's name; default the space file's `name`. */
  name?: string;
  /** The space file (required for create and resume). */
  space?: LoadedSpace;
  /** `--sampler KIND` / `--scheduler KIND`. */
  overrides?: { sampler?: string; scheduler?: string };
  /** A new study's seed; default the space file's, else random. */
  seed?: number;
  /** A new study's limits. */
  limits?: { trials?: number; timeoutMs?: number };
  /**
   * `--warm-start STUDY[@STORAGE]`: earlier studies whose trials become the sampler's prior
   * observations. Stored with the study (attr `warm_start`), so a resume or a worker uses them
   * again; given on a resume, they are added to the stored ones.
   */
  warmStart?: readonly WarmStartSource[];
  /** Opens a warm-start source's own storage (core knows no storage adapter), read-only; its errors name --warm-start. */
  openStorage?(url: string): Promise<Storage>;
}

export interface Session {
  storage: Storage;
  record: StudyRecord;
  created: boolean;
  mode: OpenSessionOptions['mode'];
  /** The space the study runs: the file given, or (joining) the one stored with the study. */
  loaded: LoadedSpace;
  sampler: Sampler;
  scheduler: Scheduler;
  workload: WorkloadSpec;
  /** Relative paths in the workload (a user module) are relative to the space file. */
  spaceDir: string;
  /** One line each for the user (options a flag set aside, a space file not used). */
  warnings: string[];
  /** Resuming: trials that were running when the last run died, now failed. */
  recovered: Trial[];
  /** Prior observations from the warm-start sources (empty without any). */
  prior: Trial[];
  /** The one line that says what the warm start kept and dropped. */
  warmStart?: string;
  /** Resuming with a changed space file: one line per (compatible) change, now stored. */
  spaceChanges: string[];
}

/** The space source a study runs now: the latest compatible change (attr `space_source`), else the one it was created with. */
export function currentSpaceSource(record: StudyRecord): string | undefined {
  return typeof record.attrs.space_source === 'string' ? record.attrs.space_source : record.spaceSource;
}

/** A study's limits, as a resume with new `--trials` / `--timeout` last set them (attr `limits`). */
export function currentLimits(record: StudyRecord): { trials?: number; timeoutMs?: number; since: number } {
  const l = record.attrs.limits as { trials?: number; timeoutMs?: number; since?: number } | undefined;
  if (l && typeof l === 'object') return { trials: l.trials, timeoutMs: l.timeoutMs, since: l.since ?? record.createdAt };
  return { ...record.limits, since: record.createdAt };
}

function storedSources(record: StudyRecord | undefined): WarmStartSource[] {
  const w = record?.attrs.warm_start;
  return Array.isArray(w) ? w.filter((x): x is WarmStartSource => typeof x?.study === 'string') : [];
}

function mergeSources(a: readonly WarmStartSource[], b: readonly WarmStartSource[]): WarmStartSource[] {
  const out = [...a];
  for (const x of b) if (!out.some((y) => y.study === x.study && y.storage === x.storage)) out.push(x);
  return out;
}

/** Reads the warm-start sources' trials and maps them into `loaded`'s space. Writes nothing. */
async function loadPrior(
  o: Pick<OpenSessionOptions, 'storage' | 'openStorage'>,
  name: string,
  loaded: LoadedSpace,
  objectives: readonly Objective[],
  sources: readonly WarmStartSource[],
  /** Where a source that cannot be read is a warning, not an error (a worker joining a study). */
  lenient?: string[],
): Promise<{ prior: Trial[]; line?: string }> {
  if (!sources.length) return { prior: [] };
  const parts: MappedTrials[] = [];
  const used: string[] = [];
  for (const src of sources) {
    if (src.study === name && !src.storage) throw new UserError(`--warm-start: "${src.study}" is the study itself; name an earlier study`);
    try {
      if (src.storage && !o.openStorage) throw new UserError(`--warm-start: ${src.study}@${src.storage}: this caller cannot open other storages`);
      const storage = src.storage ? await o.openStorage!(src.storage) : o.storage;
      try {
        const record = await storage.getStudy(src.study);
        if (!record) throw noStudy(storage, src.study, (await storage.listStudies()).map((s) => s.name), '--warm-start', '');
        parts.push(mapTrialsToSpace(loaded.space, objectives, { name: src.study, objectives: record.objectives, trials: await storage.getTrials(record.id) }));
        used.push(src.study);
      } finally {
        if (storage !== o.storage) await storage.close();
      }
    } catch (e) {
      // The study's warm start names a storage that this machine may not hold (a file on the
      // machine that created it): the worker joins without that prior instead of not at all.
      if (!lenient || !isUserError(e)) throw e;
      lenient.push(`warm start: ${src.study}${src.storage ? `@${src.storage}` : ''}: ${(e as Error).message.replace(/^--warm-start: /, '')}; this worker goes on without that prior`);
    }
  }
  return parts.length ? { prior: joinPriors(parts), line: warmStartSummary(used, parts) } : { prior: [] };
}

/**
 * The prior a stored study was warm-started with (attr `warm_start`), mapped into `loaded`'s
 * space, as a worker joining it gets: a source that cannot be read is a line in `warnings`, not an
 * error. For callers that open a stored study outside a session (the library's loadStudy).
 */
export async function storedPrior(
  storage: Storage,
  record: StudyRecord,
  loaded: LoadedSpace,
  options: { openStorage?(url: string): Promise<Storage>; warnings: string[] },
): Promise<{ prior: Trial[]; line?: string }> {
  return loadPrior({ storage, openStorage: options.openStorage }, record.name, loaded, record.objectives, storedSources(record), options.warnings);
}

function noStudy(storage: Storage, name: string, known: string[], flag: string, hint: string): UserError {
  return new UserError(
    `${flag}: no study named "${name}" in ${storage.description}${didYouMean(name, known)}${known.length ? `; known: ${known.slice(0, 10).join(', ')}` : '; the storage holds no study'}${hint}`,
  );
}

/**
 * Creates, resumes or joins a study from a space file: the one place that does it, for
 * `segtune search`, `segtune worker` and the library API.
 */
export async function openSession(o: OpenSessionOptions): Promise<Session> {
  const { storage } = o;
  const name = o.name ?? o.space?.spec.name;
  if (!name) throw new UserError('--study: required; the name of the study');
  const existing = await storage.getStudy(name);
  if (o.mode === 'create' && existing) {
    throw new UserError(`--study: a study named "${name}" already exists in ${storage.description}; add --resume to continue it, or pass --study with a new name`);
  }
  if (o.mode === 'resume' && !existing) throw noStudy(storage, name, (await storage.listStudies()).map((s) => s.name), '--resume', '');
  if (o.mode === 'join' && !existing && !o.space) {
    throw noStudy(storage, name, (await storage.listStudies()).map((s) => s.name), '--study', `; create it with \`segtune search SPACE.yaml --storage URL --study ${name}\` or pass --space FILE`);
  }
  const warnings: string[] = [];
  if (existing && o.mode === 'join') return joined(storage, existing, o, warnings);
  const loaded = o.space!;
  const { spec } = loaded;
  for (const c of spec.constraints ?? []) if (!parseConstraint(c)) throw new UserError(`${loaded.file}: malformed constraint "${c}"`);
  const built = o.strategies(spec, o.overrides);
  warnings.push(...built.warnings);
  let record = existing;
  let created = false;
  // Everything is read and checked before anything is written: a bad warm-start source or an
  // incompatible space change leaves the storage as it was.
  const sources = mergeSources(storedSources(existing), o.warmStart ?? []);
  const { prior, line } = await loadPrior(o, name, loaded, existing?.objectives ?? spec.objectives, sources);
  if (prior.length && !built.sampler.usesPrior) warnings.push(`warm start: the ${built.sampler.name} sampler does not use earlier trials, so the ${prior.length} kept change nothing; tpe, gp and cmaes use them`);
  const spaceChanges = existing && o.mode === 'resume' ? await checkSpaceChange(storage, existing, loaded) : [];
  if (record && (spaceChanges.length || sources.length > storedSources(record).length)) {
    const attrs: Record<string, unknown> = {};
    if (sources.length > storedSources(record).length) attrs.warm_start = sources;
    if (spaceChanges.length) {
      const history = Array.isArray(record.attrs.space_history) ? record.attrs.space_history : [];
      attrs.space_source = loaded.source;
      attrs.space_history = [...history, { at: new Date().toISOString(), file: resolve(loaded.file), changes: spaceChanges, previous_source: currentSpaceSource(record) }];
    }
    await storage.setStudyAttrs(record.id, attrs);
    record = { ...record, attrs: { ...record.attrs, ...attrs } };
  }
  if (record && o.mode === 'resume' && o.limits && (o.limits.trials !== undefined || o.limits.timeoutMs !== undefined)) {
    // New limits for the rest of the study, so that workers joining it later honour them too.
    const limits = { trials: o.limits.trials, timeoutMs: o.limits.timeoutMs, since: Date.now() };
    await storage.setStudyAttrs(record.id, { limits });
    record = { ...record, attrs: { ...record.attrs, limits } };
  }
  if (!record) {
    try {
      record = await storage.createStudy({
        name,
        objectives: spec.objectives,
        constraints: spec.constraints,
        budget: spec.budget,
        sampler: built.samplerSpec,
        scheduler: built.schedulerSpec,
        seed: o.seed ?? spec.seed ?? Math.floor(Math.random() * 2 ** 31),
        spaceSource: loaded.source,
        limits: o.limits ?? {},
        attrs: { space_file: resolve(loaded.file), workload: spec.workload, ...(sources.length ? { warm_start: sources } : {}) },
      });
      created = true;
    } catch (e) {
      // Another worker created it a moment ago: join that one.
      const other = e instanceof StudyExistsError && o.mode === 'join' ? await storage.getStudy(name) : undefined;
      if (!other) throw e;
      return joined(storage, other, o, warnings);
    }
  }
  const recovered = o.mode === 'resume' ? await failDeadTrials(storage, record.id, 60_000) : [];
  return { storage, record, created, mode: o.mode, loaded, sampler: built.sampler, scheduler: built.scheduler, workload: spec.workload, spaceDir: dirname(resolve(loaded.file)), warnings, recovered, prior, warmStart: line, spaceChanges };
}

/** A resumed study's space file against the space it runs: the compatible changes, or a UserError. */
async function checkSpaceChange(storage: Storage, record: StudyRecord, loaded: LoadedSpace): Promise<string[]> {
  const stored = currentSpaceSource(record);
  if (stored === undefined || stored === loaded.source) return [];
  const before = parseSpace(stored, `<study ${record.name}>`);
  const completed = await storage.getTrials(record.id, { states: ['complete'] });
  const { spec } = loaded;
  const r = compareSpaces(
    { space: before.space, objectives: record.objectives, budget: record.budget, constraints: record.constraints },
    { space: loaded.space, objectives: spec.objectives, budget: spec.budget, constraints: spec.constraints },
    completed,
  );
  if (r.problem) throw new UserError(`${loaded.file}: changed since study "${record.name}" began, and the change is not compatible: ${r.problem}`);
  return r.changes;
}

/** An existing study as stored: its own space, sampler and scheduler. */
async function joined(storage: Storage, record: StudyRecord, o: OpenSessionOptions, warnings: string[]): Promise<Session> {
  const source = currentSpaceSource(record);
  if (!source) throw new UserError(`--study: study "${record.name}" stores no space file, so a worker cannot rebuild it; run it with \`segtune search --resume\``);
  const spaceFile = typeof record.attrs.space_file === 'string' ? record.attrs.space_file : undefined;
  const loaded = parseSpace(source, spaceFile ?? `<study ${record.name}>`);
  if (o.space && o.space.source !== source) warnings.push(`study "${record.name}" exists; using its stored space, not ${o.space.file}`);
  const built = o.strategies({ sampler: record.sampler, scheduler: record.scheduler, objectives: record.objectives, budget: record.budget });
  warnings.push(...built.warnings);
  const spaceDir = dirname(resolve(o.space?.file ?? spaceFile ?? '.'));
  const { prior, line } = await loadPrior(o, record.name, loaded, record.objectives, storedSources(record), warnings);
  return { storage, record, created: false, mode: 'join', loaded, sampler: built.sampler, scheduler: built.scheduler, workload: loaded.spec.workload, spaceDir, warnings, recovered: [], prior, warmStart: line, spaceChanges: [] };
}

/**
 * A study whose trial limit does not count reruns of stale trials (`retry_of`): a worker that
 * dies must not shrink the study. The limit is raised by the reruns seen at each ask.
 */
class RerunAwareStudy extends Study {
  override async ask(attrs: TrialAttrs = {}, maxTrials?: number): Promise<Trial | undefined> {
    if (maxTrials === undefined) return super.ask(attrs, maxTrials);
    return super.ask(attrs, maxTrials + countRetries(await this.trials()));
  }
}

export interface RunSessionOptions {
  executor: Executor;
  trackers?: Tracker[];
  /** Name stored on this process's trials (default host:pid). */
  worker?: string;
  /** Trials the study may hold, all workers together. */
  maxTrials?: number;
  /** Start no trial after this time (ms since the epoch). */
  deadline?: number;
  trialTimeoutMs?: number;
  backend?: string;
  heartbeatMs?: number;
  maxConsecutiveFailures?: number;
  /** Configurations to run first (`--enqueue`); a new study's own `enqueue:` list comes before. */
  enqueue?: { params: Params; attrs?: TrialAttrs }[];
  /**
   * A study shared with other workers: recover their dead trials (failed as stale after
   * `graceMs`, rerun up to `retryFailed` times), stay while their trials run when reruns are
   * wanted, and before leaving wait out the grace for a last dead worker's trial.
   */
  shared?: { graceMs: number; retryFailed: number; onRecovered?(r: StaleRecovery): void };
  /** `--stop-when`: rules asked after each finished trial; why one fired is stored (attr `stopped_by`). */
  stopRules?: readonly StopRule[];
  stopSignal?: AbortSignal;
  abortSignal?: AbortSignal;
  /** Called once the study is ready, before the first trial (print a banner, a run URL). */
  onReady?(study: Study): void | Promise<void>;
  onTrialFinished?(trial: Trial): void;
  onError?(error: Error): void;
  /** Notes from the sampler (a GP falling back to random) and the sweeper. */
  onNote?(message: string): void;
}

export interface SessionResult {
  study: Study;
  /** Trials this process started and finished. */
  started: number;
  finished: Trial[];
  stoppedBy: StopReason;
  /** With `stop-rule`: which rule fired, why, and after which trial. */
  stopDetail?: StopDetail;
  /** Other workers' trials failed as stale here, and the reruns enqueued for them. */
  recovered: number;
  requeued: number;
  elapsedMs: number;
  /** Every trial of the study at the end. */
  trials: Trial[];
}

/**
 * Runs a session's study to its limits: the search loop and the worker loop in one (a search is
 * a worker on a study nobody else shares). Emits the study's events to the trackers and flushes
 * them at the end; the caller owns and closes the executor, trackers and storage.
 */
export async function runSession(session: Session, o: RunSessionOptions): Promise<SessionResult> {
  const { record } = session;
  const startedAt = Date.now();
  const options: StudyOptions = { storage: session.storage, record, space: session.loaded.space, sampler: session.sampler, scheduler: session.scheduler, worker: o.worker, trackers: o.trackers, prior: session.prior };
  const retryFailed = o.shared?.retryFailed ?? 0;
  const study = retryFailed > 0 ? new RerunAwareStudy(options) : new Study(options);
  if (session.sampler.onWarning === undefined && o.onNote) (session.sampler as { onWarning?: (m: string) => void }).onWarning = o.onNote;
  if (session.created) for (const cfg of session.loaded.spec.enqueue ?? []) await study.enqueue(cfg);
  for (const e of o.enqueue ?? []) await study.enqueue(e.params, e.attrs);
  if (session.created || session.mode !== 'join') study.emit({ kind: 'study-started', study: record, spaceFile: session.loaded.file });
  await o.onReady?.(study);

  let recovered = 0;
  let requeued = 0;
  const shared = o.shared;
  const sweeper = shared
    ? startStaleSweeper(study, {
        graceMs: shared.graceMs,
        retryFailed,
        onRecovered: (r) => {
          recovered += r.failed.length;
          requeued += r.requeued.length;
          shared.onRecovered?.(r);
        },
        onError: (e) => o.onNote?.(`warning: stale-trial sweep failed: ${e.message}`),
      })
    : undefined;
  let started = 0;
  const finished: Trial[] = [];
  let stoppedBy: StopReason = 'trials';
  let stopDetail: StopDetail | undefined;
  try {
    for (;;) {
      await sweeper?.sweep().catch(() => undefined);
      if (o.stopSignal?.aborted) {
        stoppedBy = 'interrupted';
        break;
      }
      const remaining = o.deadline === undefined ? undefined : o.deadline - Date.now();
      if (remaining !== undefined && remaining <= 0) {
        stoppedBy = 'timeout';
        break;
      }
      const result = await runController({
        study,
        executor: o.executor,
        workload: session.workload,
        spaceDir: session.spaceDir,
        maxTrials: o.maxTrials,
        timeoutMs: remaining,
        concurrency: o.executor.capacity,
        trialTimeoutMs: o.trialTimeoutMs,
        backend: o.backend,
        artifactRoot: studyOutputDir(record.name),
        stopSignal: o.stopSignal,
        abortSignal: o.abortSignal,
        heartbeatMs: o.heartbeatMs,
        maxConsecutiveFailures: o.maxConsecutiveFailures,
        stopRules: o.stopRules,
        onTrialFinished: o.onTrialFinished,
        onError: o.onError,
      });
      started += result.started;
      finished.push(...result.finished);
      stoppedBy = result.stoppedBy;
      stopDetail = result.stopDetail;
      if (result.stoppedBy !== 'trials' || !shared) break;
      // The limit is reached. A rerun enqueued meanwhile raises it; and while another worker's
      // trial runs, stay to rerun it should its worker die (only when reruns are wanted).
      const all = await study.trials();
      const limit = o.maxTrials === undefined ? undefined : o.maxTrials + (retryFailed > 0 ? countRetries(all) : 0);
      const active = all.filter((t) => t.state !== 'waiting').length;
      if (all.some((t) => t.state === 'waiting') && (limit === undefined || active < limit)) continue;
      if (retryFailed > 0 && all.some((t) => t.state === 'running')) {
        await sleep(Math.min(1_000, Math.max(50, shared.graceMs / 4)), undefined, { signal: o.stopSignal }).catch(() => undefined);
        continue;
      }
      // This may be the last worker: recover a dead worker's trial before leaving.
      await settleRunningTrials(study, { graceMs: shared.graceMs, sweep: sweeper!.sweep, signal: o.stopSignal });
      break;
    }
  } finally {
    await sweeper?.stop();
  }
  const trials = await study.trials();
  await session.storage
    .setStudyAttrs(record.id, { stopped_by: { reason: stoppedBy, ...(stopDetail ? { rule: stopDetail.rule, detail: stopDetail.reason, trial: stopDetail.trial } : {}), at: new Date().toISOString() } })
    .catch((e: Error) => o.onNote?.(`warning: could not store why the study stopped: ${e.message}`));
  study.emit({ kind: 'study-finished', study: record, best: bestTrials(study.objectives, trials, study.constraints) });
  // Give the trackers a moment to deliver; while MLflow is down, what is left waits in the outbox.
  for (const t of o.trackers ?? []) await t.flush?.(10_000).catch(() => undefined);
  return { study, started, finished, stoppedBy, stopDetail, recovered, requeued, elapsedMs: Date.now() - startedAt, trials };
}
