import type { Objective, SchedulerContext, Trial } from '@segtune/core';

// Helpers every rung-based scheduler shares. All of them read stored intermediate values only
// (a trial's `intermediate`: step → metrics), never in-memory bookkeeping, so that any worker
// holding the same history reaches the same decision.

/** Tolerance for comparing steps with rung resources such as 1·3^k computed in floating point. */
const EPS = 1e-9;

/**
 * The rung resources of a bracket with early-stopping rate `rate`: minResource·η^(rate+k) for
 * k = 0, 1, … strictly below `max` (at `max` a trial completes, there is nothing left to stop),
 * leaving out rungs below `grace` (no trial is stopped before its grace period).
 */
export function rungLadder(minResource: number, eta: number, rate: number, max: number, grace: number): number[] {
  const out: number[] = [];
  for (let k = 0; k < 64; k++) {
    const r = minResource * eta ** (rate + k);
    if (r >= max - EPS) break;
    if (r >= grace - EPS) out.push(r);
  }
  return out;
}

/** A trial's value at a rung: the first reported step at or beyond the rung resource. */
export function rungValue(trial: Pick<Trial, 'intermediate'>, rung: number, metric: string): { step: number; value: number } | undefined {
  const at = rungStep(trial.intermediate, rung);
  if (at === undefined) return undefined;
  const v = trial.intermediate[at]?.[metric];
  return typeof v === 'number' && Number.isFinite(v) ? { step: at, value: v } : undefined;
}

/** `rungValue`'s value alone, NaN when there is none: for loops over whole histories (no allocation). */
export function rungMetric(trial: Pick<Trial, 'intermediate'>, rung: number, metric: string): number {
  const direct = trial.intermediate[rung];
  const at = direct !== undefined ? rung : rungStep(trial.intermediate, rung);
  if (at === undefined) return NaN;
  const v = (direct ?? trial.intermediate[at])?.[metric];
  return typeof v === 'number' && Number.isFinite(v) ? v : NaN;
}

/** The first reported step at or beyond `rung`. */
function rungStep(intermediate: Trial['intermediate'], rung: number): number | undefined {
  if (intermediate[rung] !== undefined) return rung;
  // Skipped or not yet reached: the first step at or beyond the rung (usually none).
  const steps = sortedSteps(intermediate);
  if (!steps.length || steps[steps.length - 1] < rung - EPS) return undefined;
  let lo = 0;
  let hi = steps.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (steps[mid] >= rung - EPS) hi = mid;
    else lo = mid + 1;
  }
  return steps[lo];
}

/**
 * The reported steps of an intermediate record, ascending. Memoised per record object: records
 * are replaced, not edited, when a report is stored (storages return fresh ones, the simulator
 * spreads a new one), and rung lookups ask the same record again for every decision of its
 * bracket.
 */
const stepsOf = new WeakMap<object, number[]>();
function sortedSteps(intermediate: Trial['intermediate']): number[] {
  let steps = stepsOf.get(intermediate);
  if (!steps) {
    steps = Object.keys(intermediate)
      .map(Number)
      .sort((a, b) => a - b);
    stepsOf.set(intermediate, steps);
  }
  return steps;
}

/** Rungs of `ladder` that this report (at `step`) crosses: the previous report was below them. */
export function crossedRungs(trial: Pick<Trial, 'intermediate'>, step: number, ladder: readonly number[]): number[] {
  let prev = -Infinity;
  for (const key of Object.keys(trial.intermediate)) {
    const s = Number(key);
    if (s < step && s > prev) prev = s;
  }
  // A report at a step already seen earlier at a higher step (out of order) crosses nothing.
  return ladder.filter((r) => prev < r - EPS && step >= r - EPS);
}

/** The history with the reporting trial's current state in it (its newest report included). */
export function historyWith(ctx: Pick<SchedulerContext, 'history' | 'trial'>): Trial[] {
  const out: Trial[] = [];
  let seen = false;
  for (const t of ctx.history) {
    if (t.id === ctx.trial.id && t.studyId === ctx.trial.studyId) {
      out.push(ctx.trial);
      seen = true;
    } else out.push(t);
  }
  if (!seen) out.push(ctx.trial);
  return out;
}

/** Metric value as a loss (smaller is better). */
export function asLoss(objective: Objective, value: number): number {
  return objective.direction === 'maximize' ? -value : value;
}

export interface RungEntry {
  trial: Trial;
  /** Losses, one per judged objective. */
  losses: number[];
}

/**
 * Orders single-objective entries best first. Ties go to the lower trial number (the earlier
 * trial), so a rung's ranking is a total order that every worker computes alike.
 */
export function rankSingle(entries: RungEntry[]): RungEntry[] {
  return [...entries].sort((a, b) => a.losses[0] - b.losses[0] || a.trial.number - b.trial.number);
}

/**
 * ASHA's promotion test for one trial at one rung (Li et al. 2020, stopping variant, with
 * Optuna's bootstrap): with n trials at the rung, the best ⌊n/η⌋ go on; while ⌊n/η⌋ is 0 only the
 * best so far goes on.
 */
export function promotable(rankOfTrial: number, n: number, eta: number): boolean {
  const k = Math.floor(n / eta + EPS);
  return k === 0 ? rankOfTrial === 0 : rankOfTrial < k;
}

/** Stable order-independent key of a configuration (promotion mode matches trials by it). */
export function configKey(params: Record<string, unknown>): string {
  return JSON.stringify(Object.keys(params).sort().map((k) => [k, params[k]]));
}
