import { UserError } from '@segtune/core';
import { budgetRule, type Budget } from '@segtune/space';
import { rungLadder } from './rungs';

/** Rung settings shared by successive halving, ASHA, Hyperband, BOHB and MO-ASHA. */
export interface RungSettings {
  /** η: the best 1/η of a rung go on. Above 1. Default 3. */
  reductionFactor?: number;
  /** The resource of the first rung. Default the budget's `min`. */
  minResource?: number;
  /** No trial is stopped before this resource. Default `minResource`. */
  gracePeriod?: number;
}

export interface ResolvedRungs {
  eta: number;
  minResource: number;
  grace: number;
  budget: Budget;
}

/** Validates rung settings against the budget; every problem is one UserError line. */
export function resolveRungs(kind: string, budget: Budget | undefined, s: RungSettings): ResolvedRungs {
  if (!budget) throw new UserError(`scheduler "${kind}" needs a budget block in the space file (budget: { name: epochs, min: 1, max: 27 })`);
  const eta = s.reductionFactor ?? 3;
  if (!Number.isFinite(eta) || eta <= 1) throw new UserError(`scheduler "${kind}": option "reduction_factor" must be a number > 1, got ${eta}`);
  const minResource = s.minResource ?? budget.min;
  if (!Number.isFinite(minResource) || minResource <= 0) throw new UserError(`scheduler "${kind}": option "min_resource" must be a number > 0, got ${minResource}`);
  if (minResource > budget.max) {
    throw new UserError(`scheduler "${kind}": option "min_resource" ${budgetRule(budget)}, got ${minResource}`);
  }
  const grace = s.gracePeriod ?? minResource;
  if (!Number.isFinite(grace) || grace < 0) throw new UserError(`scheduler "${kind}": option "grace_period" must be a number >= 0, got ${grace}`);
  if (grace > budget.max) {
    throw new UserError(`scheduler "${kind}": option "grace_period" ${budgetRule(budget)}, got ${grace}`);
  }
  return { eta, minResource, grace, budget };
}

/** How many Hyperband brackets the budget allows: ⌊log_η(max / min_resource)⌋ + 1. */
export function maxBrackets(r: ResolvedRungs): number {
  return Math.floor(Math.log(r.budget.max / r.minResource) / Math.log(r.eta) + 1e-9) + 1;
}

/** Rung ladders, one per bracket (early-stopping rate = bracket index). */
export function ladders(r: ResolvedRungs, brackets: number): number[][] {
  return Array.from({ length: brackets }, (_, rate) => rungLadder(r.minResource, r.eta, rate, r.budget.max, r.grace));
}

/**
 * A deterministic interleaving of brackets in proportion to their weights (smooth weighted round
 * robin), so trial number n lands in `sequence[n mod length]`: the same on every worker, and
 * brackets alternate instead of coming in blocks.
 */
export function bracketSequence(weights: readonly number[]): number[] {
  const total = weights.reduce((a, b) => a + b, 0);
  const current = weights.map(() => 0);
  const out: number[] = [];
  for (let i = 0; i < total; i++) {
    let pick = 0;
    for (let b = 0; b < weights.length; b++) {
      current[b] += weights[b];
      if (current[b] > current[pick]) pick = b;
    }
    current[pick] -= total;
    out.push(pick);
  }
  return out;
}

/**
 * Hyperband's trial share per bracket (as Optuna's HyperbandPruner allocates it): bracket with
 * early-stopping rate i gets ⌈B·η^s/(s+1)⌉ with s = B-1-i, B the number of brackets.
 */
export function hyperbandWeights(brackets: number, eta: number): number[] {
  return Array.from({ length: brackets }, (_, i) => {
    const s = brackets - 1 - i;
    return Math.ceil((brackets * eta ** s) / (s + 1) - 1e-9);
  });
}
