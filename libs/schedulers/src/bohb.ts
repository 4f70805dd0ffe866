import { UserError, type Objective, type Sampler, type SamplerContext, type Trial } from '@segtune/core';
import type { Budget, Params } from '@segtune/space';
import { bohbCandidate, spaceDims } from './bohb-kde';
import { HyperbandScheduler, type HyperbandOptions } from './hyperband';
import { asLoss, rungValue } from './rungs';

export interface BohbModelOptions {
  /** Share of observations (percent) that form the good density l(x). Default 15. */
  topNPercent?: number;
  /** Share of suggestions drawn uniformly at random, as BOHB does to keep its guarantees. Default 1/3. */
  randomFraction?: number;
  /** Candidates drawn from l(x) per suggestion. Default 64. */
  numSamples?: number;
  /** Bandwidth widening when sampling from l(x). Default 3. */
  bandwidthFactor?: number;
  /** Smallest kernel bandwidth. Default 1e-3. */
  minBandwidth?: number;
  /** Observations a budget needs beyond 2 before a model is fitted on it; default dimension + 1. */
  minPoints?: number;
}

export interface BohbOptions extends HyperbandOptions, BohbModelOptions {}

/**
 * BOHB's sampler: configurations from a KDE model fitted on the largest budget (rung) that has
 * enough observations, or uniformly at random when none has yet. Reads intermediate values of
 * finished and running trials, so every worker fits the same model from the same storage.
 */
export class BohbSampler implements Sampler {
  readonly name = 'bohb';
  readonly needsHistory = true;
  /** Budgets a model can be fitted on, largest first. */
  readonly budgets: number[];
  private readonly s: Required<BohbModelOptions>;

  constructor(
    private readonly objective: Objective,
    budgets: readonly number[],
    private readonly max: number,
    options: BohbModelOptions = {},
  ) {
    this.budgets = [...new Set([...budgets, max])].sort((a, b) => b - a);
    const top = options.topNPercent ?? 15;
    if (!(top > 0 && top < 100)) throw new UserError(`scheduler "bohb": option "top_n_percent" must be a number in (0, 100), got ${top}`);
    const rf = options.randomFraction ?? 1 / 3;
    if (!(rf >= 0 && rf <= 1)) throw new UserError(`scheduler "bohb": option "random_fraction" must be a number in [0, 1], got ${rf}`);
    const ns = options.numSamples ?? 64;
    if (!(Number.isInteger(ns) && ns >= 1)) throw new UserError(`scheduler "bohb": option "num_samples" must be an integer >= 1, got ${ns}`);
    const bf = options.bandwidthFactor ?? 3;
    if (!(bf > 0)) throw new UserError(`scheduler "bohb": option "bandwidth_factor" must be a number > 0, got ${bf}`);
    const mb = options.minBandwidth ?? 1e-3;
    if (!(mb > 0)) throw new UserError(`scheduler "bohb": option "min_bandwidth" must be a number > 0, got ${mb}`);
    const mp = options.minPoints ?? 0;
    if (!(Number.isInteger(mp) && mp >= 0)) throw new UserError(`scheduler "bohb": option "min_points" must be an integer >= 0, got ${mp}`);
    this.s = { topNPercent: top, randomFraction: rf, numSamples: ns, bandwidthFactor: bf, minBandwidth: mb, minPoints: mp };
  }

  suggest(ctx: SamplerContext): Params {
    const { space, rng } = ctx;
    const uniform = () => space.decode(space.params.map(() => rng.random()));
    if (rng.random() < this.s.randomFraction) return uniform();
    const minPoints = this.s.minPoints || space.dimension + 1;
    const trials = [...ctx.history, ...ctx.running].filter((t) => Object.keys(t.params).length > 0);
    for (const b of this.budgets) {
      const points: number[][] = [];
      const losses: number[] = [];
      for (const t of trials) {
        const loss = this.lossAt(t, b);
        if (loss === undefined) continue;
        points.push(space.encode(t.params));
        losses.push(loss);
      }
      const n = points.length;
      if (n < minPoints + 2) continue;
      const nGood = Math.max(minPoints, Math.floor((this.s.topNPercent * n) / 100));
      const nBad = Math.max(minPoints, Math.floor(((100 - this.s.topNPercent) * n) / 100));
      const x = bohbCandidate(points, losses, spaceDims(space), nGood, nBad, rng, this.s);
      return space.decode(x);
    }
    return uniform();
  }

  private lossAt(t: Trial, budget: number): number | undefined {
    if (budget >= this.max && t.state === 'complete' && t.values && Number.isFinite(t.values[0])) return asLoss(this.objective, t.values[0]);
    const v = rungValue(t, budget, this.objective.name);
    return v ? asLoss(this.objective, v.value) : undefined;
  }
}

export interface Bohb {
  scheduler: HyperbandScheduler;
  sampler: Sampler;
}

/**
 * BOHB as a pair: Hyperband decides continue/stop, the sampler proposes configurations from
 * the KDE model. Both must be used together (the CLI picks the sampler when the scheduler kind
 * is `bohb`).
 */
export function createBohb(budget: Budget | undefined, objectives: readonly Objective[], options: BohbOptions = {}): Bohb {
  const scheduler = new HyperbandScheduler(budget, objectives, options, 'bohb');
  const budgets = scheduler.ladders.flat();
  const sampler = new BohbSampler(objectives[0], budgets, scheduler.rungs.budget.max, options);
  return { scheduler, sampler };
}
