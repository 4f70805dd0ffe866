import { encodeValue, type ParamDef, type Space } from '@segtune/space';
import type { Rng } from '@segtune/core';
import { logNormMass, logSumExp, normCdf } from './normal';
import { kernelLogPdf, kernelValues, parzenKernel, WASM_MIN_KERNELS, type KernelData, type KernelExports } from './parzen-kernel';

// Parzen estimators over the encoded unit cube, one kernel per observation plus a broad prior
// kernel. Continuous dimensions use truncated normals on [0,1]; discrete ones (ints, stepped
// floats) the normal's mass over the param's cell, so every grid value owns its probability;
// categoricals an Aitchison–Aitken style kernel (most mass on the observed choice, the rest
// spread evenly, set by the prior weight).

const LOG_SQRT_2PI = 0.5 * Math.log(2 * Math.PI);
/** logPdf's early stop: 1 above logSumExp's cut-off of 40, so rounding cannot make them differ. */
const PRUNE = 41;
/** Above this many grid cells a discrete param is modelled as continuous (then snapped). */
const MAX_CELLS = 2000;

export type DimInfo =
  | { kind: 'cont' }
  | { kind: 'disc'; n: number; centres: Float64Array; lo: Float64Array; hi: Float64Array }
  | { kind: 'cat'; k: number };

const dimCache = new WeakMap<ParamDef, DimInfo>();

export function dimInfo(space: Space, p: ParamDef): DimInfo {
  let d = dimCache.get(p);
  if (d) return d;
  if (p.type === 'categorical') d = { kind: 'cat', k: p.choices.length };
  else {
    const n = space.cardinality(p);
    if (!Number.isFinite(n) || n > MAX_CELLS) d = { kind: 'cont' };
    else {
      const step = p.step ?? 1;
      const centres = new Float64Array(n);
      for (let i = 0; i < n; i++) centres[i] = encodeValue(p, p.low + i * step);
      const lo = new Float64Array(n);
      const hi = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        lo[i] = i === 0 ? 0 : (centres[i - 1] + centres[i]) / 2;
        hi[i] = i === n - 1 ? 1 : (centres[i] + centres[i + 1]) / 2;
      }
      d = { kind: 'disc', n, centres, lo, hi };
    }
  }
  dimCache.set(p, d);
  return d;
}

/** The grid cell that holds `u` (binary search over the cell edges). */
export function cellOf(d: Extract<DimInfo, { kind: 'disc' }>, u: number): number {
  let a = 0;
  let b = d.n - 1;
  while (a < b) {
    const mid = (a + b) >> 1;
    if (u < d.hi[mid]) b = mid;
    else a = mid + 1;
  }
  return a;
}

export function catOf(k: number, u: number): number {
  return Math.min(k - 1, Math.max(0, Math.floor(u * k)));
}

/** Snaps a coordinate to its cell centre (discrete, categorical) or clamps it (continuous). */
export function snap(d: DimInfo, u: number): number {
  if (d.kind === 'disc') return d.centres[cellOf(d, u)];
  if (d.kind === 'cat') return (catOf(d.k, u) + 0.5) / d.k;
  return u < 0 ? 0 : u > 1 ? 1 : u;
}

export interface ParzenOptions {
  priorWeight: number;
  /**
   * `neighbor`: each kernel as wide as the distance to its farther neighbour along the dimension
   * (Optuna 5's rule, univariate or joint); `scott`: one width per dimension shrinking with
   * n^(-1/(d+4)) (Optuna 2-4's multivariate rule).
   */
  bandwidth: 'neighbor' | 'scott';
  /** Floor the bandwidth at 1/min(100, n+1) of the range, as Optuna's "magic clip". */
  magicClip: boolean;
  /** Multiplier on the bandwidth. */
  bandwidthFactor: number;
}

/**
 * The indices 0..n-1 of `values` (all ≥ 0) sorted by value, ties in index order: the same
 * permutation as a stable comparator sort, by an LSD radix sort on the IEEE-754 bits (monotone
 * for non-negative doubles), which is stable by construction and several times faster on
 * thousands of observations, where this sort was the estimator's main cost.
 */
export function stableOrder(values: Float64Array, n: number): Int32Array {
  // A few dozen values (the good group, a young study): insertion sort, which is stable too;
  // the radix sort's fixed cost (six passes over 2,048 counters) dominated there.
  if (n <= SMALL_SORT) {
    const order = new Int32Array(n);
    for (let r = 0; r < n; r++) {
      const v = values[r];
      let k = r - 1;
      while (k >= 0 && values[order[k]] > v) {
        order[k + 1] = order[k];
        k--;
      }
      order[k + 1] = r;
    }
    return order;
  }
  const f = new Float64Array(n);
  for (let j = 0; j < n; j++) f[j] = values[j] + 0; // -0 → +0, as the comparator sort ties them
  const words = new Uint32Array(f.buffer); // little-endian: [lo, hi] per value
  let order = new Int32Array(n);
  for (let j = 0; j < n; j++) order[j] = j;
  let next = new Int32Array(n);
  const count = new Int32Array(2048);
  for (const [word, shift, bits] of RADIX_PASSES) {
    const mask = (1 << bits) - 1;
    count.fill(0);
    for (let j = 0; j < n; j++) count[(words[2 * j + word] >>> shift) & mask]++;
    if (count[(words[word] >>> shift) & mask] === n) continue; // one digit for all: nothing moves
    let acc = 0;
    for (let d = 0; d <= mask; d++) {
      const c = count[d];
      count[d] = acc;
      acc += c;
    }
    for (let r = 0; r < n; r++) {
      const j = order[r];
      next[count[(words[2 * j + word] >>> shift) & mask]++] = j;
    }
    [order, next] = [next, order];
  }
  return order;
}

const SMALL_SORT = 48;

const EMPTY = new Float64Array(0);
const scratchBuffers = [new Float64Array(1024), new Float64Array(1024)];
/** Reused buffer `i` (of two), of at least `n` doubles, for values needed only inside one call. */
function scratch(i: number, n: number): Float64Array {
  if (scratchBuffers[i].length < n) scratchBuffers[i] = new Float64Array(2 * n);
  return scratchBuffers[i];
}

/** (word, shift, bits) of the six radix digits, least significant first. */
const RADIX_PASSES: readonly [number, number, number][] = [
  [0, 0, 11],
  [0, 11, 11],
  [0, 22, 10],
  [1, 0, 11],
  [1, 11, 11],
  [1, 22, 10],
];

/**
 * Math.min(hi, Math.max(lo, x)) for the widths here (never NaN or -0, where the two could differ),
 * as comparisons: building TPE's bad-group estimator of ~950 kernels in 6-D took 0.123 ms with
 * the Math calls through a closure, 0.110 ms with these.
 */
function clipWidth(x: number, lo: number, hi: number): number {
  return x < lo ? lo : x > hi ? hi : x;
}

/** Per dimension, each kernel's mean, width and term (the prior kernel last), as KernelCache keeps them. */
export interface DimKernels {
  mu: Float64Array;
  sigma: Float64Array;
  /** Continuous: the kernel's constant, -log σ - log √(2π) - log of its mass inside [0, 1]; discrete: that log mass. */
  term: Float64Array;
  /** Continuous only: 1/σ and mean/σ as logPdf reads them. */
  inv: Float64Array;
  muS: Float64Array;
}

/** The constants of kernels at the width floor `minSigma` (most of them at thousands of trials). */
export interface WidthFloor {
  minSigma: number;
  logMin: number;
  invMin: number;
  termMin: number;
}

const floors = new Map<number, WidthFloor>();
export function kernelWidths(minSigma: number): WidthFloor {
  let f = floors.get(minSigma);
  if (!f) {
    const logMin = Math.log(minSigma);
    f = { minSigma, logMin, invMin: 1 / minSigma, termMin: -logMin - LOG_SQRT_2PI };
    if (floors.size < 256) floors.set(minSigma, f);
  }
  return f;
}

/** The log of a kernel's mass inside [0, 1] (mean `mj` in [0, 1], width `s`). */
export function logMassInside(mj: number, s: number): number {
  // Kernel means lie in [0, 1], so the interval straddles the mean: the mass is never tiny
  // and the direct difference is accurate (and much cheaper than the tail-safe form).
  const a = -mj / s;
  const b = (1 - mj) / s;
  // Both tails below 1e-17 (beyond 8.3σ): the mass is 1 to double precision, no erfc needed.
  return a < -8.3 && b > 8.3 ? 0 : a <= 0 && b >= 0 ? Math.log(normCdf(b) - normCdf(a)) : logNormMass(a, b);
}

const INSIDE = 8.3 + 1e-9;

/** A continuous kernel's constant: -log σ - log √(2π) - log of its mass inside [0, 1]. */
export function contTerm(mj: number, s: number, w: WidthFloor): number {
  // At the floor with the mean more than 8.3σ inside both ends (most kernels at thousands of
  // trials): the floor's constant. mean·(1/σ) is within a few ulps of mean/σ, so beyond the
  // margin logMassInside's test passes too: the same value to the bit, without its divisions.
  if (s === w.minSigma && mj * w.invMin > INSIDE && (1 - mj) * w.invMin > INSIDE) return w.termMin;
  return -(s === w.minSigma ? w.logMin : Math.log(s)) - LOG_SQRT_2PI - logMassInside(mj, s);
}

/**
 * The 'neighbor' width of the kernel at sorted position `r` of `n` (values ascending): the
 * distance to the farther neighbour, the cube's ends counting as neighbours, the outermost
 * kernels using their inner neighbour only; times `bf`, clipped to [minSigma, 1].
 */
export function neighborWidth(sorted: ArrayLike<number>, r: number, n: number, bf: number, minSigma: number): number {
  if (n >= 2 && r === 0) return clipWidth((sorted[1] - sorted[0]) * bf, minSigma, 1);
  if (n >= 2 && r === n - 1) return clipWidth((sorted[n - 1] - sorted[n - 2]) * bf, minSigma, 1);
  const here = sorted[r];
  const dl = here - (r === 0 ? 0 : sorted[r - 1]);
  const dr = (r === n - 1 ? 1 : sorted[r + 1]) - here;
  return clipWidth((dl > dr ? dl : dr) * bf, minSigma, 1);
}

/** The width floor for an estimator of `m` kernels (Optuna's magic clip, or none). */
export function minWidth(m: number, magicClip: boolean): number {
  return magicClip ? 1 / Math.min(100, 1 + m) : 1e-12;
}

export class ParzenEstimator {
  readonly m: number;
  private readonly logW: Float64Array;
  private readonly cumW: Float64Array;
  private readonly mu: Float64Array[] = [];
  private readonly sigma: Float64Array[] = [];
  private readonly logZ: Float64Array[] = [];
  private readonly catLogP: Float64Array[] = [];
  private readonly catP: Float64Array[] = [];
  /** Continuous dimensions, component-major: mean/σ and 1/σ at [j * nCont + c]. */
  private readonly contDims: number[];
  private contMuScaled: Float64Array = new Float64Array(0);
  private contInvSigma: Float64Array = new Float64Array(0);
  /** Per component: log weight plus the continuous dimensions' normalising constants. */
  private baseLog = new Float64Array(0);
  /**
   * Set where the wasm kernel evaluates this estimator (many kernels): then the flat arrays
   * above are dimension-major (kernel j of continuous dimension c at [c * m + j]).
   */
  private readonly wasm?: { kernel: KernelExports; data: KernelData };

  /**
   * @param infos the group's dimensions
   * @param columns observations restricted to the group, one column of coordinates per dimension
   * @param weights one per observation (the prior kernel gets `priorWeight` on top)
   * @param sampled false for an estimator only evaluated (TPE's g), which then keeps no
   *   per-kernel means and widths for its continuous dimensions: `sample` needs them, `logPdf` not
   * @param kept what KernelCache keeps between suggestions: per non-categorical dimension, its
   *   kernels' means, widths and terms as this constructor would compute them from `columns`
   *   (computed here where absent), and buffers of at least m × (continuous dimensions) doubles
   *   for the flat arrays logPdf reads, so an estimator rebuilt on every suggestion allocates
   *   none (the estimator is then valid until the cache reuses them)
   */
  constructor(
    readonly infos: readonly DimInfo[],
    columns: readonly Float64Array[],
    weights: ArrayLike<number>,
    o: ParzenOptions,
    private readonly sampled = true,
    kept?: { kernels: readonly (DimKernels | undefined)[]; flat: { inv: Float64Array; muS: Float64Array } },
  ) {
    const n = weights.length;
    const m = n + 1;
    this.m = m;
    let total = o.priorWeight;
    for (let j = 0; j < n; j++) total += weights[j];
    this.logW = new Float64Array(m);
    this.cumW = new Float64Array(m);
    let acc = 0;
    for (let j = 0; j < m; j++) {
      const w = (j < n ? weights[j] : o.priorWeight) / total;
      this.logW[j] = Math.log(w);
      acc += w;
      this.cumW[j] = acc;
    }
    const dims = infos.length;
    this.contDims = infos.map((info, d) => (info.kind === 'cont' ? d : -1)).filter((d) => d >= 0);
    const nc = this.contDims.length;
    // Continuous dimensions go straight into the flat arrays logPdf reads, and their constants
    // into each kernel's base (added in dimension order, as a sum over them would be).
    const flat = kept?.flat;
    const useFlat = flat !== undefined && flat.inv.length >= m * nc && flat.muS.length >= m * nc;
    const invS = (this.contInvSigma = useFlat ? flat.inv.subarray(0, m * nc) : new Float64Array(m * nc));
    const muS = (this.contMuScaled = useFlat ? flat.muS.subarray(0, m * nc) : new Float64Array(m * nc));
    const base = (this.baseLog = Float64Array.from(this.logW));
    const kernel = nc > 0 && m >= WASM_MIN_KERNELS ? parzenKernel() : null;
    if (kernel) this.wasm = { kernel, data: { m, nc, inv: invS, mu: muS, base } };
    // Kernel j of continuous dimension c sits at [first(c) + j * stride] of the flat arrays:
    // dimension-major for the wasm kernel, kernel-major for the JS loop.
    const stride = kernel ? 1 : nc;
    const maxSigma = 1;
    const minSigma = minWidth(m, o.magicClip);
    const bf = o.bandwidthFactor;
    const clip = (x: number) => clipWidth(x * bf, minSigma, maxSigma);
    let c = 0;
    for (let d = 0; d < dims; d++) {
      const info = infos[d];
      if (info.kind === 'cat') {
        const k = info.k;
        const p = new Float64Array(m * k);
        // Aitchison–Aitken style: the observed choice gets 1, every choice prior_weight/(n+1), so
        // the kernel sharpens as evidence accumulates (Optuna 5's categorical kernel).
        const off = o.priorWeight / (n + 1);
        for (let j = 0; j < n; j++) {
          const c = catOf(k, columns[d][j]);
          const rowTotal = 1 + k * off;
          for (let c2 = 0; c2 < k; c2++) p[j * k + c2] = (off + (c2 === c ? 1 : 0)) / rowTotal;
        }
        for (let c2 = 0; c2 < k; c2++) p[n * k + c2] = 1 / k;
        this.catP.push(p);
        this.catLogP.push(p.map(Math.log));
        this.mu.push(EMPTY);
        this.sigma.push(EMPTY);
        this.logZ.push(EMPTY);
        continue;
      }
      this.catP.push(EMPTY);
      this.catLogP.push(EMPTY);
      const keep = sampled || info.kind !== 'cont';
      const given = kept?.kernels[d];
      if (given) {
        const cont = info.kind === 'cont';
        if (cont) {
          const first = kernel ? c * m : c;
          const { term, inv, muS: ms } = given;
          for (let j = 0; j < m; j++) base[j] += term[j];
          if (kernel) {
            invS.set(inv.subarray(0, m), first);
            muS.set(ms.subarray(0, m), first);
          } else {
            for (let j = 0; j < m; j++) {
              invS[first + j * stride] = inv[j];
              muS[first + j * stride] = ms[j];
            }
          }
          c++;
        }
        // Copies: the caller's arrays change with its next update.
        this.mu.push(keep ? given.mu.slice(0, m) : EMPTY);
        this.sigma.push(keep ? given.sigma.slice(0, m) : EMPTY);
        this.logZ.push(cont ? EMPTY : given.term.slice(0, m));
        continue;
      }
      const mu = keep ? new Float64Array(m) : scratch(0, m);
      mu.set(columns[d].subarray(0, n));
      mu[n] = 0.5;
      const sigma = keep ? new Float64Array(m) : scratch(1, m);
      if (o.bandwidth === 'scott') {
        sigma.fill(clip(0.2 * Math.max(n, 1) ** (-1 / (dims + 4))));
      } else {
        // Each kernel's width from its neighbours in value order (neighborWidth, as KernelCache
        // keeps them).
        const order = stableOrder(mu, n);
        const sorted = new Float64Array(n);
        for (let r = 0; r < n; r++) sorted[r] = mu[order[r]];
        for (let r = 0; r < n; r++) sigma[order[r]] = neighborWidth(sorted, r, n, bf, minSigma);
      }
      sigma[n] = 1;
      const cont = info.kind === 'cont';
      const logZ = cont ? EMPTY : new Float64Array(m); // logPdf needs it for discrete cells only
      // Most kernels at thousands of trials sit at the clip: their log σ is one number.
      const first = kernel ? c * m : c;
      const w = kernelWidths(minSigma);
      for (let j = 0; j < m; j++) {
        const s = sigma[j];
        const mj = mu[j];
        if (!cont) {
          logZ[j] = logMassInside(mj, s);
          continue;
        }
        base[j] += contTerm(mj, s, w);
        const inv = s === minSigma ? w.invMin : 1 / s;
        invS[first + j * stride] = inv;
        muS[first + j * stride] = mj * inv;
      }
      if (cont) c++;
      this.mu.push(keep ? mu : EMPTY);
      this.sigma.push(keep ? sigma : EMPTY);
      this.logZ.push(logZ);
    }
  }

  /** Draws `count` points (each a row of group coordinates, snapped to cells). */
  sample(rng: Rng, count: number): number[][] {
    if (!this.sampled) throw new Error('internal: this Parzen estimator was built for evaluation only');
    const out: number[][] = [];
    for (let c = 0; c < count; c++) {
      const r = rng.random();
      let j = 0;
      while (j < this.m - 1 && this.cumW[j] < r) j++;
      const row: number[] = [];
      for (let d = 0; d < this.infos.length; d++) {
        const info = this.infos[d];
        if (info.kind === 'cat') {
          const k = info.k;
          const p = this.catP[d];
          let u = rng.random();
          let choice = k - 1;
          for (let c2 = 0; c2 < k; c2++) {
            u -= p[j * k + c2];
            if (u <= 0) {
              choice = c2;
              break;
            }
          }
          row.push((choice + 0.5) / k);
          continue;
        }
        const mu = this.mu[d][j];
        const s = this.sigma[d][j];
        let x = NaN;
        for (let t = 0; t < 64; t++) {
          const y = rng.normal(mu, s);
          if (y >= 0 && y <= 1) {
            x = y;
            break;
          }
        }
        if (Number.isNaN(x)) x = rng.random();
        row.push(snap(info, x));
      }
      out.push(row);
    }
    return out;
  }

  /** log density (mass, for discrete coordinates) of each row. */
  logPdf(rows: readonly (readonly number[])[]): Float64Array {
    const wasm = this.wasm;
    if (wasm && this.contDims.length === this.infos.length) return kernelLogPdf(wasm.kernel, wasm.data, rows, this.contDims);
    const out = new Float64Array(rows.length);
    const acc = new Float64Array(this.m);
    const dims = this.infos.length;
    const nc = this.contDims.length;
    const xc = new Float64Array(nc);
    const muS = this.contMuScaled;
    const invS = this.contInvSigma;
    const baseLog = this.baseLog;
    const cellTerms: (Map<number, Float64Array> | undefined)[] = [];
    for (let i = 0; i < rows.length; i++) {
      const x = rows[i];
      for (let c = 0; c < nc; c++) xc[c] = x[this.contDims[c]];
      if (nc === dims) {
        // All continuous: a kernel whose partial sum already lies more than PRUNE below the best
        // so far ends below the final maximum by more than logSumExp's cut-off of 40, which skips
        // it: stop at that dimension. Narrow kernels at thousands of trials are mostly far away,
        // so most stop after one or two dimensions; the result is the same to the bit. From the
        // last kernel (the broad prior) down, so the best so far is finite from the start.
        // The kernels that survive fill `acc` from its end, so they lie in ascending index as in
        // the full array, and logSumExp of that tail is the same to the bit without passing over
        // the pruned ones again.
        let best = -Infinity;
        let kept = 0;
        for (let j = this.m - 1; j >= 0; j--) {
          const o = j * nc;
          const base = baseLog[j];
          // base - q/2 < best - PRUNE, as a bound on q (rounding may move a kernel right at the
          // bound to the other side; either way it lies ~PRUNE below the maximum, skipped below).
          const limit = 2 * (base - best + PRUNE);
          let q = 0;
          let c = 0;
          for (; c < nc; c++) {
            const z = xc[c] * invS[o + c] - muS[o + c];
            q += z * z;
            if (q > limit) break;
          }
          if (c < nc) continue;
          const v = base - 0.5 * q;
          acc[this.m - ++kept] = v;
          if (v > best) best = v;
        }
        out[i] = logSumExp(acc.subarray(this.m - kept));
        continue;
      }
      // Continuous dimensions in one pass over flat arrays (the hot loop at thousands of trials).
      if (wasm) kernelValues(wasm.kernel, wasm.data, x, this.contDims, acc);
      else {
        for (let j = 0, o = 0; j < this.m; j++, o += nc) {
          let q = 0;
          for (let c = 0; c < nc; c++) {
            const z = xc[c] * invS[o + c] - muS[o + c];
            q += z * z;
          }
          acc[j] = this.baseLog[j] - 0.5 * q;
        }
      }
      for (let d = 0; d < dims; d++) {
        const info = this.infos[d];
        const u = x[d];
        if (info.kind === 'cont') continue;
        if (info.kind === 'cat') {
          const k = info.k;
          const c = catOf(k, u);
          const lp = this.catLogP[d];
          for (let j = 0; j < this.m; j++) acc[j] += lp[j * k + c];
        } else {
          // Each kernel's log mass over the candidate's cell, computed once per cell in a call:
          // a discrete param has few cells, and a converged study's candidates share them.
          const cell = cellOf(info, u);
          let cache = cellTerms[d];
          if (!cache) cache = cellTerms[d] = new Map();
          let terms = cache.get(cell);
          if (!terms) {
            terms = new Float64Array(this.m);
            const a = info.lo[cell];
            const b = info.hi[cell];
            const mu = this.mu[d];
            const sg = this.sigma[d];
            const lz = this.logZ[d];
            for (let j = 0; j < this.m; j++) terms[j] = logNormMass((a - mu[j]) / sg[j], (b - mu[j]) / sg[j]) - lz[j];
            cache.set(cell, terms);
          }
          for (let j = 0; j < this.m; j++) acc[j] += terms[j];
        }
      }
      out[i] = logSumExp(acc);
    }
    return out;
  }
}
