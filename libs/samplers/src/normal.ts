// Normal-distribution helpers in log space, shared by TPE (truncated Parzen kernels) and the GP
// (log expected improvement). simple-statistics has erf/cdf but not the log-tail forms needed
// here, where masses of 1e-300 must stay finite in log space.

const LOG_SQRT_2PI = 0.5 * Math.log(2 * Math.PI);
const SQRT1_2 = Math.SQRT1_2;

/** log erfc(x) via the Chebyshev fit of Numerical Recipes (relative error < 1.2e-7), stable for large x. */
export function logErfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const poly =
    -z * z -
    1.26551223 +
    t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))));
  const logAns = Math.log(t) + poly;
  return x >= 0 ? logAns : Math.log(2 - Math.exp(logAns));
}

export function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? r : 2 - r;
}

/** Standard normal CDF. */
export function normCdf(z: number): number {
  return 0.5 * erfc(-z * SQRT1_2);
}

/** log Φ(z). */
export function logNormCdf(z: number): number {
  return Math.log(0.5) + logErfc(-z * SQRT1_2);
}

/** log φ(z). */
export function logNormPdf(z: number): number {
  return -0.5 * z * z - LOG_SQRT_2PI;
}

/** log(exp(a) - exp(b)) for a ≥ b. */
export function logDiffExp(a: number, b: number): number {
  if (b === -Infinity) return a;
  if (b >= a) return -Infinity;
  const d = b - a;
  return a + (d > -Math.LN2 ? Math.log(-Math.expm1(d)) : Math.log1p(-Math.exp(d)));
}

/** log(Φ(b) - Φ(a)) for a ≤ b, accurate in both tails. */
export function logNormMass(a: number, b: number): number {
  if (b <= a) return -Infinity;
  if (a >= 0) return logDiffExp(logNormCdf(-a), logNormCdf(-b));
  return logDiffExp(logNormCdf(b), logNormCdf(a));
}

export function logSumExp(xs: ArrayLike<number>, n = xs.length): number {
  let m = -Infinity;
  for (let i = 0; i < n; i++) if (xs[i] > m) m = xs[i];
  if (m === -Infinity) return -Infinity;
  let s = 0;
  // Terms more than e^-40 below the largest change nothing at double precision: skip their exp.
  for (let i = 0; i < n; i++) {
    const d = xs[i] - m;
    if (d > -40) s += Math.exp(d);
  }
  return m + Math.log(s);
}

/**
 * log h(z) with h(z) = z Φ(z) + φ(z), the standardised expected improvement. For z < -3 the
 * difference cancels, so it uses the continued fraction of Mills' ratio instead:
 * h(z) = φ(z) · c / (t + c) with t = -z and c = 1/(t + 2/(t + 3/(t + …))).
 */
export function logH(z: number): number {
  if (z > -3) return Math.log(z * normCdf(z) + Math.exp(logNormPdf(z)));
  const t = -z;
  let c = 0;
  for (let k = 40; k >= 2; k--) c = k / (t + c);
  c = 1 / (t + c);
  return logNormPdf(z) + Math.log(c) - Math.log(t + c);
}

/** log expected improvement (minimisation) of N(mu, sigma²) over `best`. */
export function logExpectedImprovement(mu: number, sigma: number, best: number): number {
  if (!(sigma > 0)) return mu < best ? Math.log(best - mu) : -Infinity;
  return Math.log(sigma) + logH((best - mu) / sigma);
}
