import { UserError, type Decision, type Objective, type Scheduler, type SchedulerContext, type Trial } from '@segtune/core';
import { budgetRule, type Budget } from '@segtune/space';
import { asLoss } from './rungs';

export interface MedianOptions {
  /** No trial is stopped before this step. Default the budget's `min`. */
  gracePeriod?: number;
  /** No trial is stopped until this many trials have completed. Default 5. */
  minTrials?: number;
}

/**
 * The median stopping rule (Golovin et al. 2017, Google Vizier; Optuna's MedianPruner): a trial
 * stops at step s when its best value so far is worse than the median of the values that
 * completed trials reported at step s.
 */
export class MedianStoppingScheduler implements Scheduler {
  readonly name = 'median';
  readonly needsHistory = true;
  readonly grace: number;
  readonly minTrials: number;
  private readonly objective: Objective;

  constructor(budget: Budget | undefined, objectives: readonly Objective[], options: MedianOptions = {}) {
    if (!budget) throw new UserError('scheduler "median" needs a budget block in the space file (budget: { name: epochs, min: 1, max: 27 })');
    this.grace = options.gracePeriod ?? budget.min;
    if (!Number.isFinite(this.grace) || this.grace < 0) throw new UserError(`scheduler "median": option "grace_period" must be a number >= 0, got ${this.grace}`);
    if (this.grace > budget.max) throw new UserError(`scheduler "median": option "grace_period" ${budgetRule(budget)}, got ${this.grace}`);
    this.minTrials = options.minTrials ?? 5;
    if (!Number.isInteger(this.minTrials) || this.minTrials < 1) throw new UserError(`scheduler "median": option "min_trials" must be an integer >= 1, got ${this.minTrials}`);
    if (objectives.length === 0) throw new Error('scheduler "median" needs an objective');
    this.objective = objectives[0];
  }

  decide(ctx: SchedulerContext): Decision {
    if (ctx.step < this.grace) return 'continue';
    const metric = this.objective.name;
    let best = Infinity;
    for (const [s, vs] of Object.entries(ctx.trial.intermediate)) {
      const v = vs[metric];
      if (Number(s) <= ctx.step && typeof v === 'number' && Number.isFinite(v)) best = Math.min(best, asLoss(this.objective, v));
    }
    if (best === Infinity) return 'continue';
    const others: number[] = [];
    for (const t of ctx.history) {
      if (t.state !== 'complete' || t.id === ctx.trial.id) continue;
      const v = valueAt(t, ctx.step, metric);
      if (v !== undefined) others.push(asLoss(this.objective, v));
    }
    if (others.length < this.minTrials) return 'continue';
    return best > median(others) ? 'stop' : 'continue';
  }
}

/** The value a trial reported at `step`, or at its last step before it. */
function valueAt(t: Trial, step: number, metric: string): number | undefined {
  let at = -Infinity;
  let value: number | undefined;
  for (const [s, vs] of Object.entries(t.intermediate)) {
    const k = Number(s);
    const v = vs[metric];
    if (k <= step && k > at && typeof v === 'number' && Number.isFinite(v)) {
      at = k;
      value = v;
    }
  }
  return value;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}
