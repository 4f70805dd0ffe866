import type { Objective, SamplerContext, Trial } from '@segtune/core';
import type { Budget, Params } from '@segtune/space';
import { GaussianProcess, minimizeBox } from '@segtune/samplers';
import { PbtScheduler, lastStep, scaled, type PbtOptions } from './pbt';
import { asLoss, rungValue } from './rungs';

export type Pb2Options = Omit<PbtOptions, 'resampleProbability'>;

/**
 * Data points the model is fitted on: the most recent ones (by interval), so a fit stays a few
 * milliseconds at any study size, and the model follows the schedule the population is in now.
 */
export const PB2_MAX_POINTS = 64;
/** Random candidates for the acquisition, besides the observed configurations. */
const CANDIDATES = 256;
/** Best candidates refined by L-BFGS on the acquisition's analytic gradient. */
const REFINED = 3;

/**
 * Population-based bandits (Parker-Holder et al., 2020; Ray Tune's PB2): PBT's exploit (the
 * bottom quantile continues a top trial's checkpoint), with the explore step chosen by a model
 * instead of a random perturbation. Every interval a trial trained is a data point: its time
 * (the interval's end step, over the budget) and its mutable hyperparameters (encoded, so a log
 * param is modelled on its log scale) against the improvement of its objective over that
 * interval. A GP (Matérn 5/2 with a lengthscale per feature, the time's included, so that older
 * intervals count less where the data say they should) is fitted to the most recent
 * PB2_MAX_POINTS points; the trials still running enter at their current interval with the
 * model's mean (kriging believers), which lowers the bound around them, so that where the model
 * is unsure concurrent replacements spread out (where it is sure they may coincide); the replacement's
 * hyperparameters maximise the upper confidence bound at the interval it will train next,
 * μ + κσ with κ² = 0.2 + max(0, ln(0.4 n)) for n points (the schedule of PB2's reference
 * implementation). Categorical mutable params are perturbed as PBT does (a neighbouring
 * choice); before the model has as many points as features + 2 (the first interval: a fresh
 * trial's first interval has no starting value), the explore step is PBT's. Decisions are a
 * function of the stored trials and the seed, as PBT's are, so every worker reaches the same.
 * Differences from Ray's PB2: Ray's time-varying squared-exponential kernel is replaced by an ARD
 * Matérn over (time, params), and its data window by the point cap.
 */
export class Pb2Scheduler extends PbtScheduler {
  constructor(budget: Budget | undefined, objectives: readonly Objective[], options: Pb2Options = {}) {
    super(budget, objectives, { ...options, resampleProbability: 0 }, 'pb2');
  }

  protected override explore(ctx: SamplerContext, parent: Trial, step: number): { params: Params; attrs?: Record<string, unknown> } {
    const space = ctx.space;
    const names = this.mutableNames(space);
    const modelled = names.filter((n) => space.params[space.indexOf(n)].type !== 'categorical');
    const categorical = names.filter((n) => !modelled.includes(n));
    // The replacement keeps the parent's other params, so the mutable floats active in the
    // parent are the ones to choose (in a conditional space a weight decay, say, may be off);
    // the model learns from every trial that had them all.
    const parentPoint = space.encode(parent.params);
    const dims = modelled.map((n) => space.indexOf(n)).filter((i) => !Number.isNaN(parentPoint[i]));
    const data = dims.length ? this.dataPoints(ctx, dims) : { X: [], y: [] };
    if (data.y.length < dims.length + 3) return { params: this.perturb(space, parent.params, ctx.rng) };

    let gp: GaussianProcess;
    try {
      gp = GaussianProcess.fit(data.X, data.y, ctx.rng, { restarts: 2, maxIter: 80 });
    } catch {
      return { params: this.perturb(space, parent.params, ctx.rng) };
    }
    // Trials still training this interval, at the model's mean: the bound shrinks around them.
    const pending: Float64Array[] = [];
    for (const t of ctx.running) {
      const x = this.features(space, t.params, dims);
      if (!x) continue;
      const last = Math.max(lastStep(t), typeof t.attrs.resumed_from_step === 'number' ? t.attrs.resumed_from_step : 0);
      const next = Math.min(this.max, (Math.floor(last / this.interval + 1e-9) + 1) * this.interval);
      pending.push(row(next / this.max, x));
    }
    const model = pending.length ? gp.withPoints(pending, pending.map((p) => gp.predict(p).mu)) : gp;

    const time = Math.min(1, (step + this.interval) / this.max);
    const kappa = Math.sqrt(0.2 + Math.max(0, Math.log(0.4 * data.y.length)));
    const ucb = (x: ArrayLike<number>) => {
      const p = model.predict(row(time, x));
      return p.mu + kappa * p.sigma;
    };
    const m = dims.length;
    const starts: Float64Array[] = [];
    starts.push(Float64Array.from(dims, (i) => parentPoint[i]));
    for (const x of data.X) starts.push(x.subarray(1));
    for (let c = 0; c < CANDIDATES; c++) starts.push(Float64Array.from({ length: m }, () => ctx.rng.random()));
    const scored = starts.map((x) => ({ x, v: ucb(x) })).sort((a, b) => b.v - a.v);
    let best = scored[0];
    const lower = new Float64Array(m);
    const upper = new Float64Array(m).fill(1);
    for (const s of scored.slice(0, REFINED)) {
      const r = minimizeBox(
        (x) => {
          const p = model.predictWithGradient(row(time, x));
          const g = new Float64Array(m);
          for (let k = 0; k < m; k++) g[k] = -(p.dmu[k + 1] + kappa * p.dsigma[k + 1]);
          return { f: -(p.mu + kappa * p.sigma), g };
        },
        s.x,
        lower,
        upper,
        { maxIter: 40 },
      );
      if (Number.isFinite(r.f) && -r.f > best.v) best = { x: r.x, v: -r.f };
    }

    const point = [...parentPoint];
    dims.forEach((i, k) => (point[i] = best.x[k]));
    const params: Params = space.decode(point);
    for (const n of categorical) {
      const p = space.params[space.indexOf(n)];
      if (params[n] !== undefined) params[n] = scaled(p, params[n], ctx.rng);
    }
    return { params: space.decode(space.encode(params)), attrs: { pb2_points: data.y.length } };
  }

  /** The encoded values of `dims` in `params`, or undefined where one is inactive or out of the space. */
  private features(space: SamplerContext['space'], params: Params, dims: readonly number[]): Float64Array | undefined {
    let enc: number[];
    try {
      enc = space.encode(params);
    } catch {
      return undefined;
    }
    const x = Float64Array.from(dims, (i) => enc[i]);
    return x.some(Number.isNaN) ? undefined : x;
  }

  /**
   * One point per interval a trial trained, (time, params) against its improvement: the loss at
   * the interval's start minus the loss at its end. A replacement's first interval starts from its
   * parent's value at the step it resumed from.
   */
  private dataPoints(ctx: SamplerContext, dims: readonly number[]): { X: Float64Array[]; y: number[] } {
    const all = [...ctx.history, ...ctx.running].filter((t) => Object.keys(t.params).length > 0);
    const byNumber = new Map(all.map((t) => [t.number, t]));
    const points: { t: number; number: number; x: Float64Array; y: number }[] = [];
    const metric = this.objective.name;
    for (const trial of all) {
      const x = this.features(ctx.space, trial.params, dims);
      if (!x) continue;
      for (const key of Object.keys(trial.intermediate)) {
        const end = Number(key);
        if (!this.isInterval(end)) continue;
        const now = valueAt(trial, end, metric);
        let before = valueAt(trial, end - this.interval, metric);
        const from = trial.attrs.resumed_from_trial;
        if (before === undefined && typeof from === 'number' && near(trial.attrs.resumed_from_step, end - this.interval)) {
          const parent = byNumber.get(from);
          if (parent) before = valueAt(parent, end - this.interval, metric);
        }
        if (now === undefined || before === undefined) continue;
        points.push({ t: end / this.max, number: trial.number, x, y: asLoss(this.objective, before) - asLoss(this.objective, now) });
      }
    }
    points.sort((a, b) => b.t - a.t || a.number - b.number);
    const kept = points.slice(0, PB2_MAX_POINTS);
    return { X: kept.map((p) => row(p.t, p.x)), y: kept.map((p) => p.y) };
  }
}

function row(time: number, x: ArrayLike<number>): Float64Array {
  const r = new Float64Array(x.length + 1);
  r[0] = time;
  for (let k = 0; k < x.length; k++) r[k + 1] = x[k];
  return r;
}

function near(a: unknown, b: number): boolean {
  return typeof a === 'number' && Math.abs(a - b) < 1e-9;
}

/** The trial's reported value at `step` itself (a float step matched within rounding), if finite. */
function valueAt(trial: Trial, step: number, metric: string): number | undefined {
  const v = rungValue(trial, step, metric);
  return v && near(v.step, step) ? v.value : undefined;
}
