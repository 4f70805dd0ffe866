import type { Objective } from '@segtune/core';
import type { Budget } from '@segtune/space';
import { AshaScheduler, type AshaMode } from './asha';
import { hyperbandWeights, maxBrackets, resolveRungs, type RungSettings } from './brackets';

export interface HyperbandOptions extends RungSettings {
  /** Number of brackets, the most aggressive first; default every bracket the budget allows. */
  brackets?: number;
  mode?: AshaMode;
}

/**
 * Hyperband (Li et al. 2018) run asynchronously, as several ASHA brackets: bracket i starts
 * stopping at min_resource·η^i; trial number n goes to a bracket by a fixed weighted interleaving,
 * so every worker assigns the same trial to the same bracket. The last bracket never stops a
 * trial (its first rung would be the full budget).
 */
export class HyperbandScheduler extends AshaScheduler {
  constructor(budget: Budget | undefined, objectives: readonly Objective[], options: HyperbandOptions = {}, name = 'hyperband') {
    const r = resolveRungs(name, budget, options);
    const brackets = options.brackets ?? maxBrackets(r);
    const weights = Number.isInteger(brackets) && brackets >= 1 && brackets <= maxBrackets(r) ? hyperbandWeights(brackets, r.eta) : undefined;
    super(budget, objectives, { ...options, brackets, bracketWeights: weights }, name);
  }
}
