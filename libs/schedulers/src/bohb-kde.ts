import type { Rng } from '@segtune/core';
import type { Space } from '@segtune/space';

// BOHB's model (Falkner, Klein & Hutter, "BOHB: Robust and Efficient Hyperparameter
// Optimization at Scale", 2018): two product kernel density estimates in the unit cube, l(x) over
// the best configurations and g(x) over the rest, with Scott's normal-reference bandwidths; new
// configurations are drawn from l with widened bandwidths and the one maximising l/g is kept.
// Kept apart from the samplers' ParzenEstimator on purpose: BOHB's model is defined by Scott's
// rule on the observations' own spread, a plain kernel for categoricals and inactive (NaN)
// coordinates left out of the product, while the Parzen estimator carries TPE's rules (a prior
// kernel, neighbour bandwidths, truncated normals, no NaN). Putting BOHB on it would make BOHB a
// TPE per budget and change its recorded figures; it is left for when that is measured.

export interface KdeSettings {
  /** Bandwidths never drop below this (the model would otherwise collapse onto one point). */
  minBandwidth: number;
  /** Sampling widens the good KDE's bandwidths by this factor (exploration). */
  bandwidthFactor: number;
  /** Candidates drawn from l(x) per suggestion. */
  numSamples: number;
}

interface Dim {
  /** Number of categories for a categorical dimension, 0 for a continuous one. */
  categories: number;
}

export class ProductKde {
  readonly bandwidths: number[];

  constructor(
    readonly data: readonly (readonly number[])[],
    readonly dims: readonly Dim[],
    minBandwidth: number,
  ) {
    const n = data.length;
    const d = dims.length;
    this.bandwidths = dims.map((dim, k) => {
      const xs = data.map((p) => p[k]).filter((v) => !Number.isNaN(v));
      const bw = xs.length > 1 ? 1.06 * std(xs) * n ** (-1 / (4 + d)) : minBandwidth;
      // Categorical bandwidths are a probability of "another category" and stay below 1.
      return dim.categories ? Math.min(Math.max(bw, minBandwidth), 1 - 1e-6) : Math.max(bw, minBandwidth);
    });
  }

  /** Density at a point (unnormalised in the same way for l and g, so l/g is right). */
  pdf(x: readonly number[]): number {
    let sum = 0;
    for (const p of this.data) {
      let prod = 1;
      for (let k = 0; k < this.dims.length; k++) {
        if (Number.isNaN(x[k]) || Number.isNaN(p[k])) continue;
        const bw = this.bandwidths[k];
        const c = this.dims[k].categories;
        if (c) prod *= cell(x[k], c) === cell(p[k], c) ? 1 - bw : bw / Math.max(1, c - 1);
        else {
          const z = (x[k] - p[k]) / bw;
          prod *= Math.exp(-0.5 * z * z) / (bw * Math.sqrt(2 * Math.PI));
        }
      }
      sum += prod;
    }
    return sum / this.data.length;
  }

  /** One draw around a random datum, bandwidths widened by `factor`, kept inside [0, 1]. */
  sample(rng: Rng, factor: number): number[] {
    const p = this.data[rng.int(this.data.length)];
    return this.dims.map((dim, k) => {
      const bw = Math.min(this.bandwidths[k] * factor, dim.categories ? 1 - 1e-6 : Infinity);
      if (Number.isNaN(p[k])) return rng.random();
      if (dim.categories) {
        if (rng.random() >= bw) return p[k];
        const c = dim.categories;
        const other = (cell(p[k], c) + 1 + rng.int(Math.max(1, c - 1))) % c;
        return (other + 0.5) / c;
      }
      for (let attempt = 0; attempt < 20; attempt++) {
        const v = rng.normal(p[k], bw);
        if (v >= 0 && v <= 1) return v;
      }
      return Math.min(1, Math.max(0, p[k]));
    });
  }
}

function cell(u: number, c: number): number {
  return Math.min(c - 1, Math.max(0, Math.floor(u * c)));
}

function std(xs: readonly number[]): number {
  const m = xs.reduce((a, b) => a + b, 0) / xs.length;
  return Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / Math.max(1, xs.length - 1));
}

export function spaceDims(space: Space): Dim[] {
  return space.params.map((p) => ({ categories: p.type === 'categorical' ? p.choices.length : 0 }));
}

/**
 * A point drawn from l(x) maximising l(x)/g(x) over `numSamples` candidates, given observations
 * (encoded points and losses) at one budget.
 */
export function bohbCandidate(
  points: readonly (readonly number[])[],
  losses: readonly number[],
  dims: readonly Dim[],
  nGood: number,
  nBad: number,
  rng: Rng,
  s: KdeSettings,
): number[] {
  const order = [...losses.keys()].sort((a, b) => losses[a] - losses[b] || a - b);
  const good = new ProductKde(order.slice(0, nGood).map((i) => points[i]), dims, s.minBandwidth);
  const bad = new ProductKde(order.slice(nGood, nGood + nBad).map((i) => points[i]), dims, s.minBandwidth);
  let best: number[] | undefined;
  let bestScore = -Infinity;
  for (let i = 0; i < s.numSamples; i++) {
    const x = good.sample(rng, s.bandwidthFactor);
    const score = Math.max(good.pdf(x), 1e-32) / Math.max(bad.pdf(x), 1e-32);
    if (score > bestScore) {
      bestScore = score;
      best = x;
    }
  }
  return best ?? good.sample(rng, 1);
}
