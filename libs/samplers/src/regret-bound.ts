import { Rng, type StopRule, type StopRuleContext, type Trial } from '@segtune/core';
import { GaussianProcess } from './gaussian-process';
import { Features } from './gp';
import { minimizeBox } from './lbfgs';
import { encodeTrial } from './observations';

export interface RegretBound {
  /** Upper bound on the simple regret of the best trial, in the objective's units. */
  regret: number;
  /** The GP's noise standard deviation, in the objective's units: the evaluation noise estimate. */
  noise: number;
  /** Trials the GP was fitted on (the best half, at least `minTrials`). */
  fitted: number;
}

/** UCB/LCB width of Srinivas et al. (2010), scaled down by 5 as in their experiments (and Optuna's terminator). */
export function regretBeta(nParams: number, nTrials: number, delta = 0.1): number {
  return (2 * Math.log((Math.max(1, nParams) * nTrials * nTrials * Math.PI * Math.PI) / 6 / delta)) / 5;
}

/**
 * The regret bound of Makarova et al. (2022), "Automatic Termination for Hyperparameter
 * Optimization", as Optuna's RegretBoundEvaluator computes it: a GP fitted on the best trials
 * (by loss; `topRatio` of them, at least `minTrials`), then min over those trials of the upper
 * confidence bound minus min over the space of the lower one. The space's minimum is searched by
 * random points and L-BFGS over the GP features, relaxed to the box for categoricals (a lower
 * LCB, so the bound only errs on the side of going on). Undefined below `minTrials`.
 */
export function regretBound(
  ctx: Pick<StopRuleContext, 'space' | 'trials'>,
  losses: readonly number[],
  trials: readonly Trial[],
  o: { minTrials?: number; topRatio?: number; seed?: number } = {},
): RegretBound | undefined {
  const minTrials = o.minTrials ?? 20;
  const n = losses.length;
  if (n < minTrials) return undefined;
  const k = Math.min(n, Math.max(minTrials, Math.floor(n * (o.topRatio ?? 0.5))));
  const order = losses.map((_, i) => i).sort((a, b) => losses[a] - losses[b]).slice(0, k);
  const features = new Features(ctx.space);
  const X: Float64Array[] = [];
  const y: number[] = [];
  for (const i of order) {
    const u = encodeTrial(ctx.space, trials[i]);
    if (!u) continue;
    X.push(features.of(u));
    y.push(losses[i]);
  }
  if (X.length < 2) return undefined;
  const rng = Rng.derive(o.seed ?? 0, 'regret-bound', n);
  const gp = GaussianProcess.fit(X, y, rng, { restarts: 2, maxIter: 60 });
  const rootBeta = Math.sqrt(regretBeta(ctx.space.dimension, X.length));
  let minUcb = Infinity;
  for (const x of X) {
    const p = gp.predict(x);
    minUcb = Math.min(minUcb, p.mu + rootBeta * p.sigma);
  }
  const lcb = (x: ArrayLike<number>) => {
    const p = gp.predict(x);
    return p.mu - rootBeta * p.sigma;
  };
  const cands: { x: Float64Array; v: number }[] = [];
  for (let i = 0; i < 1024; i++) {
    const x = features.of(ctx.space.params.map(() => rng.random()));
    cands.push({ x, v: lcb(x) });
  }
  for (const x of X) cands.push({ x, v: lcb(x) });
  cands.sort((a, b) => a.v - b.v);
  let minLcb = cands[0].v;
  const F = features.width;
  for (const c of cands.slice(0, 4)) {
    const r = minimizeBox(
      (x) => {
        const p = gp.predictWithGradient(x);
        const g = Float64Array.from(p.dmu, (d, f) => d - rootBeta * p.dsigma[f]);
        return { f: p.mu - rootBeta * p.sigma, g };
      },
      Float64Array.from(c.x),
      new Float64Array(F),
      new Float64Array(F).fill(1),
      { maxIter: 40, gtol: 1e-4 },
    );
    if (Number.isFinite(r.f)) minLcb = Math.min(minLcb, r.f);
  }
  return { regret: Math.max(0, minUcb - minLcb) * gp.std, noise: Math.sqrt(gp.params.noise) * gp.std, fitted: X.length };
}

/**
 * `regret:auto` / `regret:THRESHOLD`: stop once the regret bound falls below the evaluation noise
 * the GP estimates (auto; a difference smaller than the noise cannot be told from it) or below
 * a fixed threshold in the objective's units. Single objective. Past 200 trials the bound is
 * computed every ⌈n/100⌉ complete trials, since each costs a GP fit.
 */
export class RegretBoundRule implements StopRule {
  readonly name: string;
  constructor(
    readonly threshold: 'auto' | number,
    readonly minTrials = 20,
  ) {
    this.name = `regret:${threshold}`;
  }

  check(ctx: StopRuleContext): string | undefined {
    const sorted = [...ctx.trials].sort((a, b) => a.number - b.number);
    const done = sorted.filter((t) => t.state === 'complete' && t.values?.length === 1 && Number.isFinite(t.values[0]));
    const n = done.length;
    if (n < this.minTrials || (n > 200 && n % Math.ceil(n / 100) !== 0)) return undefined;
    const sign = ctx.objectives[0].direction === 'maximize' ? -1 : 1;
    const b = regretBound(ctx, done.map((t) => sign * t.values![0]), done, { minTrials: this.minTrials });
    if (!b) return undefined;
    const limit = this.threshold === 'auto' ? b.noise : this.threshold;
    if (!(b.regret < limit)) return undefined;
    return `regret bound ${b.regret.toPrecision(3)} below ${this.threshold === 'auto' ? 'the noise estimate' : 'the threshold'} ${limit.toPrecision(3)} (GP on the best ${b.fitted} of ${n} complete trials)`;
  }
}
