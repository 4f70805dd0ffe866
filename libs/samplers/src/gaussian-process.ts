import { CholeskyDecomposition, Matrix } from 'ml-matrix';
import type { Rng } from '@segtune/core';
import { minimizeBox } from './lbfgs';

// Gaussian-process regression with a Matérn-5/2 ARD kernel, hyperparameters by maximising the
// log marginal likelihood plus weak priors (the ones Optuna's GPSampler uses), multi-start
// L-BFGS. The decomposition is ml-matrix's Cholesky; the inverse and the triangular solves that
// follow are loops over flat arrays, since ml-matrix's element-wise solve against an n×n
// identity dominates the fit time otherwise.

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

/** Squared per-feature differences, flat: d[f][i*n + j]. */
function pairDiffs(X: readonly Float64Array[]): Float64Array[] {
  const n = X.length;
  const F = n ? X[0].length : 0;
  const out: Float64Array[] = [];
  for (let f = 0; f < F; f++) {
    const a = new Float64Array(n * n);
    for (let i = 0; i < n; i++)
      for (let j = i + 1; j < n; j++) {
        const d = X[i][f] - X[j][f];
        a[i * n + j] = a[j * n + i] = d * d;
      }
    out.push(a);
  }
  return out;
}

/** Cholesky factor as a flat row-major array, or undefined when K is not positive definite. */
function cholesky(K: Float64Array, n: number): Float64Array | undefined {
  const rows: number[][] = [];
  for (let i = 0; i < n; i++) rows.push(Array.from(K.subarray(i * n, i * n + n)));
  const c = new CholeskyDecomposition(new Matrix(rows));
  if (!c.isPositiveDefinite()) return undefined;
  const L = c.lowerTriangularMatrix;
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    const r = L.getRow(i);
    for (let j = 0; j <= i; j++) out[i * n + j] = r[j];
  }
  return out;
}

/** Solves L z = b (forward substitution). */
function forward(L: Float64Array, n: number, b: ArrayLike<number>): Float64Array {
  const z = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = b[i];
    const row = i * n;
    for (let k = 0; k < i; k++) s -= L[row + k] * z[k];
    z[i] = s / L[row + i];
  }
  return z;
}

/** Solves Lᵀ x = z (back substitution). */
function backward(L: Float64Array, n: number, z: ArrayLike<number>): Float64Array {
  const x = new Float64Array(n);
  for (let i = n - 1; i >= 0; i--) {
    let s = z[i];
    for (let k = i + 1; k < n; k++) s -= L[k * n + i] * x[k];
    x[i] = s / L[i * n + i];
  }
  return x;
}

/** K⁻¹ from its Cholesky factor: L⁻¹ by forward substitution, then L⁻ᵀL⁻¹. */
function inverseFromCholesky(L: Float64Array, n: number): Float64Array {
  const Li = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    Li[j * n + j] = 1 / L[j * n + j];
    for (let i = j + 1; i < n; i++) {
      let s = 0;
      for (let k = j; k < i; k++) s -= L[i * n + k] * Li[k * n + j];
      Li[i * n + j] = s / L[i * n + i];
    }
  }
  const inv = new Float64Array(n * n);
  for (let i = 0; i < n; i++)
    for (let j = 0; j <= i; j++) {
      let s = 0;
      for (let k = i; k < n; k++) s += Li[k * n + i] * Li[k * n + j];
      inv[i * n + j] = inv[j * n + i] = s;
    }
  return inv;
}

function matern(r: number): number {
  return (1 + SQRT5 * r + (5 / 3) * r * r) * Math.exp(-SQRT5 * r);
}

/**
 * Negative log posterior of θ = [log λ_1..F, log scale, log noise] and its gradient:
 * ∂/∂θ of -log p(y|θ) is -½ tr((ααᵀ - K⁻¹) ∂K/∂θ).
 */
function negLogPosterior(theta: Float64Array, D: Float64Array[], y: readonly number[]): { f: number; g: Float64Array } {
  const n = y.length;
  const F = D.length;
  const lam = new Float64Array(F);
  for (let f = 0; f < F; f++) lam[f] = Math.exp(theta[f]);
  const s = Math.exp(theta[F]);
  const noise = Math.exp(theta[F + 1]);
  const R = new Float64Array(n * n);
  const K = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    K[i * n + i] = s + noise + JITTER;
    for (let j = i + 1; j < n; j++) {
      let r2 = 0;
      for (let f = 0; f < F; f++) r2 += lam[f] * D[f][i * n + j];
      const r = Math.sqrt(r2);
      R[i * n + j] = R[j * n + i] = r;
      K[i * n + j] = K[j * n + i] = s * matern(r);
    }
  }
  const L = cholesky(K, n);
  const g = new Float64Array(F + 2);
  if (!L) return { f: Infinity, g };
  const alpha = backward(L, n, forward(L, n, y));
  let logdet = 0;
  for (let i = 0; i < n; i++) logdet += 2 * Math.log(L[i * n + i]);
  let fit = 0;
  for (let i = 0; i < n; i++) fit += y[i] * alpha[i];
  const Kinv = inverseFromCholesky(L, n);
  // W = ααᵀ - K⁻¹; ∂NLL/∂θ = -½ Σ W ∘ ∂K/∂θ.
  let gScale = 0;
  let trW = 0;
  const gLam = new Float64Array(F);
  for (let i = 0; i < n; i++) {
    trW += alpha[i] * alpha[i] - Kinv[i * n + i];
    gScale += (alpha[i] * alpha[i] - Kinv[i * n + i]) * s;
    for (let j = i + 1; j < n; j++) {
      const w = 2 * (alpha[i] * alpha[j] - Kinv[i * n + j]); // both triangles
      const r = R[i * n + j];
      const e = Math.exp(-SQRT5 * r);
      gScale += w * s * (1 + SQRT5 * r + (5 / 3) * r * r) * e;
      const dm = w * s * (-(5 / 6)) * (1 + SQRT5 * r) * e;
      for (let f = 0; f < F; f++) gLam[f] += dm * D[f][i * n + j];
    }
  }
  const nll = 0.5 * fit + 0.5 * logdet + 0.5 * n * LOG_2PI;
  // Priors (as Optuna's GPSampler): λ ~ -(0.1/λ + 0.1λ), scale ~ Gamma(2, 1), noise ~ Gamma(1.1, 30).
  let logPrior = 0;
  for (let f = 0; f < F; f++) {
    logPrior += -(0.1 / lam[f] + 0.1 * lam[f]);
    g[f] = -0.5 * lam[f] * gLam[f] - (0.1 / lam[f] - 0.1 * lam[f]);
  }
  logPrior += Math.log(s) - s + 0.1 * Math.log(noise) - 30 * noise;
  g[F] = -0.5 * gScale - (1 - s);
  g[F + 1] = -0.5 * noise * trW - (0.1 - 30 * noise);
  return { f: nll - logPrior, g };
}

export interface GpFitOptions {
  /** Random restarts besides the default start. */
  restarts: number;
  maxIter: number;
  /** Fix the noise at its lower bound (deterministic objectives). */
  deterministic?: boolean;
}

/** A GP conditioned on standardised targets. */
export class GaussianProcess {
  readonly n: number;
  private readonly L: Float64Array;
  private readonly alpha: Float64Array;
  readonly mean: number;
  readonly std: number;

  private constructor(
    readonly X: Float64Array[],
    /** Standardised targets. */
    readonly y: number[],
    readonly params: KernelParams,
    mean: number,
    std: number,
    /** Points from this index on are fantasies (kriging believers): noiseless. */
    readonly observed = X.length,
  ) {
    this.n = X.length;
    this.mean = mean;
    this.std = std;
    const n = this.n;
    let L: Float64Array | undefined;
    for (let jitter = 0; !L; jitter = jitter ? jitter * 10 : 1e-8) {
      const K = new Float64Array(n * n);
      for (let i = 0; i < n; i++) {
        K[i * n + i] = params.scale + (i < observed ? params.noise : 0) + JITTER + jitter;
        for (let j = i + 1; j < n; j++) K[i * n + j] = K[j * n + i] = this.kernel(X[i], X[j]);
      }
      L = cholesky(K, n);
      if (jitter > 1) throw new Error('GP covariance is not positive definite');
    }
    this.L = L;
    this.alpha = backward(L, n, forward(L, n, y));
  }

  /** Fits hyperparameters to (X, raw targets) and conditions on them. */
  static fit(X: Float64Array[], targets: readonly number[], rng: Rng, o: GpFitOptions): GaussianProcess {
    const n = targets.length;
    const mean = targets.reduce((a, b) => a + b, 0) / n;
    const std = Math.sqrt(targets.reduce((a, b) => a + (b - mean) ** 2, 0) / n) || 1;
    const y = targets.map((t) => (t - mean) / std);
    const F = X[0].length;
    const D = pairDiffs(X);
    const lower = new Float64Array(F + 2);
    const upper = new Float64Array(F + 2);
    lower.fill(BOUNDS.logInvLengthSq[0], 0, F);
    upper.fill(BOUNDS.logInvLengthSq[1], 0, F);
    lower[F] = BOUNDS.logScale[0];
    upper[F] = BOUNDS.logScale[1];
    lower[F + 1] = BOUNDS.logNoise[0];
    upper[F + 1] = o.deterministic ? BOUNDS.logNoise[0] : BOUNDS.logNoise[1];
    const starts: Float64Array[] = [];
    const x0 = new Float64Array(F + 2);
    x0[F + 1] = o.deterministic ? BOUNDS.logNoise[0] : Math.log(1e-2);
    starts.push(x0);
    for (let r = 0; r < o.restarts; r++) {
      const x = new Float64Array(F + 2);
      for (let f = 0; f < F; f++) x[f] = rng.uniform(Math.log(0.1), Math.log(100));
      x[F] = rng.uniform(-1, 1);
      x[F + 1] = o.deterministic ? BOUNDS.logNoise[0] : rng.uniform(Math.log(1e-5), Math.log(1e-2));
      starts.push(x);
    }
    let best: { x: Float64Array; f: number } | undefined;
    for (const s of starts) {
      const r = minimizeBox((t) => negLogPosterior(t, D, y), s, lower, upper, { maxIter: o.maxIter, ftol: 1e-9 });
      if (Number.isFinite(r.f) && (!best || r.f < best.f)) best = r;
    }
    const theta = best?.x ?? x0;
    const params: KernelParams = {
      invLengthSq: Float64Array.from(theta.subarray(0, F), Math.exp),
      scale: Math.exp(theta[F]),
      noise: Math.exp(theta[F + 1]),
    };
    return new GaussianProcess(X, y, params, mean, std);
  }

  /** The same hyperparameters conditioned on extra points with standardised targets (kriging believer). */
  withPoints(X: Float64Array[], y: readonly number[]): GaussianProcess {
    return new GaussianProcess([...this.X, ...X], [...this.y, ...y], this.params, this.mean, this.std, this.observed);
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

  /** Posterior mean and standard deviation of the latent function, in standardised units. */
  predict(x: Float64Array): { mu: number; sigma: number } {
    const n = this.n;
    const k = new Float64Array(n);
    for (let i = 0; i < n; i++) k[i] = this.kernel(x, this.X[i]);
    let mu = 0;
    for (let i = 0; i < n; i++) mu += k[i] * this.alpha[i];
    const v = forward(this.L, n, k);
    let vv = 0;
    for (let i = 0; i < n; i++) vv += v[i] * v[i];
    const variance = Math.max(this.params.scale - vv, 1e-12);
    return { mu, sigma: Math.sqrt(variance) };
  }
}
