import type { Observation } from './observations';
import { ParzenEstimator, contTerm, kernelWidths, logMassInside, minWidth, neighborWidth, stableOrder, type DimInfo, type DimKernels, type ParzenOptions } from './parzen';

// TPE's bad-group estimator holds a kernel per observation outside the good group: at a
// thousand trials nearly a thousand kernels, rebuilt on every suggestion, and that build (every
// kernel's width from its neighbours, its normalising constant, the flat arrays) was the largest
// part of a suggestion. From one suggestion to the next the group barely changes: the trial that
// just finished joins it, now and then one trial moves between the groups. A kernel's width
// depends only on its neighbours along each dimension, so a change touches a handful of kernels.
// KernelCache keeps each dimension's kernels sorted by value, with their widths and terms, and
// applies the changes one by one, recomputing the kernels beside each; the estimator it hands out
// holds exactly the values a fresh build would (the same functions of the same neighbours, the
// same weights computed afresh), so the sampler stays a function of the history alone: the cache
// changes the cost, never the result. kernel-cache.test.ts checks that to the bit.

/** Above this many changes since the last build, a fresh build is as cheap. */
const MAX_EDITS = 16;

interface DimState {
  /** Per kernel (index = position in the group's observation order; the prior kernel at n). */
  mu: Float64Array;
  sigma: Float64Array;
  term: Float64Array;
  inv: Float64Array;
  muS: Float64Array;
  /** Non-categorical dimensions: the kernels' values ascending, ties by kernel index, and those indices. */
  sv: Float64Array;
  sk: Int32Array;
}

export class KernelCache {
  private infos: readonly DimInfo[] = [];
  private dims: readonly number[] = [];
  private opts?: ParzenOptions;
  private minSigma = NaN;
  private held: Observation[] = [];
  private state: DimState[] = [];
  private cap = 0;
  /** The flat arrays of the estimator handed out last (valid until the next call). */
  private flat = { inv: new Float64Array(0), muS: new Float64Array(0) };
  /** How the last estimator was made, for tests: 'fresh' (built from nothing) or the number of changes applied. */
  lastUpdate: 'fresh' | number = 'fresh';

  /**
   * The estimator over `xs` (one kernel each, in this order, `dims` of each point), only
   * evaluated (TPE's g): new ParzenEstimator(infos, columns, weights, o, false) to the bit.
   * Needs the 'neighbor' bandwidth. It shares buffers with this cache: valid until the next call.
   */
  estimator(infos: readonly DimInfo[], dims: readonly number[], xs: readonly Observation[], weights: ArrayLike<number>, o: ParzenOptions): ParzenEstimator {
    if (o.bandwidth !== 'neighbor') throw new Error('internal: KernelCache needs the neighbor bandwidth');
    const n = xs.length;
    const minSigma = minWidth(n + 1, o.magicClip);
    const same =
      this.opts !== undefined &&
      this.opts.priorWeight === o.priorWeight &&
      this.opts.magicClip === o.magicClip &&
      this.opts.bandwidthFactor === o.bandwidthFactor &&
      this.minSigma === minSigma &&
      this.infos.length === infos.length &&
      this.infos.every((x, i) => x === infos[i]) &&
      this.dims.length === dims.length &&
      this.dims.every((x, i) => x === dims[i]);
    if (!same || !this.update(xs)) this.rebuild(infos, dims, xs, o, minSigma);
    this.ensure(n + 1);
    // The prior kernel, last: centred, width 1.
    const w = kernelWidths(minSigma);
    const kernels: (DimKernels | undefined)[] = [];
    const columns: Float64Array[] = [];
    for (let d = 0; d < infos.length; d++) {
      const st = this.state[d];
      const info = infos[d];
      columns.push(st.mu.subarray(0, n));
      if (info.kind === 'cat') {
        kernels.push(undefined);
        continue;
      }
      st.mu[n] = 0.5;
      st.sigma[n] = 1;
      this.setTerms(info, st, n, w);
      kernels.push(st);
    }
    const size = (n + 1) * infos.filter((x) => x.kind === 'cont').length;
    if (this.flat.inv.length < size) this.flat = { inv: new Float64Array(2 * size), muS: new Float64Array(2 * size) };
    return new ParzenEstimator(infos, columns, weights, o, false, { kernels, flat: this.flat });
  }

  private ensure(size: number): void {
    if (size <= this.cap) return;
    const cap = Math.max(64, 2 * size);
    for (const st of this.state) {
      for (const k of ['mu', 'sigma', 'term', 'inv', 'muS', 'sv'] as const) {
        const a = new Float64Array(cap);
        a.set(st[k]);
        st[k] = a;
      }
      const sk = new Int32Array(cap);
      sk.set(st.sk);
      st.sk = sk;
    }
    this.cap = cap;
  }

  private setTerms(info: DimInfo, st: DimState, k: number, w: ReturnType<typeof kernelWidths>): void {
    const mj = st.mu[k];
    const s = st.sigma[k];
    if (info.kind === 'cont') {
      st.term[k] = contTerm(mj, s, w);
      const inv = s === w.minSigma ? w.invMin : 1 / s;
      st.inv[k] = inv;
      st.muS[k] = mj * inv;
    } else st.term[k] = logMassInside(mj, s);
  }

  /** Recomputes the width and terms of the kernel at sorted position `r` of dimension `d`. */
  private rewidth(d: number, r: number, n: number): void {
    const st = this.state[d];
    const k = st.sk[r];
    st.sigma[k] = neighborWidth(st.sv, r, n, this.opts!.bandwidthFactor, this.minSigma);
    this.setTerms(this.infos[d], st, k, kernelWidths(this.minSigma));
  }

  private rebuild(infos: readonly DimInfo[], dims: readonly number[], xs: readonly Observation[], o: ParzenOptions, minSigma: number): void {
    this.infos = infos.slice();
    this.dims = dims.slice();
    this.opts = { ...o };
    this.minSigma = minSigma;
    this.held = xs.slice();
    this.lastUpdate = 'fresh';
    const n = xs.length;
    const cap = Math.max(64, 2 * (n + 1));
    this.cap = cap;
    this.state = infos.map((info, c) => {
      const st: DimState = {
        mu: new Float64Array(cap),
        sigma: new Float64Array(cap),
        term: new Float64Array(cap),
        inv: new Float64Array(cap),
        muS: new Float64Array(cap),
        sv: new Float64Array(cap),
        sk: new Int32Array(cap),
      };
      const dim = dims[c];
      for (let j = 0; j < n; j++) st.mu[j] = xs[j].point[dim];
      if (info.kind === 'cat') return st;
      const order = stableOrder(st.mu, n);
      for (let r = 0; r < n; r++) {
        st.sk[r] = order[r];
        st.sv[r] = st.mu[order[r]];
      }
      return st;
    });
    for (let d = 0; d < infos.length; d++) if (infos[d].kind !== 'cat') for (let r = 0; r < n; r++) this.rewidth(d, r, n);
  }

  /**
   * Applies the changes from the held observations to `xs` (both in trial-number order, as TPE's
   * groups are): false, with nothing applied, when there are too many, or when the order or a
   * kept observation's point differs (then the caller rebuilds).
   */
  private update(xs: readonly Observation[]): boolean {
    const old = this.held;
    // The changes in order, each at its place in xs: before each, the arrays hold xs[0..at) and
    // then the held observations not yet passed; `x` is inserted there, or, without one, the
    // next held kernel removed.
    const ops: { at: number; x?: Observation }[] = [];
    let prefix = 0;
    const shorter = Math.min(old.length, xs.length);
    while (prefix < shorter && old[prefix] === xs[prefix]) prefix++;
    if (prefix === old.length) {
      // The usual step, the same observations with new ones after them: no merge to plan.
      if (xs.length - prefix > MAX_EDITS) return false;
      for (let j = prefix; j < xs.length; j++) {
        if (j > 0 && xs[j - 1].trial.number >= xs[j].trial.number) return false; // not in number order
        ops.push({ at: j, x: xs[j] });
      }
    } else {
      // A merge by trial number.
      let i = 0;
      let j = 0;
      while (i < old.length || j < xs.length) {
        const a = i < old.length ? old[i] : undefined;
        const b = j < xs.length ? xs[j] : undefined;
        if (a && b && a.trial.number === b.trial.number) {
          if (a !== b && !this.samePoint(a, b)) return false;
          i++;
          j++;
        } else if (a && (!b || a.trial.number < b.trial.number)) {
          ops.push({ at: j });
          i++;
        } else {
          if (j > 0 && xs[j - 1].trial.number >= b!.trial.number) return false; // not in number order
          ops.push({ at: j, x: b });
          j++;
        }
        if (ops.length > MAX_EDITS) return false;
      }
    }
    let n = old.length;
    for (const op of ops) {
      if (op.x) {
        this.ensure(n + 2);
        this.insert(op.at, op.x, n++);
      } else this.remove(op.at, n--);
    }
    this.held = xs.slice();
    this.lastUpdate = ops.length;
    return true;
  }

  private samePoint(a: Observation, b: Observation): boolean {
    for (const dim of this.dims) if (!Object.is(a.point[dim], b.point[dim])) return false;
    return true;
  }

  /** Removes kernel `k` of `n`. */
  private remove(k: number, n: number): void {
    for (let d = 0; d < this.infos.length; d++) {
      const st = this.state[d];
      if (this.infos[d].kind !== 'cat') {
        let r = 0;
        while (st.sk[r] !== k) r++;
        st.sv.copyWithin(r, r + 1, n);
        st.sk.copyWithin(r, r + 1, n);
        if (k < n - 1) for (let q = 0; q < n - 1; q++) if (st.sk[q] > k) st.sk[q]--;
        if (k < n - 1) for (const a of [st.mu, st.sigma, st.term, st.inv, st.muS]) a.copyWithin(k, k + 1, n);
        if (r - 1 >= 0) this.rewidth(d, r - 1, n - 1);
        if (r < n - 1) this.rewidth(d, r, n - 1);
      } else st.mu.copyWithin(k, k + 1, n);
    }
  }

  /** Inserts `x` as kernel `k`, `n` kernels held before. */
  private insert(k: number, x: Observation, n: number): void {
    for (let d = 0; d < this.infos.length; d++) {
      const st = this.state[d];
      const v = x.point[this.dims[d]];
      if (this.infos[d].kind !== 'cat') {
        if (k < n) for (const a of [st.mu, st.sigma, st.term, st.inv, st.muS]) a.copyWithin(k + 1, k, n);
        st.mu[k] = v;
        if (k < n) for (let q = 0; q < n; q++) if (st.sk[q] >= k) st.sk[q]++;
        // After every smaller value, and after equal ones of a smaller index (stableOrder's ties).
        let a = 0;
        let b = n;
        while (a < b) {
          const mid = (a + b) >> 1;
          if (st.sv[mid] < v || (st.sv[mid] === v && st.sk[mid] < k)) a = mid + 1;
          else b = mid;
        }
        st.sv.copyWithin(a + 1, a, n);
        st.sk.copyWithin(a + 1, a, n);
        st.sv[a] = v;
        st.sk[a] = k;
        for (let r = Math.max(0, a - 1); r <= Math.min(n, a + 1); r++) this.rewidth(d, r, n + 1);
      } else {
        st.mu.copyWithin(k + 1, k, n);
        st.mu[k] = v;
      }
    }
  }
}
