import type { Rng } from '@segtune/core';
import { minimizeBox } from './lbfgs';
import { cholesky, choleskyInverse, solveLower, solveUpper, solveUpperTransposed, transposeLower } from './cholesky';

// Gaussian-process regression with a Matérn-5/2 ARD kernel, hyperparameters by maximising the
// log marginal likelihood plus weak priors (the ones Optuna's GPSampler uses), by L-BFGS on the
// analytic gradient: several starts for a cold fit, one start from the previous fit's
// hyperparameters for a warm one. Prediction comes with the analytic gradient in x, so the
// acquisition can be refined by L-BFGS without finite differences. Linear algebra is on flat
// Float64Arrays (./cholesky): the fits are dominated by O(n³) loops there.

const SQRT5 = Math.sqrt(5);
const LOG_2PI = Math.log(2 * Math.PI);
const JITTER = 1e-9;

export interface KernelParams {
  /** Inverse squared lengthscale per feature. */
  invLengthSq: Float64Array;
  /** Kernel (signal) variance. */
  scale: number;
  /** Noise variance. */
  noise: number;
}

const BOUNDS = {
  logInvLengthSq: [Math.log(1e-4), Math.log(1e4)] as const,
  logScale: [Math.log(1e-2), Math.log(1e2)] as const,
  logNoise: [Math.log(1e-6), Math.log(1)] as const,
};

/** Squared per-feature differences of the upper triangle, packed: d[f * P + p] for pair p = (i < j). */
function pairDiffs(X: readonly Float64Array[]): { D: Float64Array; P: number } {
  const n = X.length;
  const F = n ? X[0].length : 0;
  const P = (n * (n - 1)) / 2;
  const D = new Float64Array(F * P);
  let p = 0;
  for (let i = 0; i < n; i++)
    for (let j = i + 1; j < n; j++, p++)
      for (let f = 0; f < F; f++) {
        const d = X[i][f] - X[j][f];
        D[f * P + p] = d * d;
      }
  return { D, P };
}

/** Optuna's gtol for the kernel fit: tighter costs iterations without changing the suggestions. */
const FIT_GTOL = 1e-2;

/**
 * The Cholesky factor of K for X, given the factor of its first n0 rows: each new row is
 * l = L⁻¹k, d = √(k(x, x) - l·l). Throws when a new point makes K singular.
 */
function extendFactor(L0: Float64Array, n0: number, X: readonly Float64Array[], kernel: (a: Float64Array, b: Float64Array) => number, diag: number): Float64Array {
  const n = X.length;
  const L = new Float64Array(n * n);
  for (let i = 0; i < n0; i++) L.set(L0.subarray(i * n0, i * n0 + i + 1), i * n);
  for (let i = n0; i < n; i++) {
    const ri = i * n;
    for (let j = 0; j < i; j++) {
      let s = kernel(X[i], X[j]);
      const rj = j * n;
      for (let k = 0; k < j; k++) s -= L[ri + k] * L[rj + k];
      L[ri + j] = s / L[rj + j];
    }
    let s = diag;
    for (let k = 0; k < i; k++) s -= L[ri + k] * L[ri + k];
    if (!(s > 1e-12)) throw new Error('GP covariance is not positive definite');
    L[ri + i] = Math.sqrt(s);
  }
  return L;
}

function matern(r: number): number {
  return (1 + SQRT5 * r + (5 / 3) * r * r) * Math.exp(-SQRT5 * r);
}

/** Buffers reused across the evaluations of one fit (n² each). */
interface Work {
  K: Float64Array;
  Kinv: Float64Array;
  U: Float64Array;
  R: Float64Array;
  E: Float64Array;
  /** The factor of the best θ evaluated so far, so the fitted GP need not factor K again. */
  bestF: number;
  bestTheta?: Float64Array;
  bestL?: Float64Array;
}

/**
 * Negative log posterior of θ = [log λ_1..F, log scale, log noise] and its gradient:
 * ∂/∂θ of -log p(y|θ) is -½ tr((ααᵀ - K⁻¹) ∂K/∂θ).
 */
function negLogPosterior(theta: Float64Array, D: Float64Array, P: number, F: number, y: Float64Array, w: Work): { f: number; g: Float64Array } {
  const n = y.length;
  const lam = new Float64Array(F);
  for (let f = 0; f < F; f++) lam[f] = Math.exp(theta[f]);
  const s = Math.exp(theta[F]);
  const noise = Math.exp(theta[F + 1]);
  const { K, R, E } = w;
  // Pairwise distances r_p = sqrt(Σ λ_f d_fp), feature-major for a contiguous inner loop.
  R.fill(0, 0, P);
  for (let f = 0; f < F; f++) {
    const l = lam[f];
    const off = f * P;
    for (let p = 0; p < P; p++) R[p] += l * D[off + p];
  }
  let p = 0;
  for (let i = 0; i < n; i++) {
    K[i * n + i] = s + noise + JITTER;
    for (let j = i + 1; j < n; j++, p++) {
      const r = Math.sqrt(R[p]);
      R[p] = r;
      const e = Math.exp(-SQRT5 * r);
      E[p] = e;
      K[j * n + i] = s * (1 + SQRT5 * r + (5 / 3) * r * r) * e; // lower triangle is all cholesky reads
    }
  }
  const g = new Float64Array(F + 2);
  if (!cholesky(K, n)) return { f: Infinity, g };
  const L = K; // factored in place
  const alpha = solveUpper(L, n, solveLower(L, n, y));
  let logdet = 0;
  for (let i = 0; i < n; i++) logdet += 2 * Math.log(L[i * n + i]);
  let fit = 0;
  for (let i = 0; i < n; i++) fit += y[i] * alpha[i];
  const nll = 0.5 * fit + 0.5 * logdet + 0.5 * n * LOG_2PI;
  const Kinv = choleskyInverse(L, n, w.Kinv, w.U);
  // W = ααᵀ - K⁻¹; ∂NLL/∂θ = -½ Σ W ∘ ∂K/∂θ. The pair weights go into R (no longer needed as r).
  let gScale = 0;
  let trW = 0;
  for (let i = 0; i < n; i++) {
    const wi = alpha[i] * alpha[i] - Kinv[i * n + i];
    trW += wi;
    gScale += wi * s;
  }
  p = 0;
  for (let i = 0; i < n; i++) {
    const ai = alpha[i];
    for (let j = i + 1; j < n; j++, p++) {
      const wij = 2 * (ai * alpha[j] - Kinv[j * n + i]); // both triangles
      const r = R[p];
      const e = E[p];
      gScale += wij * s * (1 + SQRT5 * r + (5 / 3) * r * r) * e;
      R[p] = wij * s * (-(5 / 6)) * (1 + SQRT5 * r) * e;
    }
  }
  const gLam = new Float64Array(F);
  for (let f = 0; f < F; f++) {
    let acc = 0;
    const off = f * P;
    for (let q = 0; q < P; q++) acc += R[q] * D[off + q];
    gLam[f] = acc;
  }
  // Priors (as Optuna's GPSampler): λ ~ -(0.1/λ + 0.1λ), scale ~ Gamma(2, 1), noise ~ Gamma(1.1, 30).
  let logPrior = 0;
  for (let f = 0; f < F; f++) {
    logPrior += -(0.1 / lam[f] + 0.1 * lam[f]);
    g[f] = -0.5 * lam[f] * gLam[f] - (0.1 / lam[f] - 0.1 * lam[f]);
  }
  logPrior += Math.log(s) - s + 0.1 * Math.log(noise) - 30 * noise;
  g[F] = -0.5 * gScale - (1 - s);
  g[F + 1] = -0.5 * noise * trW - (0.1 - 30 * noise);
  const f = nll - logPrior;
  if (f < w.bestF) {
    w.bestF = f;
    w.bestTheta = Float64Array.from(theta);
    (w.bestL ??= new Float64Array(n * n)).set(L);
  }
  return { f, g };
}

export interface GpFitOptions {
  /** Random restarts besides the default start (cold fits only). */
  restarts: number;
  maxIter: number;
  /** Fix the noise at its lower bound (deterministic objectives). */
  deterministic?: boolean;
  /**
   * Hyperparameters (θ, as `theta` of an earlier fit) to start from instead of the default and
   * random starts: a warm start from the previous history's fit, which the optimum of one more
   * observation rarely moves far from.
   */
  warmStart?: Float64Array;
  /**
   * Standardise the targets by at least this (raw units): a residual GP on a prior mean (warm
   * start) whose residuals are nearly equal would otherwise blow them up into a confident model.
   */
  minStd?: number;
}

/** Posterior at a point with its gradient in the features (standardised units). */
export interface PredictionWithGradient {
  mu: number;
  sigma: number;
  dmu: Float64Array;
  dsigma: Float64Array;
}

/** A GP conditioned on standardised targets. */
export class GaussianProcess {
  readonly n: number;
  private readonly L: Float64Array;
  /** Lᵀ row-major (made on first use), so back substitutions are contiguous dot products. */
  private Lt?: Float64Array;
  private readonly alpha: Float64Array;
  readonly mean: number;
  readonly std: number;
  /** The fitted hyperparameters in log form, the warm start for the next fit. */
  readonly theta: Float64Array;
  /** Flat copy of X (row-major n × F) for the prediction loops. */
  private readonly Xf: Float64Array;
  private readonly F: number;

  private constructor(
    readonly X: Float64Array[],
    /** Standardised targets. */
    readonly y: number[],
    readonly params: KernelParams,
    mean: number,
    std: number,
    /** Points from this index on are fantasies (kriging believers): noiseless. */
    readonly observed = X.length,
    factor?: Float64Array,
  ) {
    this.n = X.length;
    this.mean = mean;
    this.std = std;
    const n = this.n;
    const F = (this.F = n ? X[0].length : 0);
    this.Xf = new Float64Array(n * F);
    for (let i = 0; i < n; i++) this.Xf.set(X[i], i * F);
    this.theta = new Float64Array(F + 2);
    for (let f = 0; f < F; f++) this.theta[f] = Math.log(params.invLengthSq[f]);
    this.theta[F] = Math.log(params.scale);
    this.theta[F + 1] = Math.log(params.noise);
    let L: Float64Array | undefined = factor;
    for (let jitter = 0; !L; jitter = jitter ? jitter * 10 : 1e-8) {
      const K = new Float64Array(n * n);
      for (let i = 0; i < n; i++) {
        K[i * n + i] = params.scale + (i < observed ? params.noise : 0) + JITTER + jitter;
        for (let j = 0; j < i; j++) K[i * n + j] = this.kernel(X[i], X[j]);
      }
      if (cholesky(K, n)) L = K;
      else if (jitter > 1) throw new Error('GP covariance is not positive definite');
    }
    this.L = L;
    this.alpha = solveUpper(L, n, solveLower(L, n, Float64Array.from(y)));
  }

  /** Fits hyperparameters to (X, raw targets) and conditions on them. */
  static fit(X: Float64Array[], targets: readonly number[], rng: Rng, o: GpFitOptions): GaussianProcess {
    const n = targets.length;
    const mean = targets.reduce((a, b) => a + b, 0) / n;
    const std = Math.max(Math.sqrt(targets.reduce((a, b) => a + (b - mean) ** 2, 0) / n) || 1, o.minStd ?? 0);
    const y = Float64Array.from(targets, (t) => (t - mean) / std);
    const F = X[0].length;
    const { D, P } = pairDiffs(X);
    const work: Work = { K: new Float64Array(n * n), Kinv: new Float64Array(n * n), U: new Float64Array(n * n), R: new Float64Array(P), E: new Float64Array(P), bestF: Infinity };
    const lower = new Float64Array(F + 2);
    const upper = new Float64Array(F + 2);
    lower.fill(BOUNDS.logInvLengthSq[0], 0, F);
    upper.fill(BOUNDS.logInvLengthSq[1], 0, F);
    lower[F] = BOUNDS.logScale[0];
    upper[F] = BOUNDS.logScale[1];
    lower[F + 1] = BOUNDS.logNoise[0];
    upper[F + 1] = o.deterministic ? BOUNDS.logNoise[0] : BOUNDS.logNoise[1];
    const x0 = new Float64Array(F + 2);
    x0[F + 1] = o.deterministic ? BOUNDS.logNoise[0] : Math.log(1e-2);
    const starts: Float64Array[] = [];
    if (o.warmStart && o.warmStart.length === F + 2) starts.push(Float64Array.from(o.warmStart));
    else {
      starts.push(x0);
      for (let r = 0; r < o.restarts; r++) {
        const x = new Float64Array(F + 2);
        for (let f = 0; f < F; f++) x[f] = rng.uniform(Math.log(0.1), Math.log(100));
        x[F] = rng.uniform(-1, 1);
        x[F + 1] = o.deterministic ? BOUNDS.logNoise[0] : rng.uniform(Math.log(1e-5), Math.log(1e-2));
        starts.push(x);
      }
    }
    let best: { x: Float64Array; f: number } | undefined;
    const objective = (t: Float64Array) => negLogPosterior(t, D, P, F, y, work);
    for (const s of starts) {
      const r = minimizeBox(objective, s, lower, upper, { maxIter: o.maxIter, ftol: 1e-9, gtol: FIT_GTOL });
      if (Number.isFinite(r.f) && (!best || r.f < best.f)) best = r;
    }
    if (!best && o.warmStart) {
      // The warm start is infeasible for the new data (rare): fall back to the default start.
      const r = minimizeBox(objective, x0, lower, upper, { maxIter: o.maxIter, ftol: 1e-9, gtol: FIT_GTOL });
      if (Number.isFinite(r.f)) best = r;
    }
    const theta = best?.x ?? x0;
    const reuse = work.bestTheta && work.bestTheta.every((v, i) => v === theta[i]) ? work.bestL : undefined;
    return GaussianProcess.condition(X, targets, theta, reuse, o.minStd);
  }

  /** Conditions on (X, raw targets) with given hyperparameters θ (no fit). */
  static condition(X: Float64Array[], targets: readonly number[], theta: Float64Array, factor?: Float64Array, minStd = 0): GaussianProcess {
    const n = targets.length;
    const mean = targets.reduce((a, b) => a + b, 0) / n;
    const std = Math.max(Math.sqrt(targets.reduce((a, b) => a + (b - mean) ** 2, 0) / n) || 1, minStd);
    const F = X[0].length;
    const params: KernelParams = {
      invLengthSq: Float64Array.from(theta.subarray(0, F), Math.exp),
      scale: Math.exp(theta[F]),
      noise: Math.exp(theta[F + 1]),
    };
    const gp = new GaussianProcess(X, targets.map((t) => (t - mean) / std), params, mean, std, X.length, factor);
    gp.minStd = minStd;
    return gp;
  }

  /** See GpFitOptions.minStd; kept so that `extend` standardises the same way. */
  private minStd = 0;

  /**
   * The same hyperparameters conditioned on these observations (raw targets), which start with
   * this GP's own points: the Cholesky factor is extended by the new rows in O(n²) each instead
   * of refactored in O(n³). Only for a GP with no fantasies.
   */
  extend(X: Float64Array[], targets: readonly number[]): GaussianProcess {
    if (this.observed !== this.n || X.length < this.n) throw new Error('extend: not an extension of this GP');
    const n = targets.length;
    const mean = targets.reduce((a, b) => a + b, 0) / n;
    const std = Math.max(Math.sqrt(targets.reduce((a, b) => a + (b - mean) ** 2, 0) / n) || 1, this.minStd);
    const L = extendFactor(this.L, this.n, X, (a, b) => this.kernel(a, b), this.params.scale + this.params.noise + JITTER);
    const gp = new GaussianProcess(X, targets.map((t) => (t - mean) / std), this.params, mean, std, n, L);
    gp.minStd = this.minStd;
    return gp;
  }

  /** The same hyperparameters conditioned on extra points with standardised targets (kriging believer). */
  withPoints(X: Float64Array[], y: readonly number[]): GaussianProcess {
    const all = [...this.X, ...X];
    let L: Float64Array | undefined;
    try {
      L = extendFactor(this.L, this.n, all, (a, b) => this.kernel(a, b), this.params.scale + JITTER);
    } catch {
      L = undefined; // a fantasy on top of an observation: refactor with jitter
    }
    return new GaussianProcess(all, [...this.y, ...y], this.params, this.mean, this.std, this.observed, L);
  }

  kernel(a: Float64Array, b: Float64Array): number {
    const lam = this.params.invLengthSq;
    let r2 = 0;
    for (let f = 0; f < lam.length; f++) {
      const d = a[f] - b[f];
      r2 += lam[f] * d * d;
    }
    return this.params.scale * matern(Math.sqrt(r2));
  }

  /** k(x, X) into `out`. */
  private kvec(x: ArrayLike<number>, out: Float64Array): Float64Array {
    const { n, F, Xf } = this;
    const lam = this.params.invLengthSq;
    const s = this.params.scale;
    for (let i = 0, o = 0; i < n; i++, o += F) {
      let r2 = 0;
      for (let f = 0; f < F; f++) {
        const d = x[f] - Xf[o + f];
        r2 += lam[f] * d * d;
      }
      const r = Math.sqrt(r2);
      out[i] = s * (1 + SQRT5 * r + (5 / 3) * r2) * Math.exp(-SQRT5 * r);
    }
    return out;
  }

  /** Posterior mean and standard deviation of the latent function, in standardised units. */
  predict(x: ArrayLike<number>): { mu: number; sigma: number } {
    const n = this.n;
    const k = this.kvec(x, new Float64Array(n));
    let mu = 0;
    for (let i = 0; i < n; i++) mu += k[i] * this.alpha[i];
    const v = solveLower(this.L, n, k);
    let vv = 0;
    for (let i = 0; i < n; i++) vv += v[i] * v[i];
    const variance = Math.max(this.params.scale - vv, 1e-12);
    return { mu, sigma: Math.sqrt(variance) };
  }

  /**
   * Posterior mean and an upper bound on the standard deviation, in O(n) instead of O(n²): the
   * variance given all observations is at most the variance given the single most correlated
   * one. Acquisition screening uses it to skip candidates that cannot win.
   */
  predictBound(x: ArrayLike<number>, k: Float64Array = new Float64Array(this.n)): { mu: number; sigmaUpper: number } {
    const n = this.n;
    this.kvec(x, k);
    let mu = 0;
    let kmax = 0;
    for (let i = 0; i < n; i++) {
      mu += k[i] * this.alpha[i];
      if (k[i] > kmax) kmax = k[i];
    }
    const s = this.params.scale;
    const variance = Math.max(s - (kmax * kmax) / (s + this.params.noise + JITTER), 1e-12);
    return { mu, sigmaUpper: Math.sqrt(variance) };
  }

  /** Posterior mean and standard deviation with their gradients in x (standardised units). */
  predictWithGradient(x: ArrayLike<number>): PredictionWithGradient {
    const { n, F, Xf } = this;
    const lam = this.params.invLengthSq;
    const s = this.params.scale;
    const k = new Float64Array(n);
    // ∂k_i/∂x_f = c_i · λ_f (x_f - X_if), with c_i = -(5/3) s (1 + √5 r) e^{-√5 r}.
    const c = new Float64Array(n);
    for (let i = 0, o = 0; i < n; i++, o += F) {
      let r2 = 0;
      for (let f = 0; f < F; f++) {
        const d = x[f] - Xf[o + f];
        r2 += lam[f] * d * d;
      }
      const r = Math.sqrt(r2);
      const e = Math.exp(-SQRT5 * r);
      k[i] = s * (1 + SQRT5 * r + (5 / 3) * r2) * e;
      c[i] = -(5 / 3) * s * (1 + SQRT5 * r) * e;
    }
    let mu = 0;
    for (let i = 0; i < n; i++) mu += k[i] * this.alpha[i];
    const v = solveLower(this.L, n, k);
    let vv = 0;
    for (let i = 0; i < n; i++) vv += v[i] * v[i];
    const variance = Math.max(s - vv, 1e-12);
    const sigma = Math.sqrt(variance);
    this.Lt ??= transposeLower(this.L, n);
    const w = solveUpperTransposed(this.Lt, n, v); // K⁻¹k
    const dmu = new Float64Array(F);
    const dvar = new Float64Array(F);
    for (let i = 0, o = 0; i < n; i++, o += F) {
      const ca = c[i] * this.alpha[i];
      const cw = c[i] * w[i];
      for (let f = 0; f < F; f++) {
        const d = lam[f] * (x[f] - Xf[o + f]);
        dmu[f] += ca * d;
        dvar[f] -= 2 * cw * d;
      }
    }
    const dsigma = new Float64Array(F);
    if (s - vv > 1e-12) for (let f = 0; f < F; f++) dsigma[f] = dvar[f] / (2 * sigma);
    return { mu, sigma, dmu, dsigma };
  }
}
