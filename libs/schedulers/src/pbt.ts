import { releasedSteps, UserError, type Decision, type Objective, type SamplerContext, type Scheduler, type SchedulerContext, type Suggestion, type Trial } from '@segtune/core';
import type { Budget, ParamDef, Params, Space } from '@segtune/space';
import { asLoss, historyWith, rungValue } from './rungs';

export interface PbtOptions {
  /** Trials sampled fresh before any is replaced (the population). Default 8. */
  populationSize?: number;
  /** Steps between exploit/explore decisions. Default ⌈budget max / 8⌉, at least the budget's min. */
  perturbationInterval?: number;
  /** Bottom fraction replaced at each interval, and top fraction copied from. Default 0.25. */
  quantileFraction?: number;
  /** Chance that a mutable param is drawn afresh instead of scaled. Default 0.25. */
  resampleProbability?: number;
  /** Params perturbed on exploit; default every float param (learning rate, decay, magnitudes). */
  mutable?: readonly string[];
}

/**
 * Population-based training (Jaderberg et al., 2017), as Ray Tune's PopulationBasedTraining does
 * it, on stored trials only. At each `perturbationInterval` step a trial in the bottom
 * `quantileFraction` of the trials that reported that step is stopped (`decide` → stop); the
 * next ask is answered with its replacement: a top-quantile trial's params, the mutable ones
 * scaled by 0.8 or 1.2 (or drawn afresh), resumed from that trial's checkpoint at the interval
 * step (every trial keeps one per interval step, `checkpointSteps`, since by then the parent may
 * have trained on or finished) with the new hyperparameters (`resume.transfer`), recorded as
 * `pbt_replaces` and `pbt_parent`. Every worker
 * reaches the same decisions from the same storage; two workers asking at the same instant may
 * both replace one stopped trial (the second replacement just adds a member).
 */
export class PbtScheduler implements Scheduler {
  readonly name: string;
  readonly needsHistory = true;
  readonly populationSize: number;
  readonly interval: number;
  readonly quantile: number;
  readonly resample: number;
  protected readonly objective: Objective;
  protected readonly max: number;

  constructor(
    budget: Budget | undefined,
    objectives: readonly Objective[],
    protected readonly options: PbtOptions = {},
    /** The scheduler's kind, in messages and as its name (PB2 shares this constructor). */
    kind = 'pbt',
  ) {
    this.name = kind;
    if (!budget) throw new UserError(`scheduler "${kind}" needs a budget block (its steps are the perturbation intervals)`);
    if (objectives.length === 0) throw new Error(`scheduler "${kind}" needs an objective`);
    this.objective = objectives[0];
    this.max = budget.max;
    this.populationSize = options.populationSize ?? 8;
    this.interval = options.perturbationInterval ?? Math.max(budget.min, Math.ceil(budget.max / 8));
    if (!(this.interval > 0 && this.interval < budget.max)) throw new UserError(`scheduler "${kind}": option "perturbation_interval" must be a number in (0, ${budget.max}), the budget's max, got ${this.interval}`);
    this.quantile = options.quantileFraction ?? 0.25;
    this.resample = options.resampleProbability ?? 0.25;
  }

  /**
   * The interval steps: a replacement continues its parent's weights as they were at the step the
   * replaced trial was stopped at, so every trial keeps its checkpoint of each.
   */
  checkpointSteps(): number[] {
    const out: number[] = [];
    for (let k = 1; k * this.interval < this.max - 1e-9; k++) out.push(Math.round(k * this.interval * 1e9) / 1e9);
    return out;
  }

  /** Interval steps: multiples of the interval below the budget's end. */
  protected isInterval(step: number): boolean {
    const k = step / this.interval;
    return step < this.max && Math.abs(k - Math.round(k)) < 1e-9 && Math.round(k) >= 1;
  }

  /** Trials with a value at exactly `step`, best first (ties to the earlier trial). */
  private ranked(trials: readonly Trial[], step: number): { trial: Trial; loss: number }[] {
    const out: { trial: Trial; loss: number }[] = [];
    for (const t of trials) {
      const v = rungValue(t, step, this.objective.name);
      if (v && v.step === step) out.push({ trial: t, loss: asLoss(this.objective, v.value) });
    }
    return out.sort((a, b) => a.loss - b.loss || a.trial.number - b.trial.number);
  }

  decide(ctx: SchedulerContext): Decision {
    if (!this.isInterval(ctx.step)) return 'continue';
    const ranked = this.ranked(historyWith(ctx), ctx.step);
    const bottom = Math.floor(ranked.length * this.quantile + 1e-9);
    if (bottom < 1) return 'continue';
    const rank = ranked.findIndex((e) => e.trial.id === ctx.trial.id);
    return rank >= 0 && rank >= ranked.length - bottom ? 'stop' : 'continue';
  }

  suggest(ctx: SamplerContext): Suggestion | undefined {
    const all = [...ctx.history, ...ctx.running].filter((t) => Object.keys(t.params).length > 0);
    if (all.filter((t) => t.attrs.pbt_parent === undefined).length < this.populationSize) return undefined;
    const replaced = new Set(all.map((t) => t.attrs.pbt_replaces).filter((n): n is number => typeof n === 'number'));
    const stopped = ctx.history
      .filter((t) => t.state === 'pruned' && !replaced.has(t.number))
      .map((t) => ({ t, step: lastStep(t) }))
      .filter((x) => this.isInterval(x.step))
      .sort((a, b) => a.t.number - b.t.number)[0];
    if (!stopped) return undefined;
    const ranked = this.ranked(all, stopped.step).filter((e) => e.trial.id !== stopped.t.id);
    if (ranked.length === 0) return undefined;
    const size = Math.max(1, Math.floor(ranked.length * this.quantile + 1e-9));
    // A trial whose checkpoint at the step was released cannot be continued from it. Under the
    // trial limit it was released for, it is below the top places anyway (releasableCheckpoints),
    // so this changes nothing; after the limit was raised, the places go to the best trials that
    // still have theirs.
    const top = ranked.filter((e) => !releasedSteps(e.trial.attrs).includes(stopped.step)).slice(0, size);
    if (top.length === 0) return undefined;
    const parent = top[ctx.rng.int(top.length)].trial;
    const root = typeof parent.attrs.config_root === 'number' ? parent.attrs.config_root : parent.number;
    // From the parent's weights as they were at the interval step (its kept checkpoint there,
    // checkpointSteps): by now it may have trained on, or finished its budget, and its latest
    // checkpoint would leave the replacement less to train, or nothing.
    const explored = this.explore(ctx, parent, stopped.step);
    return {
      params: explored.params,
      resume: { trialNumber: parent.number, step: stopped.step, rootTrialNumber: root, transfer: true },
      attrs: { pbt_replaces: stopped.t.number, pbt_parent: parent.number, ...explored.attrs },
    };
  }

  /**
   * The kept checkpoints no replacement can continue from in a study of at most `maxTrials`
   * trials. A replacement at a step copies one of the top max(1, ⌊n·q⌋) trials ranked at it, n
   * fewer than `maxTrials`; a trial's rank there only grows as trials arrive (ties go to the
   * earlier trial), so once it is below the first ⌊maxTrials·q⌋ + 1 places it never comes back.
   * Left out while a replacement that was told to continue it from that step has not yet
   * reported past it (it may still be reading the checkpoint).
   */
  releasableCheckpoints(trials: readonly Trial[], maxTrials: number): { trialNumber: number; step: number }[] {
    const places = Math.max(1, Math.floor(maxTrials * this.quantile + 1e-9)) + 1;
    const all = trials.filter((t) => Object.keys(t.params).length > 0);
    const out: { trialNumber: number; step: number }[] = [];
    for (const step of this.checkpointSteps()) {
      const ranked = this.ranked(all, step);
      if (ranked.length <= places) continue;
      const reading = new Set(all.filter((t) => t.state === 'running' && t.attrs.resumed_from_step === step && lastStep(t) <= step).map((t) => t.attrs.resumed_from_trial));
      for (const { trial } of ranked.slice(places)) if (!reading.has(trial.number)) out.push({ trialNumber: trial.number, step });
    }
    return out;
  }

  /**
   * The hyperparameters a replacement continues `parent` with from `step` (PBT's explore step):
   * here the parent's, perturbed; PB2 chooses them by a model of the improvement they bring.
   */
  protected explore(ctx: SamplerContext, parent: Trial, _step: number): { params: Params; attrs?: Record<string, unknown> } {
    return { params: this.perturb(ctx.space, parent.params, ctx.rng) };
  }

  /** Names of the params an exploit may change (checked against the space). */
  protected mutableNames(space: Space): string[] {
    const names = this.options.mutable ?? space.params.filter((p) => p.type === 'float').map((p) => p.name);
    for (const n of names) if (!space.params.some((p) => p.name === n)) throw new UserError(`scheduler "${this.name}": option "mutable" names "${n}", which is not a param of the space`);
    return [...names];
  }

  /** The parent's params with the mutable ones scaled by 0.8 or 1.2, or drawn afresh, within bounds. */
  perturb(space: Space, params: Params, rng: SamplerContext['rng']): Params {
    const names = this.mutableNames(space);
    const out: Params = { ...params };
    for (const p of space.params) {
      if (!names.includes(p.name) || out[p.name] === undefined) continue;
      out[p.name] = rng.random() < this.resample ? space.decode(space.params.map(() => rng.random()))[p.name] ?? out[p.name] : scaled(p, out[p.name], rng);
    }
    // Snap to the space's grid (ints, steps) through its encoding.
    return space.decode(space.encode(out));
  }
}

export function scaled(p: ParamDef, value: Params[string], rng: SamplerContext['rng']): Params[string] {
  if (p.type === 'categorical') {
    // A neighbouring choice, as Ray Tune shifts categorical values.
    const i = p.choices.indexOf(value as never);
    const j = Math.min(p.choices.length - 1, Math.max(0, i + (rng.random() < 0.5 ? -1 : 1)));
    return p.choices[i < 0 ? 0 : j] as Params[string];
  }
  const v = Number(value) * (rng.random() < 0.5 ? 0.8 : 1.2);
  return Math.min(p.high, Math.max(p.low, v));
}

/** The last step a trial reported (0 before any). */
export function lastStep(t: Trial): number {
  const steps = Object.keys(t.intermediate).map(Number);
  return steps.length ? Math.max(...steps) : 0;
}
