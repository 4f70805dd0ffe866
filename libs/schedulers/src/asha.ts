import type { Decision, Objective, SamplerContext, Scheduler, SchedulerContext, Suggestion, Trial } from '@segtune/core';
import { bracketsRule, type Budget } from '@segtune/space';
import { bracketSequence, ladders, maxBrackets, resolveRungs, type ResolvedRungs, type RungSettings } from './brackets';
import { asLoss, configKey, crossedRungs, historyWith, promotable, rungMetric, rungValue } from './rungs';
import { UserError } from '@segtune/core';
import { promotionSuggestion } from './promotion';

export type AshaMode = 'stopping' | 'promotion';

export interface AshaOptions extends RungSettings {
  /** Number of brackets (early-stopping rates 0 … brackets-1). Default 1. */
  brackets?: number;
  /** Share of trials per bracket; equal by default (Hyperband passes its own). */
  bracketWeights?: readonly number[];
  /**
   * `stopping` (default): a trial that is not in the top 1/η when it reaches a rung stops for
   * good. `promotion`: it pauses (ends pruned after saving a checkpoint) and a later trial with
   * the same configuration resumes it when it enters the top 1/η (see `promotionSuggestion`).
   */
  mode?: AshaMode;
}

/**
 * One competitor at a rung: a trial in stopping mode, or a configuration (every trial that ran
 * it, their reports merged) in promotion mode, where a resumed configuration is a new trial.
 */
export interface RungUnit {
  /** Lowest trial number that ran the configuration: fixes its bracket and breaks ties. */
  number: number;
  key: string;
  intermediate: Trial['intermediate'];
  trials: Trial[];
}

export interface RungEntry {
  unit: RungUnit;
  /** One loss per judged objective (smaller is better). */
  losses: number[];
}

/**
 * Asynchronous successive halving (Li et al., "A System for Massively Parallel Hyperparameter
 * Tuning", 2020). Decisions at a rung compare a trial with every trial of its bracket that has a
 * value at that rung in storage, so no trial ever waits for another: a trial that fails or hangs
 * simply never enters later rungs.
 */
export class AshaScheduler implements Scheduler {
  readonly name: string;
  readonly needsHistory = true;
  readonly mode: AshaMode;
  readonly rungs: ResolvedRungs;
  /** Rung resources per bracket. */
  readonly ladders: number[][];
  readonly objectives: readonly Objective[];
  private readonly sequence: number[];

  constructor(budget: Budget | undefined, objectives: readonly Objective[], options: AshaOptions = {}, name = 'asha') {
    this.name = name;
    this.rungs = resolveRungs(name, budget, options);
    const most = maxBrackets(this.rungs);
    const brackets = options.brackets ?? options.bracketWeights?.length ?? 1;
    if (!Number.isInteger(brackets) || brackets < 1) throw new UserError(`scheduler "${name}": option "brackets" must be an integer >= 1, got ${brackets}`);
    if (brackets > most) {
      throw new UserError(`scheduler "${name}": option "brackets" ${bracketsRule(most, this.rungs.minResource, this.rungs.budget.max, this.rungs.eta)}, got ${brackets}`);
    }
    const weights = options.bracketWeights ?? Array.from({ length: brackets }, () => 1);
    if (weights.length !== brackets) throw new Error(`bracketWeights has ${weights.length} entries for ${brackets} brackets`);
    this.sequence = bracketSequence(weights);
    this.ladders = ladders(this.rungs, brackets);
    this.mode = options.mode ?? 'stopping';
    if (this.mode !== 'stopping' && this.mode !== 'promotion') throw new UserError(`scheduler "${name}": option "mode" must be one of stopping, promotion, got ${JSON.stringify(this.mode)}`);
    if (objectives.length === 0) throw new Error(`scheduler "${name}" needs at least one objective`);
    this.objectives = this.judged(objectives);
  }

  /** The objectives rungs are judged on: the first one (MO-ASHA overrides: all of them). */
  protected judged(objectives: readonly Objective[]): readonly Objective[] {
    return objectives.slice(0, 1);
  }

  get eta(): number {
    return this.rungs.eta;
  }

  bracketFor(trialNumber: number): number {
    return this.sequence[trialNumber % this.sequence.length];
  }

  /** Promotion mode: a paused configuration that earned its next rung, before anything new. */
  suggest(ctx: SamplerContext): Suggestion | undefined {
    return this.mode === 'promotion' ? promotionSuggestion(this, [...ctx.history, ...ctx.running]) : undefined;
  }

  decide(ctx: SchedulerContext): Decision {
    if (this.mode === 'promotion') return this.decidePromotion(ctx);
    // Stopping mode: each trial is its own unit, judged at each rung this report crosses.
    const me = ctx.trial;
    const bracket = this.bracketFor(me.number);
    for (const rung of crossedRungs(me, ctx.step, this.ladders[bracket])) {
      if (!this.passesRung(ctx.history, me, bracket, rung)) return 'stop';
    }
    return 'continue';
  }

  /**
   * Whether `me` is in the top 1/η of its bracket at `rung`, given the stored history (`me`'s
   * newest state stands in for its stored copy). A trial without a finite value of its own at the
   * rung has nothing to be judged by and passes. Single objective: one pass that counts the rung's
   * entries and those ranked before `me`, with no allocation per trial, since this runs for every
   * rung report against the whole history.
   */
  protected passesRung(history: readonly Trial[], me: Trial, bracket: number, rung: number): boolean {
    const objective = this.objectives[0];
    const own = rungValue(me, rung, objective.name);
    if (!own) return true;
    const mine = asLoss(objective, own.value);
    let n = 1;
    let rank = 0;
    const sign = objective.direction === 'maximize' ? -1 : 1;
    const name = objective.name;
    const single = this.ladders.length === 1;
    for (const t of history) {
      if (t.id === me.id && t.studyId === me.studyId) continue;
      if (!single && this.bracketFor(t.number) !== bracket) continue;
      const v = rungMetric(t, rung, name);
      if (v !== v) continue; // NaN: no finite value at the rung
      n++;
      const loss = sign * v;
      if (loss < mine || (loss === mine && t.number < me.number)) rank++;
    }
    return promotable(rank, n, this.rungs.eta);
  }

  /** `passesRung` through `entriesAt` and `rankOf`: for orders that need the whole rung (MO-ASHA). */
  protected passesRungRanked(history: readonly Trial[], me: Trial, bracket: number, rung: number): boolean {
    const units: RungUnit[] = [{ number: me.number, key: '', intermediate: me.intermediate, trials: [me] }];
    for (const t of history) {
      if (t.id === me.id && t.studyId === me.studyId) continue;
      if (this.bracketFor(t.number) === bracket) units.push({ number: t.number, key: '', intermediate: t.intermediate, trials: [t] });
    }
    const entries = this.entriesAt(units, rung);
    const mine = entries.find((e) => e.unit === units[0]);
    if (!mine) return true;
    return promotable(this.rankOf(entries, mine), entries.length, this.rungs.eta);
  }

  private decidePromotion(ctx: SchedulerContext): Decision {
    const units = this.units(historyWith(ctx));
    const mine = units.get(this.unitKey(ctx.trial));
    if (!mine) return 'continue';
    const bracket = this.bracketFor(mine.number);
    // Crossing is judged on the configuration's merged reports, so a resumed trial's first report
    // does not look like it crossed the rungs its configuration passed before it paused.
    const previous = withoutStep(mine.intermediate, ctx.step);
    const crossed = crossedRungs({ intermediate: { ...previous, [ctx.step]: ctx.values } }, ctx.step, this.ladders[bracket]);
    for (const rung of crossed) {
      const entries = this.entriesAt([...units.values()].filter((u) => this.bracketFor(u.number) === bracket), rung);
      const me = entries.find((e) => e.unit === mine);
      if (!me) continue;
      if (!promotable(this.rankOf(entries, me), entries.length, this.rungs.eta)) return 'stop';
    }
    return 'continue';
  }

  /** Position of `mine` in the rung's order, best first (single objective: a count, no sort). */
  rankOf(entries: RungEntry[], mine: RungEntry): number {
    let rank = 0;
    const l = mine.losses[0];
    for (const e of entries) if (e.losses[0] < l || (e.losses[0] === l && e.unit.number < mine.unit.number)) rank++;
    return rank;
  }

  /** Every unit (trial, or configuration in promotion mode) of a history, by key. */
  units(all: readonly Trial[]): Map<string, RungUnit> {
    const out = new Map<string, RungUnit>();
    const sorted = [...all].sort((a, b) => a.number - b.number);
    for (const t of sorted) {
      const key = this.unitKey(t);
      const u = out.get(key);
      if (!u) out.set(key, { number: t.number, key, intermediate: t.intermediate, trials: [t] });
      else {
        u.trials.push(t);
        u.intermediate = { ...u.intermediate, ...t.intermediate };
      }
    }
    return out;
  }

  unitKey(t: Trial): string {
    return this.mode === 'promotion' && Object.keys(t.params).length > 0 ? `c${configKey(t.params)}` : `t${t.studyId}:${t.id}`;
  }

  /** The units with a finite value (every judged objective) at a rung. */
  entriesAt(units: readonly RungUnit[], rung: number): RungEntry[] {
    const out: RungEntry[] = [];
    for (const unit of units) {
      const e = this.entry(unit, rung);
      if (e) out.push(e);
    }
    return out;
  }

  private entry(unit: RungUnit, rung: number): RungEntry | undefined {
    const losses: number[] = [];
    for (const o of this.objectives) {
      const v = rungMetric(unit, rung, o.name);
      if (Number.isNaN(v)) return undefined;
      losses.push(asLoss(o, v));
    }
    return { unit, losses };
  }

  /** Best first; ties to the lower trial number. */
  order(entries: RungEntry[]): RungEntry[] {
    return [...entries].sort((a, b) => a.losses[0] - b.losses[0] || a.unit.number - b.unit.number);
  }
}

function withoutStep(intermediate: Trial['intermediate'], step: number): Trial['intermediate'] {
  const out: Trial['intermediate'] = {};
  for (const [k, v] of Object.entries(intermediate)) if (Number(k) !== step) out[Number(k)] = v;
  return out;
}
