// The library's study: Optuna's create_study / load_study / optimize / ask / tell over core's
// Study, the same storages, samplers and schedulers as the CLI. Objectives run in this process
// (a closure cannot travel to a worker thread), so `workers` is how many run at once.
import { Study as CoreStudy, bestTrials, currentSpaceSource, isPruned, isUserError, openSession, parseWarmStartSource, storedPrior, type Objective, type Sampler, type Scheduler, type Storage, type StudyRecord, type Trial as CoreTrial, type MetricValues, type TrialAttrs, type TellOutcome, type Tracker } from '@segtune/core';
import { loadSpaceFile, nameProblem, parseSpace, type Budget, type ParamDef, type Params, type StrategySpec } from '@segtune/space';
import { absoluteStorageUrl, openStorage } from '@segtune/storage';
import { createStrategies } from '@segtune/schedulers';
import { parseDuration } from '../duration';
import { openTrackers } from '../trackers';
import { DistributionRegistry } from './distributions';
import { StorageError, UsageError } from './errors';
import { Trial, type TrialHost } from './trial';

export type Direction = 'minimize' | 'maximize';
export type Strategy = string | StrategySpec;

export interface CreateStudyOptions {
  /** Study name; a new random one when left out. */
  name?: string;
  /** Storage URL: `memory:` (default), `sqlite:///path.db`, a path, or `postgresql://…`. */
  storage?: string;
  /** One direction per objective; the objectives are named `value` (or `value_0`, `value_1`, …). */
  directions?: readonly Direction[];
  /** Named objectives instead of `directions`. */
  objectives?: readonly Objective[];
  /**
   * Sampler kind or block, e.g. `'tpe'` or `{ kind: 'gp', n_startup_trials: 5 }` (default tpe;
   * nsga2 for several objectives). With `space`, only the kind overrides the file's sampler.
   */
  sampler?: Strategy;
  /** Scheduler kind or block, e.g. `'asha'`; needs `budget`. */
  scheduler?: Strategy;
  /** The fidelity resource the scheduler works in, e.g. `{ name: 'epochs', min: 1, max: 27 }`. */
  budget?: Budget;
  seed?: number;
  /** A space file: the study's params, objectives and strategies come from it. */
  space?: string;
  /** Open the study when one with this name exists instead of failing. */
  loadIfExists?: boolean;
  /**
   * With `space`: earlier studies (`'name'`, or `'name@storage-url'`) whose trials become the
   * sampler's prior observations, as `segtune search --warm-start`; stored with the study, so a
   * loadStudy, a resume or a worker uses them again.
   */
  warmStart?: string | readonly string[];
  /** MLflow tracking URI (default: $MLFLOW_TRACKING_URI; none: no tracking), as `segtune search --mlflow`. */
  mlflow?: string;
}

export interface LoadStudyOptions {
  name: string;
  storage?: string;
  /** Override the stored sampler / scheduler. */
  sampler?: Strategy;
  scheduler?: Strategy;
  /** MLflow tracking URI (default: $MLFLOW_TRACKING_URI), as for createStudy. */
  mlflow?: string;
}

export interface OptimizeOptions {
  /** Trials this call runs (default: until `timeout`, or 100 without one). */
  trials?: number;
  /** Objectives running at once (default 1). */
  workers?: number;
  /** Stop asking for new trials after this long: milliseconds or a duration like `'10m'`. */
  timeout?: number | string;
  /** Called after each trial ends. */
  onTrial?: (trial: FinishedTrial) => void;
}

/** What an objective returns: one value, one per objective, or values by objective name (extra metrics welcome). */
export type ObjectiveValue = number | readonly number[] | MetricValues;
export type ObjectiveFunction = (trial: Trial) => ObjectiveValue | Promise<ObjectiveValue>;

export type TellValue = ObjectiveValue | { state: 'failed'; error?: string } | { state: 'pruned' };

export type FinishedTrial = CoreTrial;

export class Study implements TrialHost {
  /** @internal */ core: CoreStudy;
  /** @internal */ readonly registry: DistributionRegistry;
  /** @internal */ readonly fixedSpace: boolean;
  private readonly live = new Map<number, Trial>();
  private trackers: Tracker[] = [];
  private snapshot: readonly CoreTrial[] = [];
  private pendingDefs: ParamDef[] = [];

  /** @internal */
  constructor(
    readonly storage: Storage,
    record: StudyRecord,
    /** @internal */ readonly sampler: Sampler,
    private readonly scheduler: Scheduler,
    initial: readonly ParamDef[],
    fixedSpace: boolean,
    /** Prior observations of a warm start (a space-file study). */
    private readonly prior: readonly CoreTrial[] = [],
  ) {
    this.registry = new DistributionRegistry(initial);
    this.fixedSpace = fixedSpace;
    this.core = this.makeCore(record);
  }

  get name(): string {
    return this.core.name;
  }

  get record(): StudyRecord {
    return this.core.record;
  }

  get seed(): number {
    return this.core.record.seed;
  }

  get objectives(): readonly Objective[] {
    return this.core.objectives;
  }

  /** Every trial of the study, oldest first (synced from storage; other processes' included). */
  get trials(): Promise<FinishedTrial[]> {
    return this.core.trials();
  }

  /** The best complete trial (single objective); throws when there is none yet. */
  get bestTrial(): Promise<FinishedTrial> {
    return this.bestTrials.then((best) => {
      if (this.objectives.length > 1) throw new UsageError(`study "${this.name}" has ${this.objectives.length} objectives: use bestTrials (the Pareto front)`);
      if (!best.length) throw new UsageError(`study "${this.name}" has no complete trial yet`);
      return best[0];
    });
  }

  /** The Pareto-optimal complete trials (the best one for a single objective). */
  get bestTrials(): Promise<FinishedTrial[]> {
    return this.core.trials().then((all) => bestTrials(this.core.objectives, all, this.core.constraints));
  }

  /** @internal */
  history(): readonly CoreTrial[] {
    return this.snapshot;
  }

  /** @internal */
  onNewParam(p: ParamDef): void {
    this.pendingDefs.push(p);
  }

  /**
   * Optuna's enqueue_trial: a configuration that the next `ask` (or `optimize`) hands out before
   * sampling anything new. It may name only some params; the others are the sampler's, proposed
   * over the history when the trial is asked for. Params the study has not seen yet are kept for
   * the objective's first suggest of them. `skipIfExists`: nothing is enqueued when a trial
   * (of any state, waiting ones included) already has these values.
   */
  async enqueueTrial(params: Params, options: { skipIfExists?: boolean } = {}): Promise<void> {
    if (!params || typeof params !== 'object' || Array.isArray(params)) throw new UsageError(`enqueueTrial: params must be an object of name: value, got ${JSON.stringify(params)}`);
    if (!this.fixedSpace) await this.syncParams();
    if (options.skipIfExists) {
      const entries = Object.entries(params);
      const all = await this.core.trials();
      if (all.some((t) => entries.every(([k, v]) => k in t.params && t.params[k] === v))) return;
    }
    try {
      await this.core.enqueue(params, {}, { unknownParams: !this.fixedSpace });
    } catch (e) {
      throw new UsageError(`enqueueTrial: ${(e as Error).message.replace(/^enqueued configuration is invalid: /, '')}`);
    }
  }

  /** A new running trial. Undefined only when `maxTrials` is given and reached. */
  async ask(options: { maxTrials?: number } = {}): Promise<Trial> {
    const trial = await this.tryAsk(options.maxTrials);
    if (!trial) throw new UsageError(`study "${this.name}" already holds ${options.maxTrials} trials`);
    return trial;
  }

  /** @internal */
  async tryAsk(maxTrials?: number, attrs: TrialAttrs = {}): Promise<Trial | undefined> {
    if (!this.fixedSpace) await this.syncParams();
    const core = await this.core.ask(attrs, maxTrials);
    if (!core) return undefined;
    const all = await this.core.trials();
    this.snapshot = all.filter((t) => t.state === 'complete' || t.state === 'pruned' || t.state === 'failed');
    const trial = new Trial(this, core, core.params);
    this.live.set(core.number, trial);
    if (this.fixedSpace) await trial.flushParams();
    return trial;
  }

  /**
   * Finishes a trial: its objective values (a number, an array, or values by name), or
   * `{ state: 'failed' }` / `{ state: 'pruned' }`.
   */
  async tell(trial: Trial | number, value: TellValue): Promise<FinishedTrial> {
    const t = typeof trial === 'number' ? this.live.get(trial) : trial;
    if (!t) throw new UsageError(`tell: trial ${String(trial)} was not asked by this study object; pass the Trial that ask() returned`);
    if (t.isFinished) throw new UsageError(`tell: trial ${t.number} was already told`);
    // The outcome is checked before anything is written, so a wrong value leaves the trial
    // running for a correct tell (optimize then fails it) instead of half-finished.
    const s = value as { state?: string; error?: string } | null | undefined;
    const outcome: TellOutcome =
      s && typeof s === 'object' && !Array.isArray(s) && (s.state === 'failed' || s.state === 'pruned')
        ? s.state === 'pruned'
          ? { state: 'pruned' }
          : { state: 'failed', reason: 'error', error: s.error ?? 'told failed' }
        : { state: 'complete', metrics: this.toMetrics(value as ObjectiveValue, t.number) };
    await t.flushParams();
    await this.persistParams();
    t.markFinished();
    this.live.delete(t.number);
    return this.core.tell(t.core, outcome);
  }

  /**
   * Runs the objective on new trials. A trial whose objective throws fails with the message and
   * the study goes on; the pruned signal ends it as pruned; a usage or space error (a param asked
   * with two different ranges) fails the trial and is thrown.
   */
  async optimize(objective: ObjectiveFunction, options: OptimizeOptions = {}): Promise<void> {
    const workers = options.workers ?? 1;
    if (!Number.isInteger(workers) || workers < 1) throw new UsageError(`optimize: workers must be a positive integer, got ${workers}`);
    const timeoutMs = typeof options.timeout === 'string' ? parseDuration(options.timeout, 'optimize timeout') : options.timeout;
    const trials = options.trials ?? (timeoutMs === undefined ? 100 : Infinity);
    if (trials !== Infinity && (!Number.isInteger(trials) || trials < 1)) throw new UsageError(`optimize: trials must be a positive integer, got ${trials}`);
    const deadline = timeoutMs === undefined ? Infinity : Date.now() + timeoutMs;
    let started = 0;
    let fatal: unknown;
    const loop = async () => {
      while (fatal === undefined && started < trials && Date.now() < deadline) {
        started++;
        const trial = await this.ask();
        let done: FinishedTrial;
        try {
          const value = await objective(trial);
          done = await this.tell(trial, value);
        } catch (e) {
          if (trial.isFinished) {
            fatal ??= e;
            break;
          }
          if (isPruned(e)) {
            done = await this.tell(trial, { state: 'pruned' });
          } else {
            done = await this.tell(trial, { state: 'failed', error: e instanceof Error ? e.message : String(e) });
            if (isUserError(e) || e instanceof UsageError) fatal ??= e;
          }
        }
        options.onTrial?.(done);
      }
    };
    await Promise.all(Array.from({ length: Math.min(workers, trials) }, loop));
    if (fatal !== undefined) throw fatal;
  }

  /**
   * Ends the study's tracking (MLflow's study run is marked finished with the best trials, and
   * queued events get up to 10 s to go out; the rest waits in the storage's outbox for a later
   * run) and closes the storage.
   */
  async close(): Promise<void> {
    if (this.trackers.length) {
      const all = await this.core.trials();
      this.core.emit({ kind: 'study-finished', study: this.core.record, best: bestTrials(this.core.objectives, all, this.core.constraints) });
      for (const t of this.trackers) await t.flush?.(10_000).catch(() => undefined);
      for (const t of this.trackers) await t.close?.().catch(() => undefined);
      this.trackers = [];
    }
    await this.storage.close?.();
  }

  /** @internal Sends the study's events to `trackers` from now on (a new study's start included). */
  useTrackers(trackers: Tracker[], started: boolean): void {
    this.trackers = trackers;
    this.core = this.makeCore(this.core.record);
    if (started) this.core.emit({ kind: 'study-started', study: this.core.record });
  }

  private toMetrics(value: ObjectiveValue, number: number): MetricValues {
    const names = this.core.objectiveNames;
    if (typeof value === 'number') {
      if (names.length !== 1) throw new UsageError(`trial ${number}: the study has ${names.length} objectives (${names.join(', ')}); return one value for each`);
      return { [names[0]]: value };
    }
    if (Array.isArray(value)) {
      if (value.length !== names.length) throw new UsageError(`trial ${number}: returned ${value.length} values for ${names.length} objectives (${names.join(', ')})`);
      return Object.fromEntries(names.map((n, i) => [n, value[i] as number]));
    }
    if (value === null || typeof value !== 'object') {
      throw new UsageError(`trial ${number}: the objective returned ${typeof value === 'string' ? JSON.stringify(value) : typeof value === 'function' ? 'a function' : typeof value === 'bigint' ? `${value}n, a bigint` : String(value)}; return a number, one number per objective (${names.join(', ')}), or values by name`);
    }
    return value as MetricValues;
  }

  /** Params other processes added to the study (define-by-run), so all of them share one space. */
  private async syncParams(): Promise<void> {
    const record = await this.storage.getStudy(this.name);
    const before = this.registry.size;
    if (record) this.registry.merge(DistributionRegistry.fromAttrs(record.attrs));
    if (this.registry.size !== before || this.core.space !== this.registry.space()) this.core = this.makeCore(record ?? this.core.record);
  }

  private async persistParams(): Promise<void> {
    if (!this.pendingDefs.length) return;
    const defs = this.pendingDefs;
    this.pendingDefs = [];
    const base = Date.now();
    await this.storage.setStudyAttrs(this.core.id, Object.fromEntries(defs.map((p, i) => [DistributionRegistry.attrKey(p.name), { ...p, order: base + i }])));
  }

  private makeCore(record: StudyRecord): CoreStudy {
    const space = this.registry.space();
    // Nothing to sample before the first trial asks for a param.
    const sampler: Sampler = space.dimension === 0 ? { name: 'empty', needsHistory: false, suggest: () => ({}) } : this.sampler;
    return new CoreStudy({ storage: this.storage, record, space, sampler, scheduler: this.scheduler, trackers: this.trackers, prior: [...this.prior] });
  }
}

function strategySpec(s: Strategy | undefined): StrategySpec | undefined {
  return typeof s === 'string' ? { kind: s } : s;
}

/** The study's sampler and scheduler, through the factory `segtune search` uses. */
function strategies(record: Pick<StudyRecord, 'sampler' | 'scheduler' | 'budget' | 'objectives'>): { sampler: Sampler; scheduler: Scheduler } {
  try {
    return createStrategies({ sampler: record.sampler, scheduler: record.scheduler, objectives: record.objectives, budget: record.budget });
  } catch (e) {
    throw isUserError(e) ? new UsageError((e as Error).message) : e;
  }
}

async function open(url: string | undefined): Promise<Storage> {
  try {
    return await openStorage(url ?? 'memory:');
  } catch (e) {
    if (isUserError(e)) throw new StorageError((e as Error).message);
    throw e;
  }
}

/** A new study (Optuna's create_study). */
export async function createStudy(options: CreateStudyOptions = {}): Promise<Study> {
  const { study, created } = await createUntracked(options);
  return withTracking(study, options.mlflow, created);
}

async function createUntracked(options: CreateStudyOptions): Promise<{ study: Study; created: boolean }> {
  // The name rule of space files and the CLI (study names become paths under results/).
  if (options.name !== undefined) {
    const problem = nameProblem(options.name);
    if (problem) throw new UsageError(`createStudy: name: ${problem}`);
  }
  const storage = await open(options.storage);
  try {
    if (options.space !== undefined) {
      const loaded = loadSpaceFile(options.space);
      const name = options.name ?? loaded.spec.name;
      const existing = await storage.getStudy(name);
      if (existing && options.loadIfExists) return { study: await studyFor(storage, existing, {}), created: false };
      const warmStart = (typeof options.warmStart === 'string' ? [options.warmStart] : (options.warmStart ?? [])).map((v) => {
        const src = parseWarmStartSource(v);
        if (!src) throw new UsageError(`createStudy: warmStart "${v}" is not a study name or name@storage`);
        return src.storage ? { ...src, storage: absoluteStorageUrl(src.storage, process.cwd(), 'warmStart') } : src;
      });
      // The one way a study is made from a space file (core's session), as `segtune search` does.
      const { record, sampler, scheduler, prior } = await openSession({
        storage,
        strategies: createStrategies,
        mode: 'create',
        name,
        space: loaded,
        overrides: { sampler: strategySpec(options.sampler)?.kind, scheduler: strategySpec(options.scheduler)?.kind },
        seed: options.seed,
        limits: { trials: loaded.spec.trials },
        warmStart,
        openStorage: (url) => openStorage(url, { readonly: true, flag: 'warmStart' }),
      }).catch((e: unknown) => {
        throw isUserError(e) ? new StorageError((e as Error).message.replace(/^--warm-start: /, 'warmStart: ')) : e;
      });
      return { study: new Study(storage, record, sampler, scheduler, loaded.space.params, true, prior), created: true };
    }
    if (options.warmStart !== undefined) throw new UsageError('createStudy: warmStart needs a space file (space: …), whose params the earlier trials are mapped into');
    const objectives: Objective[] = options.objectives
      ? [...options.objectives]
      : (options.directions ?? ['minimize']).map((direction, i, all) => ({ name: all.length === 1 ? 'value' : `value_${i}`, direction }));
    if (!objectives.length) throw new UsageError('createStudy: give at least one direction');
    for (const o of objectives) if (o.direction !== 'minimize' && o.direction !== 'maximize') throw new UsageError(`createStudy: direction must be "minimize" or "maximize", got ${JSON.stringify(o.direction)}`);
    for (const o of objectives) {
      const problem = nameProblem(o.name);
      if (problem) throw new UsageError(`createStudy: objective name: ${problem}`);
    }
    const twice = objectives.find((o, i) => objectives.findIndex((p) => p.name === o.name) !== i);
    if (twice) throw new UsageError(`createStudy: objective "${twice.name}" is named twice; each objective needs its own name`);
    const name = options.name ?? `study-${Date.now().toString(36)}-${Math.floor(Math.random() * 1e6).toString(36)}`;
    const existing = await storage.getStudy(name);
    if (existing) {
      if (!options.loadIfExists) throw new StorageError(`createStudy: a study named "${name}" already exists in ${storage.description}; use loadStudy, or pass loadIfExists: true`);
      return { study: await studyFor(storage, existing, {}), created: false };
    }
    const spec = { name, objectives, budget: options.budget, sampler: strategySpec(options.sampler), scheduler: strategySpec(options.scheduler) };
    const { sampler, scheduler } = strategies(spec);
    const record = await storage.createStudy({ ...spec, seed: options.seed ?? Math.floor(Math.random() * 2 ** 31), attrs: { define_by_run: true } });
    return { study: new Study(storage, record, sampler, scheduler, [], false), created: true };
  } catch (e) {
    await storage.close?.().catch(() => undefined);
    throw e;
  }
}

/** An existing study (Optuna's load_study): its stored space, sampler and scheduler. */
export async function loadStudy(options: LoadStudyOptions): Promise<Study> {
  const storage = await open(options.storage);
  try {
    const record = await storage.getStudy(options.name);
    if (!record) {
      const known = (await storage.listStudies()).map((s) => s.name);
      throw new StorageError(`loadStudy: no study named "${options.name}" in ${storage.description}${known.length ? `; known: ${known.slice(0, 10).join(', ')}` : '; the storage holds no study'}`);
    }
    return withTracking(await studyFor(storage, record, options), options.mlflow, false);
  } catch (e) {
    await storage.close?.().catch(() => undefined);
    throw e;
  }
}

async function studyFor(storage: Storage, record: StudyRecord, overrides: Pick<LoadStudyOptions, 'sampler' | 'scheduler'>): Promise<Study> {
  const { sampler, scheduler } = strategies({ ...record, sampler: strategySpec(overrides.sampler) ?? record.sampler, scheduler: strategySpec(overrides.scheduler) ?? record.scheduler });
  // The space it runs now (a resume may have widened it), and the prior of its warm start, as a
  // worker joining it gets them.
  const source = currentSpaceSource(record);
  if (source) {
    const loaded = parseSpace(source, `study ${record.name} (stored space)`);
    const warnings: string[] = [];
    const { prior } = await storedPrior(storage, record, loaded, { openStorage: (url) => openStorage(url, { readonly: true, flag: 'warmStart' }), warnings });
    for (const w of warnings) process.stderr.write(`segtune: warning: ${w}\n`);
    return new Study(storage, record, sampler, scheduler, loaded.space.params, true, prior);
  }
  return new Study(storage, record, sampler, scheduler, DistributionRegistry.fromAttrs(record.attrs), false);
}

/**
 * MLflow tracking as `segtune search` does it: one parent run per study with a nested run per
 * trial, through the storage's durable outbox (an MLflow outage loses nothing). On when `mlflow`
 * or $MLFLOW_TRACKING_URI names a server.
 */
async function withTracking(study: Study, mlflow: string | undefined, created: boolean): Promise<Study> {
  try {
    const { trackers } = await openTrackers({ mlflow, storage: study.storage, onWarning: (m) => process.stderr.write(`segtune: warning: ${m}\n`) });
    if (trackers.length) study.useTrackers(trackers, created);
    return study;
  } catch (e) {
    await study.close().catch(() => undefined);
    throw isUserError(e) ? new UsageError(`mlflow: ${(e as Error).message}`) : e;
  }
}
