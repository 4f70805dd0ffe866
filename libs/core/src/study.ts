import { decodeValue, type Budget, type Params, type Space } from '@segtune/space';
import { Rng } from './rng';
import { parseConstraint, type Constraint, type Objective } from './objectives';
import type { Sampler, SamplerContext } from './sampler';
import { noScheduler, type Decision, type Scheduler, type Suggestion } from './scheduler';
import type { FinishTrial, Storage, StudyRecord } from './storage';
import type { FailReason, MetricValues, Trial, TrialAttrs } from './trial';
import type { StudyEvent, Tracker } from './tracker';
import { processIdentity } from './recovery';

export interface StudyOptions {
  storage: Storage;
  record: StudyRecord;
  space: Space;
  sampler: Sampler;
  scheduler?: Scheduler;
  trackers?: Tracker[];
  /** Name of this process, stored on each trial it runs. */
  worker?: string;
  /** Prior observations from earlier studies (`--warm-start`), handed to the sampler. */
  prior?: readonly Trial[];
}

export type TellOutcome =
  | { state: 'complete'; metrics: MetricValues; attrs?: TrialAttrs }
  | { state: 'pruned'; attrs?: TrialAttrs }
  | { state: 'failed'; reason: FailReason; error: string; attrs?: TrialAttrs };

export interface EnqueueOptions {
  /**
   * Accept params the space does not hold yet (a define-by-run study, whose space grows as the
   * objective asks): they are kept with the trial for the objective to find.
   */
  unknownParams?: boolean;
}

/**
 * One study over a storage: ask / report / tell, as Optuna's ask-and-tell interface, plus a
 * history snapshot that is synced incrementally (only trials changed since the last sync are
 * read), so asking stays cheap at 10,000 trials and reflects other workers' trials.
 */
export class Study {
  readonly storage: Storage;
  readonly record: StudyRecord;
  readonly space: Space;
  readonly sampler: Sampler;
  readonly scheduler: Scheduler;
  readonly objectives: readonly Objective[];
  readonly constraints: readonly Constraint[];
  readonly trackers: Tracker[];
  readonly worker: string;
  readonly prior: readonly Trial[];
  /**
   * Every trial synced so far, in number order (a study's numbers are unique and never change),
   * kept in order as changes arrive: a sync that brings two or three changed trials places each
   * by binary search instead of re-sorting thousands, which it did on every ask and report.
   */
  private readonly synced: Trial[] = [];
  private lastSeq = 0;

  constructor(options: StudyOptions) {
    this.storage = options.storage;
    this.record = options.record;
    this.space = options.space;
    this.sampler = options.sampler;
    this.scheduler = options.scheduler ?? noScheduler;
    this.objectives = options.record.objectives;
    this.constraints = (options.record.constraints ?? []).map((c) => {
      const parsed = parseConstraint(c);
      if (!parsed) throw new Error(`malformed constraint "${c}"`);
      return parsed;
    });
    this.trackers = options.trackers ?? [];
    this.worker = options.worker ?? `${processIdentity().host}:${process.pid}`;
    this.prior = options.prior ?? [];
  }

  get id(): number {
    return this.record.id;
  }

  get name(): string {
    return this.record.name;
  }

  get budget(): Budget | undefined {
    return this.record.budget;
  }

  get objectiveNames(): string[] {
    return this.objectives.map((o) => o.name);
  }

  /** All trials of the study, synced from storage (only changes are read). */
  async trials(): Promise<Trial[]> {
    const changed = await this.storage.getTrials(this.id, { sinceSeq: this.lastSeq });
    for (const t of changed) {
      this.place(t);
      if (t.seq > this.lastSeq) this.lastSeq = t.seq;
    }
    // A copy: what callers do with the list cannot disturb the next sync.
    return this.synced.slice();
  }

  /** Puts a synced trial in its place by number, replacing the older copy of it. */
  private place(t: Trial): void {
    const xs = this.synced;
    const n = xs.length;
    // The common case: a new trial, numbered after every one synced.
    if (n === 0 || xs[n - 1].number < t.number) {
      xs.push(t);
      return;
    }
    let a = 0;
    let b = n;
    while (a < b) {
      const mid = (a + b) >> 1;
      if (xs[mid].number < t.number) a = mid + 1;
      else b = mid;
    }
    if (xs[a].number === t.number) xs[a] = t;
    else xs.splice(a, 0, t);
  }

  /**
   * Adds a configuration that `ask` hands out before sampling anything new. It may be partial
   * (Optuna's enqueue_trial): the params left out are the sampler's when the trial is asked for,
   * and attr `fixed_params` names the given ones.
   */
  async enqueue(params: Params, attrs: TrialAttrs = {}, options: EnqueueOptions = {}): Promise<Trial> {
    const unknown = Object.keys(params).filter((k) => !this.space.has(k));
    const problems = this.space.validatePartial(options.unknownParams ? Object.fromEntries(Object.entries(params).filter(([k]) => this.space.has(k))) : params);
    if (problems.length) throw new Error(`enqueued configuration is invalid: ${problems.join('; ')}`);
    const partial = unknown.length > 0 || this.space.missing(params).length > 0;
    const given = partial ? params : this.space.ordered(params);
    const trial = await this.storage.createTrial(this.id, { state: 'waiting', params: given, attrs: { ...attrs, enqueued: true, ...(partial ? { fixed_params: Object.keys(given) } : {}) } });
    if (!trial) throw new Error('storage refused to create a waiting trial');
    return trial;
  }

  /**
   * A new running trial: an enqueued configuration if one waits, else the sampler's suggestion.
   * Undefined once the study holds `maxTrials` trials (checked atomically in storage).
   */
  async ask(attrs: TrialAttrs = {}, maxTrials?: number): Promise<Trial | undefined> {
    const base = { worker: this.worker, ...processIdentity(), ...attrs };
    const limit = maxTrials === undefined ? undefined : { maxTrials };
    const claimed = await this.storage.claimWaitingTrial(this.id, base, limit);
    if (claimed) return this.started(await this.completeClaimed(claimed));
    const trial = await this.storage.createTrial(this.id, { state: 'running', params: {}, attrs: base }, limit);
    if (!trial) return undefined;
    let suggestion: Suggestion;
    try {
      const ctx = await this.samplerContext(trial, this.scheduler.suggest !== undefined);
      // A scheduler that owns the choice (a paused configuration to resume) goes first.
      suggestion = (await this.scheduler.suggest?.(ctx)) ?? { params: await this.sampler.suggest(ctx) };
    } catch (e) {
      await this.failSampler(trial, e);
      throw e;
    }
    const params = this.space.ordered(suggestion.params);
    const { resume } = suggestion;
    // A resumed configuration stays in the bracket of its first trial.
    const bracket = this.scheduler.bracketFor?.(resume?.rootTrialNumber ?? trial.number);
    const extra: TrialAttrs = {
      ...(bracket === undefined ? {} : { bracket }),
      ...(resume ? { resumed_from_trial: resume.trialNumber, resumed_from_step: resume.step, config_root: resume.rootTrialNumber, ...(resume.transfer ? { resume_transfer: true } : {}) } : {}),
      ...suggestion.attrs,
    };
    // Params and the scheduler's attrs in one write.
    await this.storage.setTrialParams(trial.id, params, extra);
    return this.started({ ...trial, params, attrs: { ...trial.attrs, ...extra } });
  }

  /** What a sampler sees when it proposes `trial`'s params. */
  private async samplerContext(trial: Trial, forScheduler: boolean): Promise<SamplerContext> {
    const needsHistory = this.sampler.needsHistory !== false || forScheduler;
    const all = needsHistory ? await this.trials() : [];
    const history: Trial[] = [];
    const running: Trial[] = [];
    for (const t of all) {
      if (t.state === 'complete' || t.state === 'pruned' || t.state === 'failed') history.push(t);
      else if (t.state === 'running' && t.id !== trial.id && Object.keys(t.params).length > 0) running.push(t);
    }
    return {
      space: this.space,
      objectives: this.objectives,
      constraints: this.constraints,
      history,
      running,
      rng: Rng.derive(this.record.seed, 'sample', trial.number),
      trialNumber: trial.number,
      budget: this.budget,
      seed: this.record.seed,
      ...(this.prior.length ? { prior: this.prior } : {}),
    };
  }

  private async failSampler(trial: Trial, e: unknown): Promise<void> {
    await this.storage.finishTrial(trial.id, { state: 'failed', attrs: { reason: 'sampler', error: `sampler failed: ${(e as Error).message}` } });
  }

  /**
   * A claimed enqueued trial whose configuration leaves active params out: the sampler proposes
   * a whole configuration over the history (as for any trial of that number) and the given
   * values override it, as Optuna does with fixed params; a param neither has (a branch only the
   * given values open) is drawn uniformly. Params the space does not know are kept for
   * define-by-run studies, whose space grows as the objective asks.
   */
  private async completeClaimed(claimed: Trial): Promise<Trial> {
    const given = claimed.params;
    if (this.space.missing(given).length === 0) return claimed;
    let proposal: Params;
    try {
      proposal = this.space.dimension ? await this.sampler.suggest(await this.samplerContext(claimed, false)) : {};
    } catch (e) {
      await this.failSampler(claimed, e);
      throw e;
    }
    const rng = Rng.derive(this.record.seed, 'fill', claimed.number);
    const params = { ...this.space.complete(given, proposal, (p) => decodeValue(p, rng.random())) };
    for (const [k, v] of Object.entries(given)) if (!this.space.has(k)) params[k] = v;
    await this.storage.setTrialParams(claimed.id, params);
    return { ...claimed, params };
  }

  private started(trial: Trial): Trial {
    this.emit({ kind: 'trial-started', study: this.record, trial });
    return trial;
  }

  /**
   * Stores an intermediate report and asks the scheduler whether the trial goes on. Non-finite
   * values are not stored and do not reach the scheduler.
   */
  async report(trial: Trial, step: number, values: MetricValues): Promise<Decision> {
    const finite: MetricValues = {};
    for (const [k, v] of Object.entries(values)) if (typeof v === 'number' && Number.isFinite(v)) finite[k] = v;
    await this.storage.reportIntermediate(trial.id, step, finite);
    const current: Trial = { ...trial, intermediate: { ...trial.intermediate, [step]: finite } };
    trial.intermediate = current.intermediate;
    this.emit({ kind: 'trial-reported', study: this.record, trial: current, step, values: finite });
    if (this.scheduler === noScheduler || !this.budget) return 'continue';
    const history = this.scheduler.needsHistory === false ? [] : await this.trials();
    return this.scheduler.decide({ trial: current, step, values: finite, history, objectives: this.objectives, budget: this.budget });
  }

  /**
   * Finishes a trial. A complete outcome whose objective values are missing or not finite fails
   * the trial instead (reason `non-finite`), so that samplers never see such values.
   */
  async tell(trial: Trial, outcome: TellOutcome): Promise<Trial> {
    let finish: FinishTrial;
    if (outcome.state === 'complete') {
      const values = this.objectives.map((o) => outcome.metrics[o.name]);
      const bad = this.objectives.find((o, i) => typeof values[i] !== 'number' || !Number.isFinite(values[i]));
      if (bad) {
        const v = outcome.metrics[bad.name];
        finish = {
          state: 'failed',
          metrics: finiteOnly(outcome.metrics),
          attrs: { ...outcome.attrs, reason: 'non-finite', error: v === undefined ? `objective "${bad.name}" was not returned` : `objective "${bad.name}" is ${String(v)}` },
        };
      } else {
        finish = { state: 'complete', values, metrics: finiteOnly(outcome.metrics), attrs: outcome.attrs };
      }
    } else if (outcome.state === 'pruned') {
      finish = { state: 'pruned', attrs: outcome.attrs };
    } else {
      finish = { state: 'failed', attrs: { ...outcome.attrs, reason: outcome.reason, error: oneLine(outcome.error) } };
    }
    const done = await this.storage.finishTrial(trial.id, finish);
    this.emit({ kind: 'trial-finished', study: this.record, trial: done });
    return done;
  }

  emit(event: StudyEvent): void {
    for (const t of this.trackers) {
      try {
        t.handle(event);
      } catch {
        // A tracker can never fail a search.
      }
    }
  }
}

function finiteOnly(m: MetricValues): MetricValues {
  const out: MetricValues = {};
  for (const [k, v] of Object.entries(m)) if (typeof v === 'number' && Number.isFinite(v)) out[k] = v;
  return out;
}

function oneLine(s: string): string {
  const line = s.split('\n').find((l) => l.trim()) ?? s;
  return line.length > 500 ? `${line.slice(0, 497)}...` : line;
}
