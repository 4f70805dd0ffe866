import type { Params, Space } from '@segtune/space';
import type { Constraint, Rng, Sampler, SamplerContext } from '@segtune/core';
import { observe, type Observation } from './observations';
import { catOf, dimInfo, snap, type DimInfo } from './parzen';
import { GaussianProcess } from './gaussian-process';
import { minimizeBox } from './lbfgs';
import { logExpectedImprovement, logNormCdf } from './normal';
import { sobolSequence } from './sobol';

export interface GpOptions {
  /** Completed trials needed before the GP is fitted; random (Sobol) points until then. */
  nStartupTrials: number;
  /** Global candidates scored before the local refinement. */
  nCandidates: number;
  /** Local refinements started from the best candidates. */
  nLocalSearch: number;
  /** Random restarts of the hyperparameter fit besides the default start. */
  fitRestarts: number;
  /** Fix the noise at its floor (the objective is deterministic). */
  deterministic: boolean;
}

export const GP_DEFAULTS: GpOptions = { nStartupTrials: 10, nCandidates: 1024, nLocalSearch: 6, fitRestarts: 2, deterministic: false };

/** Maps an encoded point to GP features: one column per numeric param (snapped to its grid cell), one-hot columns per categorical. */
class Features {
  readonly infos: DimInfo[];
  readonly width: number;
  private readonly offsets: number[];

  constructor(space: Space) {
    this.infos = space.params.map((p) => dimInfo(space, p));
    this.offsets = [];
    let w = 0;
    for (const info of this.infos) {
      this.offsets.push(w);
      w += info.kind === 'cat' ? info.k : 1;
    }
    this.width = w;
  }

  of(u: readonly number[]): Float64Array {
    const x = new Float64Array(this.width);
    this.infos.forEach((info, i) => {
      const o = this.offsets[i];
      if (info.kind === 'cat') {
        if (!Number.isNaN(u[i])) x[o + catOf(info.k, u[i])] = 1;
      } else x[o] = Number.isNaN(u[i]) ? 0.5 : snap(info, u[i]);
    });
    return x;
  }
}

/**
 * Gaussian-process Bayesian optimisation (Optuna's GPSampler as the reference design): a
 * Matérn-5/2 ARD GP on the encoded space with standardised outputs and hyperparameters by
 * maximum a posteriori (multi-start L-BFGS); log expected improvement, optimised by scoring many
 * random candidates and refining the best by L-BFGS on the continuous coordinates and
 * coordinate sweeps over the discrete ones (ints are rounded inside the acquisition, since the
 * features snap them to their grid cells). Running trials enter as kriging believers. Each
 * constraint gets its own GP and the acquisition adds log P(feasible). Several objectives are
 * scalarised per trial with random Chebyshev weights (ParEGO).
 */
export class GpSampler implements Sampler {
  readonly name = 'gp';
  readonly needsHistory = true;
  readonly options: GpOptions;
  onWarning?: (message: string) => void;
  private warned = false;
  private warnedFit = false;

  constructor(options: Partial<GpOptions> = {}) {
    this.options = { ...GP_DEFAULTS, ...options };
  }

  suggest(ctx: SamplerContext): Params {
    const o = this.options;
    const obs = observe(ctx, true);
    const done = obs.filter((x) => x.losses !== undefined);
    const needed = Math.max(o.nStartupTrials, 2);
    if (done.length < needed) {
      if (!this.warned) {
        this.warned = true;
        this.onWarning?.(`sampler "gp": ${done.length} completed trial(s), fewer than the ${needed} it needs to fit (n_startup_trials); sampling quasi-randomly until then`);
      }
      return ctx.space.decode(sobolSequence(ctx.space.dimension, ctx.seed).point(ctx.trialNumber, ctx.rng));
    }
    try {
      return this.suggestWithModel(ctx, obs, done);
    } catch (e) {
      // A degenerate history (e.g. a covariance no jitter makes positive definite) must not fail
      // the study: fall back to the quasi-random design and say so once.
      if (!this.warnedFit) {
        this.warnedFit = true;
        this.onWarning?.(`sampler "gp": could not fit the model (${(e as Error).message}); sampling quasi-randomly for this trial`);
      }
      return ctx.space.decode(sobolSequence(ctx.space.dimension, ctx.seed).point(ctx.trialNumber, ctx.rng));
    }
  }

  private suggestWithModel(ctx: SamplerContext, obs: Observation[], done: Observation[]): Params {
    const o = this.options;
    const features = new Features(ctx.space);
    const rng = ctx.rng;
    const fitOpts = { restarts: done.length > 300 ? 0 : o.fitRestarts, maxIter: done.length > 300 ? 25 : 60, deterministic: o.deterministic };
    const X = done.map((x) => features.of(x.point));
    const targets = scalarise(ctx, done, rng);
    let gp = GaussianProcess.fit(X, targets, rng, fitOpts);
    const feasibleY = done.filter((x) => x.kind === 'complete').map((x) => done.indexOf(x));
    let best = feasibleY.length ? Math.min(...feasibleY.map((i) => gp.y[i])) : undefined;
    const running = obs.filter((x) => x.kind === 'running');
    if (running.length) {
      // Kriging believer: each running trial is taken to return the posterior mean, as a
      // noiseless observation that also counts towards the incumbent.
      const Xr = running.map((x) => features.of(x.point));
      const yr = Xr.map((x) => gp.predict(x).mu);
      gp = gp.withPoints(Xr, yr);
      if (best !== undefined) best = Math.min(best, ...yr);
    }
    const constraintGps = ctx.constraints.map((c) => fitConstraint(c, done, obs, features, rng, fitOpts)).filter((g): g is Predictor => g !== undefined);

    const acq = (u: readonly number[]): number => {
      const x = features.of(u);
      let a = 0;
      if (best !== undefined) {
        const p = gp.predict(x);
        a += logExpectedImprovement(p.mu, p.sigma, best);
      }
      for (const c of constraintGps) {
        const p = c.predict(x);
        a += logNormCdf(-p.mu / p.sigma);
      }
      return a;
    };
    return ctx.space.decode(optimiseAcquisition(acq, features.infos, done, gp, rng, o));
  }
}

/** Losses of the trials as one number each: the loss itself, or a ParEGO scalarisation. */
function scalarise(ctx: SamplerContext, done: Observation[], rng: Rng): number[] {
  const m = ctx.objectives.length;
  if (m === 1) return done.map((x) => x.losses![0]);
  const w = Array.from({ length: m }, () => -Math.log(1 - rng.random()));
  const sw = w.reduce((a, b) => a + b, 0);
  const lo = Array.from({ length: m }, (_, k) => Math.min(...done.map((x) => x.losses![k])));
  const hi = Array.from({ length: m }, (_, k) => Math.max(...done.map((x) => x.losses![k])));
  return done.map((x) => {
    let max = -Infinity;
    let sum = 0;
    for (let k = 0; k < m; k++) {
      const v = ((w[k] / sw) * (x.losses![k] - lo[k])) / (hi[k] - lo[k] || 1);
      max = Math.max(max, v);
      sum += v;
    }
    return max + 0.05 * sum;
  });
}

/** Margin of a constraint (≤ 0 feasible); out-of-memory trials get a margin beyond the worst seen. */
interface Predictor {
  predict(x: Float64Array): { mu: number; sigma: number };
}

function fitConstraint(c: Constraint, done: Observation[], obs: Observation[], features: Features, rng: Rng, fitOpts: { restarts: number; maxIter: number }): Predictor | undefined {
  const rows: Float64Array[] = [];
  const ys: number[] = [];
  for (const x of done) {
    const v = x.trial.metrics?.[c.metric];
    if (v === undefined || !Number.isFinite(v)) continue;
    rows.push(features.of(x.point));
    ys.push(c.op === '<=' || c.op === '<' ? v - c.bound : c.bound - v);
  }
  const ooms = obs.filter((x) => x.kind === 'infeasible' && x.violation === Infinity);
  if (ooms.length) {
    const worst = ys.length ? Math.max(...ys.map(Math.abs)) : 1;
    for (const x of ooms) {
      rows.push(features.of(x.point));
      ys.push(2 * worst);
    }
  }
  if (rows.length < 2) return undefined;
  const gp = GaussianProcess.fit(rows, ys, rng, fitOpts);
  // Predictions in the margin's own units: undo the standardisation.
  return {
    predict: (x: Float64Array) => {
      const p = gp.predict(x);
      return { mu: p.mu * gp.std + gp.mean, sigma: p.sigma * gp.std };
    },
  };
}

function optimiseAcquisition(acq: (u: readonly number[]) => number, infos: DimInfo[], done: Observation[], gp: GaussianProcess, rng: Rng, o: GpOptions): number[] {
  const d = infos.length;
  const snapAll = (u: readonly number[]) => u.map((v, i) => snap(infos[i], Number.isNaN(v) ? 0.5 : v));
  const cands: number[][] = [];
  for (let i = 0; i < o.nCandidates; i++) cands.push(snapAll(Array.from({ length: d }, () => rng.random())));
  // Around the best observations, where EI's optimum usually sits once the model is confident.
  const byY = done.map((_, i) => i).sort((a, b) => gp.y[a] - gp.y[b]).slice(0, 5);
  for (const i of byY) {
    cands.push(snapAll(done[i].point));
    for (const scale of [0.003, 0.02, 0.1]) for (let k = 0; k < 20; k++) cands.push(snapAll(done[i].point.map((v) => (Number.isNaN(v) ? 0.5 : v) + rng.normal(0, scale))));
  }
  const scored = cands.map((u) => ({ u, a: acq(u) })).sort((p, q) => q.a - p.a);
  const starts: { u: number[]; a: number }[] = [];
  const seen = new Set<string>();
  for (const s of scored) {
    const key = s.u.map((v) => v.toFixed(4)).join(',');
    if (seen.has(key)) continue;
    seen.add(key);
    starts.push(s);
    if (starts.length >= o.nLocalSearch) break;
  }
  let best = scored[0];
  const contDims = infos.map((info, i) => (info.kind === 'cont' ? i : -1)).filter((i) => i >= 0);
  const discDims = infos.map((info, i) => (info.kind !== 'cont' ? i : -1)).filter((i) => i >= 0);
  for (const start of starts) {
    let u = [...start.u];
    let a = start.a;
    for (let round = 0; round < 3; round++) {
      const before = a;
      if (contDims.length) {
        const x0 = Float64Array.from(contDims.map((i) => u[i]));
        const at = (x: Float64Array) => {
          const v = [...u];
          contDims.forEach((i, k) => (v[i] = x[k]));
          return v;
        };
        const h = 1e-6;
        const r = minimizeBox(
          (x) => {
            const f = -acq(at(x));
            const g = new Float64Array(x.length);
            for (let k = 0; k < x.length; k++) {
              const xp = Float64Array.from(x);
              const xm = Float64Array.from(x);
              xp[k] = Math.min(1, x[k] + h);
              xm[k] = Math.max(0, x[k] - h);
              g[k] = (-acq(at(xp)) + acq(at(xm))) / (xp[k] - xm[k]);
            }
            return { f: Number.isFinite(f) ? f : 1e300, g: g.map((v) => (Number.isFinite(v) ? v : 0)) };
          },
          x0,
          new Float64Array(x0.length),
          new Float64Array(x0.length).fill(1),
          { maxIter: 40, gtol: 1e-9, ftol: 1e-12 },
        );
        if (-r.f > a) {
          u = at(r.x);
          a = -r.f;
        }
      }
      for (const i of discDims) {
        const info = infos[i];
        const values: number[] = [];
        if (info.kind === 'cat') for (let c = 0; c < info.k; c++) values.push((c + 0.5) / info.k);
        else if (info.kind === 'disc') {
          const cur = info.centres.indexOf(snap(info, u[i]));
          for (let c = 0; c < info.n; c++) if (info.n <= 32 || Math.abs(c - cur) <= 4) values.push(info.centres[c]);
        }
        for (const v of values) {
          const w = [...u];
          w[i] = v;
          const aw = acq(w);
          if (aw > a) {
            a = aw;
            u = w;
          }
        }
      }
      if (a - before < 1e-9) break;
    }
    if (a > best.a) best = { u, a };
  }
  return best.u;
}
