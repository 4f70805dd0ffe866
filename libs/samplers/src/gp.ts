import type { Params, Space } from '@segtune/space';
import type { Constraint, Rng, Sampler, SamplerContext } from '@segtune/core';
import { observe, observePrior, type Observation } from './observations';
import { catOf, dimInfo, snap, type DimInfo } from './parzen';
import { GaussianProcess, type GpFitOptions } from './gaussian-process';
import { minimizeBox } from './lbfgs';
import { logExpectedImprovement, logH, logNormCdf, logNormPdf } from './normal';
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
  /**
   * `yeo-johnson`: the standardised losses pass through a Yeo-Johnson power transform, its λ in
   * [0, 1] fitted by maximum likelihood, before the GP sees them (output warping, as in HEBO), so
   * a few huge losses do not flatten the model where the small ones are; `none`: standardised
   * only. On the bbob suite (2-D and 5-D, 3 instances × 3 seeds) it cut the median regret to
   * 0.69× of `none`'s (geometric mean); λ free in [-3, 3] gave 0.64× there but 9× worse on the
   * mixed categorical function, so λ stays between log-like and identity (bench/results/gp-warping.md).
   */
  outputWarping: 'yeo-johnson' | 'none';
}

export const GP_DEFAULTS: GpOptions = { nStartupTrials: 10, nCandidates: 1024, nLocalSearch: 6, fitRestarts: 2, deterministic: false, outputWarping: 'yeo-johnson' };

/** Maps an encoded point to GP features: one column per numeric param (snapped to its grid cell), one-hot columns per categorical. */
export class Features {
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

  /** The feature column of a numeric param. */
  column(i: number): number {
    return this.offsets[i];
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
  readonly usesPrior = true;
  readonly options: GpOptions;
  onWarning?: (message: string) => void;
  private warned = false;
  private warnedFit = false;
  /** Fitted hyperparameters by history fingerprint (see fitCached). */
  private readonly fits = new Map<string, Float64Array>();
  /** The last GPs, for extension by new observations (see fitCached). */
  private readonly gps = new Map<string, GaussianProcess>();

  constructor(options: Partial<GpOptions> = {}) {
    const given = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as Partial<GpOptions>;
    this.options = { ...GP_DEFAULTS, ...given };
  }

  suggest(ctx: SamplerContext): Params {
    const o = this.options;
    const obs = observe(ctx, true);
    const done = obs.filter((x) => x.losses !== undefined);
    const needed = Math.max(o.nStartupTrials, 2);
    const prior = observePrior(ctx).filter((x) => x.losses !== undefined);
    if (prior.length >= 2 && prior.length + done.length >= needed) {
      try {
        // Too few own trials for a residual: the prior's points stand in for them this once.
        if (done.length < 2) return this.suggestWithModel(ctx, [...prior, ...obs], [...prior, ...done]);
        return this.suggestWithModel(ctx, obs, done, prior);
      } catch (e) {
        if (!this.warnedFit) {
          this.warnedFit = true;
          this.onWarning?.(`sampler "gp": could not fit the model (${(e as Error).message}); sampling quasi-randomly for this trial`);
        }
        return ctx.space.decode(sobolSequence(ctx.space.dimension, ctx.seed).point(ctx.trialNumber, ctx.rng));
      }
    }
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

  /**
   * With `prior` (a warm start), the prior's GP is the mean function and this study's trials fit
   * a GP of the residual (Golovin et al.'s "stacking" in Google Vizier): where the study has
   * trials its own values decide, elsewhere the earlier study's surface guides the search.
   */
  private suggestWithModel(ctx: SamplerContext, obs: Observation[], done: Observation[], prior: Observation[] = []): Params {
    const o = this.options;
    const features = new Features(ctx.space);
    const rng = ctx.rng;
    const prints = historyPrints(done);
    const fitOpts = { restarts: done.length > 300 ? 0 : o.fitRestarts, maxIter: done.length > 300 ? 25 : 60, deterministic: o.deterministic };
    const X = done.map((x) => features.of(x.point));
    // One scalarisation for prior and own trials alike (the same Chebyshev weights).
    const allTargets = scalarise(ctx, [...prior, ...done], rng);
    const targets = allTargets.slice(prior.length);
    let model: Surrogate;
    let fitted: GaussianProcess;
    let units: number[];
    if (prior.length) {
      const priorGp = this.fitCached(`p|${features.width}`, historyPrints(prior), prior.map((x) => features.of(x.point)), allTargets.slice(0, prior.length), rng, fitOpts, false);
      const m = X.map((x) => priorGp.predict(x).mu * priorGp.std + priorGp.mean);
      // Residuals standardised on the prior's scale at least: nearly equal residuals (the first
      // trials, all at the prior's optimum) must not make a model sure of the prior everywhere.
      fitted = this.fitCached(`r|${features.width}`, prints, X, targets.map((t, i) => t - m[i]), rng, { ...fitOpts, minStd: priorGp.std });
      model = new PriorMeanSurrogate(priorGp, fitted);
      units = targets.map((t) => (t - fitted.mean) / fitted.std);
    } else {
      fitted = this.fitCached(`f|${features.width}`, prints, X, warpTargets(targets, o.outputWarping), rng, fitOpts);
      model = fitted;
      units = fitted.y;
    }
    let best: number | undefined;
    done.forEach((x, i) => {
      if (x.kind === 'complete' && (best === undefined || units[i] < best)) best = units[i];
    });
    const running = obs.filter((x) => x.kind === 'running');
    if (running.length) {
      // Kriging believer: each running trial is taken to return the posterior mean, as a
      // noiseless observation that also counts towards the incumbent.
      const Xr = running.map((x) => features.of(x.point));
      const yr = Xr.map((x) => model.predict(x).mu);
      fitted = fitted.withPoints(Xr, Xr.map((x) => fitted.predict(x).mu));
      model = model instanceof PriorMeanSurrogate ? new PriorMeanSurrogate(model.prior, fitted) : fitted;
      if (best !== undefined) best = Math.min(best, ...yr);
    }
    const constraintGps = ctx.constraints
      .map((c) => fitConstraint(c, done, obs, features, (rows, ys) => this.fitCached(`c:${c.metric}|${features.width}`, prints, rows, ys, rng, fitOpts, false)))
      .filter((g): g is GaussianProcess => g !== undefined);
    const acq = new Acquisition(model, best, constraintGps);
    // Around the prior's best points too: where the earlier study found its optimum.
    const priorBest = prior
      .map((x, i) => ({ x, t: allTargets[i] }))
      .sort((a, b) => a.t - b.t)
      .slice(0, 3)
      .map((e) => e.x.point);
    return ctx.space.decode(optimiseAcquisition(acq, features, done, units, rng, o, priorBest));
  }

  /**
   * The GP for this history, reusing earlier work where the history extends one this sampler
   * has seen (the previous suggestion's, in a running study). Entries are keyed by a fingerprint
   * of the trials and their losses, so nothing is ever taken from a different history:
   * - hyperparameters are refitted by L-BFGS warm-started from the previous fit (Optuna's
   *   GPSampler does the same), and with no earlier fit (a new process, another worker) from
   *   the default and random starts, which reach the same optimum up to the fit's tolerance;
   * - past REFIT_EVERY_FROM observations they are refitted once every ⌈n/50⌉ observations (a
   *   schedule fixed by n alone) by a few L-BFGS steps from the last fit, and in between the
   *   previous GP's Cholesky factor is extended by the new rows in O(n²) rather than refactored
   *   in O(n³): each O(n³) evaluation costs about as much as Optuna's whole suggestion there.
   */
  private fitCached(tag: string, prints: string[], X: Float64Array[], targets: number[], rng: Rng, o: GpFitOptions, extendable = true): GaussianProcess {
    const n = prints.length;
    let prev: { gp: GaussianProcess; m: number } | undefined;
    if (extendable) {
      for (let k = n - 1; k >= Math.max(0, n - 1 - WARM_LOOKBACK) && !prev; k--) {
        const gp = this.gps.get(`${tag}|${prints[k]}`);
        if (gp) prev = { gp, m: k + 1 };
      }
    }
    let gp: GaussianProcess;
    if (prev && !needsRefit(prev.m, n)) gp = prev.gp.extend(X, targets);
    else {
      let warm: Float64Array | undefined;
      for (let k = n - 1; k >= Math.max(0, n - 1 - WARM_LOOKBACK) && !warm; k--) warm = this.fits.get(`${tag}|${prints[k]}`);
      const maxIter = n > REFIT_EVERY_FROM ? WARM_MAX_ITER_LARGE : WARM_MAX_ITER;
      gp = GaussianProcess.fit(X, targets, rng, warm ? { ...o, maxIter, warmStart: warm } : o);
    }
    const own = `${tag}|${prints[n - 1]}`;
    this.fits.set(own, gp.theta);
    if (this.fits.size > FIT_CACHE_SIZE) this.fits.delete(this.fits.keys().next().value!);
    if (extendable) {
      this.gps.set(own, gp);
      if (this.gps.size > GP_CACHE_SIZE) this.gps.delete(this.gps.keys().next().value!);
    }
    return gp;
  }
}

/** How many trials back a warm start may come from, the iterations a warm fit gets, and the caches' sizes. */
const WARM_LOOKBACK = 16;
const WARM_MAX_ITER = 30;
/** Past REFIT_EVERY_FROM each refit takes a few steps from the last one: θ follows its optimum across refits. */
const WARM_MAX_ITER_LARGE = 4;
const FIT_CACHE_SIZE = 64;
const GP_CACHE_SIZE = 2;
/** Up to this many observations the hyperparameters are refitted on every new one. */
const REFIT_EVERY_FROM = 300;

/** Whether going from m to n observations refits the hyperparameters (see fitCached). */
function needsRefit(m: number, n: number): boolean {
  if (m === n) return false;
  if (n <= REFIT_EVERY_FROM) return true;
  const k = Math.ceil(n / 50);
  return Math.floor(n / k) !== Math.floor(m / k);
}

/** Fingerprints of every prefix of the observations (trial number and losses), for the fit cache. */
function historyPrints(done: Observation[]): string[] {
  const buf = new Float64Array(1);
  const bits = new Uint32Array(buf.buffer);
  let a = 0x811c9dc5;
  let b = 0x9747b28c;
  const out: string[] = [];
  const mix = (v: number) => {
    buf[0] = v;
    for (const w of [bits[0], bits[1]]) {
      a = Math.imul(a ^ w, 0x01000193);
      b = Math.imul(b ^ w, 0x5bd1e995) ^ (b >>> 13);
    }
  };
  for (const x of done) {
    mix(x.trial.number);
    for (const l of x.losses!) mix(l);
    mix(x.kind === 'complete' ? 1 : 2);
    out.push(`${out.length + 1}:${(a >>> 0).toString(36)}${(b >>> 0).toString(36)}`);
  }
  return out;
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
function fitConstraint(
  c: Constraint,
  done: Observation[],
  obs: Observation[],
  features: Features,
  fit: (rows: Float64Array[], ys: number[]) => GaussianProcess,
): GaussianProcess | undefined {
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
  return fit(rows, ys);
}

/**
 * log EI of the objective's GP plus log P(feasible) of each constraint's, over GP features, with
 * its gradient and a cheap upper bound (for screening candidates).
 */
/** What the acquisition needs of a model (standardised units): a GP, or a GP on a prior mean. */
interface Surrogate {
  readonly n: number;
  predict(x: ArrayLike<number>): { mu: number; sigma: number };
  predictBound(x: ArrayLike<number>, k?: Float64Array): { mu: number; sigmaUpper: number };
  predictWithGradient(x: ArrayLike<number>): { mu: number; sigma: number; dmu: Float64Array; dsigma: Float64Array };
}

/**
 * f(x) = m(x) + r(x): the prior GP's posterior mean m (raw units) plus the residual GP r, in the
 * residual's standardised units; the uncertainty is the residual's alone.
 */
class PriorMeanSurrogate implements Surrogate {
  private readonly scratch: Float64Array;
  constructor(
    readonly prior: GaussianProcess,
    readonly residual: GaussianProcess,
  ) {
    this.scratch = new Float64Array(prior.n);
  }

  get n(): number {
    return this.residual.n;
  }

  private offset(muPrior: number): number {
    return (muPrior * this.prior.std + this.prior.mean) / this.residual.std;
  }

  predict(x: ArrayLike<number>): { mu: number; sigma: number } {
    const r = this.residual.predict(x);
    return { mu: r.mu + this.offset(this.prior.predictBound(x, this.scratch).mu), sigma: r.sigma };
  }

  predictBound(x: ArrayLike<number>, k?: Float64Array): { mu: number; sigmaUpper: number } {
    const r = this.residual.predictBound(x, k);
    return { mu: r.mu + this.offset(this.prior.predictBound(x, this.scratch).mu), sigmaUpper: r.sigmaUpper };
  }

  predictWithGradient(x: ArrayLike<number>): { mu: number; sigma: number; dmu: Float64Array; dsigma: Float64Array } {
    const r = this.residual.predictWithGradient(x);
    const p = this.prior.predictWithGradient(x);
    const scale = this.prior.std / this.residual.std;
    const dmu = Float64Array.from(r.dmu, (v, f) => v + p.dmu[f] * scale);
    return { mu: r.mu + this.offset(p.mu), sigma: r.sigma, dmu, dsigma: r.dsigma };
  }
}

class Acquisition {
  constructor(
    private readonly gp: Surrogate,
    /** The incumbent (standardised); undefined when no trial is feasible yet. */
    private readonly best: number | undefined,
    private readonly constraints: GaussianProcess[],
  ) {
    this.scratch = new Float64Array(gp.n);
  }

  private readonly scratch: Float64Array<ArrayBufferLike>;

  /** Whether `bound` is informative (an objective term exists). */
  get screens(): boolean {
    return this.best !== undefined;
  }

  value(x: Float64Array): number {
    let a = 0;
    if (this.best !== undefined) {
      const p = this.gp.predict(x);
      a += logExpectedImprovement(p.mu, p.sigma, this.best);
    }
    for (const c of this.constraints) {
      const p = c.predict(x);
      a += logNormCdf(-(p.mu * c.std + c.mean) / (p.sigma * c.std));
    }
    return a;
  }

  /** An upper bound of `value` (EI grows with σ, and log P(feasible) ≤ 0). */
  bound(x: Float64Array): number {
    if (this.best === undefined) return 0;
    const p = this.gp.predictBound(x, this.scratch);
    return logExpectedImprovement(p.mu, p.sigmaUpper, this.best);
  }

  /** Value and gradient in the features. */
  withGradient(x: Float64Array): { a: number; g: Float64Array } {
    const g = new Float64Array(x.length);
    let a = 0;
    if (this.best !== undefined) {
      const p = this.gp.predictWithGradient(x);
      a += logExpectedImprovement(p.mu, p.sigma, this.best);
      // log EI = log σ + log h(z), z = (best - μ)/σ, d log h/dz = Φ(z)/h(z).
      const z = (this.best - p.mu) / p.sigma;
      const r = Math.exp(logNormCdf(z) - logH(z));
      for (let f = 0; f < g.length; f++) {
        const dz = -(p.dmu[f] + z * p.dsigma[f]) / p.sigma;
        g[f] += p.dsigma[f] / p.sigma + r * dz;
      }
    }
    for (const c of this.constraints) {
      const p = c.predictWithGradient(x);
      const mu = p.mu * c.std + c.mean;
      const sg = p.sigma * c.std;
      const q = -mu / sg;
      a += logNormCdf(q);
      const r = Math.exp(logNormPdf(q) - logNormCdf(q));
      for (let f = 0; f < g.length; f++) {
        const dq = -(p.dmu[f] * c.std * sg - mu * p.dsigma[f] * c.std) / (sg * sg);
        g[f] += r * dq;
      }
    }
    return { a, g };
  }
}

function optimiseAcquisition(acq: Acquisition, features: Features, done: Observation[], ys: readonly number[], rng: Rng, o: GpOptions, extraCentres: readonly number[][] = []): number[] {
  const infos = features.infos;
  const d = infos.length;
  const snapAll = (u: readonly number[]) => u.map((v, i) => snap(infos[i], Number.isNaN(v) ? 0.5 : v));
  const cands: number[][] = [];
  for (let i = 0; i < o.nCandidates; i++) cands.push(snapAll(Array.from({ length: d }, () => rng.random())));
  // Around the best observations, where EI's optimum usually sits once the model is confident.
  const byY = done.map((_, i) => i).sort((a, b) => ys[a] - ys[b]).slice(0, 5);
  for (const centre of [...byY.map((i) => done[i].point), ...extraCentres]) {
    cands.push(snapAll(centre));
    for (const scale of [0.003, 0.02, 0.1]) for (let k = 0; k < 20; k++) cands.push(snapAll(centre.map((v) => (Number.isNaN(v) ? 0.5 : v) + rng.normal(0, scale))));
  }
  const starts = screenCandidates(acq, features, cands, o.nLocalSearch);
  let best = starts[0];
  const contDims = infos.map((info, i) => (info.kind === 'cont' ? i : -1)).filter((i) => i >= 0);
  const discDims = infos.map((info, i) => (info.kind !== 'cont' ? i : -1)).filter((i) => i >= 0);
  const at = (u: readonly number[]) => acq.value(features.of(u));
  for (const start of starts) {
    let u = [...start.u];
    let a = start.a;
    // Coordinate sweeps over discrete dims alternate with the continuous refinement; with no
    // discrete dim one refinement is all there is to do.
    for (let round = 0; round < (discDims.length ? 3 : 1); round++) {
      const before = a;
      if (contDims.length) {
        const x0 = Float64Array.from(contDims.map((i) => u[i]));
        const base = features.of(u);
        const cols = contDims.map((i) => features.column(i));
        const r = minimizeBox(
          (x) => {
            const fx = Float64Array.from(base);
            cols.forEach((col, k) => (fx[col] = x[k]));
            const { a: v, g } = acq.withGradient(fx);
            const out = new Float64Array(x.length);
            cols.forEach((col, k) => (out[k] = Number.isFinite(g[col]) ? -g[col] : 0));
            return { f: Number.isFinite(v) ? -v : 1e300, g: out };
          },
          x0,
          new Float64Array(x0.length),
          new Float64Array(x0.length).fill(1),
          // Optuna's local search stops at a projected gradient of 1e-2; a relative gain under
          // 1e-6 per step changes no suggestion either.
          { maxIter: 40, gtol: 1e-3, ftol: 1e-6 },
        );
        if (-r.f > a) {
          u = [...u];
          contDims.forEach((i, k) => (u[i] = r.x[k]));
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
          const aw = at(w);
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

/**
 * The `count` best distinct candidates by acquisition value, without scoring every one exactly:
 * candidates are visited in order of an O(n) upper bound and exact scoring (O(n²)) stops once
 * no remaining bound can beat the `count`-th best exact value. Same answer as scoring all.
 */
function screenCandidates(acq: Acquisition, features: Features, cands: number[][], count: number): { u: number[]; a: number }[] {
  const fx = cands.map((u) => features.of(u));
  let order = cands.map((_, i) => i);
  let bounds: Float64Array | undefined;
  if (acq.screens) {
    bounds = Float64Array.from(fx, (x) => acq.bound(x));
    order = order.sort((a, b) => bounds![b] - bounds![a]);
  }
  const top: { u: number[]; a: number; key: string }[] = [];
  for (const i of order) {
    if (bounds && top.length >= count && bounds[i] <= top[top.length - 1].a) break;
    const a = acq.value(fx[i]);
    const key = cands[i].map((v) => v.toFixed(4)).join(',');
    const same = top.findIndex((t) => t.key === key);
    if (same >= 0) {
      if (a <= top[same].a) continue;
      top.splice(same, 1);
    }
    if (top.length >= count && a <= top[top.length - 1].a) continue;
    let at = top.length;
    while (at > 0 && top[at - 1].a < a) at--;
    top.splice(at, 0, { u: cands[i], a, key });
    if (top.length > count) top.pop();
  }
  return top;
}

/** Yeo-Johnson's ψ(λ, z): a power transform defined on the whole line, increasing in z for every λ. */
export function yeoJohnson(z: number, lambda: number): number {
  if (z >= 0) return Math.abs(lambda) < 1e-12 ? Math.log1p(z) : ((1 + z) ** lambda - 1) / lambda;
  return Math.abs(lambda - 2) < 1e-12 ? -Math.log1p(-z) : -((1 - z) ** (2 - lambda) - 1) / (2 - lambda);
}

/**
 * The targets standardised, then through Yeo-Johnson with the λ in [0, 1] that maximises the
 * transformed values' normal log-likelihood (golden-section search; the likelihood is concave in
 * λ). λ = 1 is the identity, λ = 0 is log(1 + z) above the mean: only transforms that compress a
 * long tail of bad values. The ordering is kept, so the incumbent and EI's ranking of observations
 * are too. Constant or fewer than 3 targets: unchanged.
 */
export function yeoJohnsonWarp(targets: readonly number[]): number[] {
  const n = targets.length;
  if (n < 3) return [...targets];
  const mean = targets.reduce((a, b) => a + b, 0) / n;
  const sd = Math.sqrt(targets.reduce((a, b) => a + (b - mean) ** 2, 0) / n);
  if (!(sd > 0)) return [...targets];
  const z = targets.map((t) => (t - mean) / sd);
  let jacobian = 0; // Σ sign(z) log(1 + |z|), the log-derivative's λ-free part
  for (const v of z) jacobian += Math.sign(v) * Math.log1p(Math.abs(v));
  const logLik = (lambda: number) => {
    let m = 0;
    const w = z.map((v) => yeoJohnson(v, lambda));
    for (const v of w) m += v;
    m /= n;
    let s2 = 0;
    for (const v of w) s2 += (v - m) ** 2;
    s2 /= n;
    return s2 > 0 && Number.isFinite(s2) ? -0.5 * n * Math.log(s2) + (lambda - 1) * jacobian : -Infinity;
  };
  let a = 0;
  let b = 1;
  const g = (Math.sqrt(5) - 1) / 2;
  let c = b - g * (b - a);
  let d = a + g * (b - a);
  let fc = logLik(c);
  let fd = logLik(d);
  for (let k = 0; k < 40; k++) {
    if (fc >= fd) {
      b = d;
      d = c;
      fd = fc;
      c = b - g * (b - a);
      fc = logLik(c);
    } else {
      a = c;
      c = d;
      fc = fd;
      d = a + g * (b - a);
      fd = logLik(d);
    }
  }
  const lambda = (a + b) / 2;
  return z.map((v) => yeoJohnson(v, lambda));
}

/** The targets as the GP sees them under `warping` (see GpOptions.outputWarping). */
export function warpTargets(targets: number[], warping: GpOptions['outputWarping']): number[] {
  return warping === 'yeo-johnson' ? yeoJohnsonWarp(targets) : targets;
}
