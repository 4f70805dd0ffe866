import { Rng } from '@segtune/core';
import type { ImportanceData } from './importance-data';

export interface FanovaOptions {
  /** Trees in the forest (Optuna's n_trees). */
  trees?: number;
  /** Deepest split (Optuna's max_depth). */
  maxDepth?: number;
  /** Fewest (bootstrap-weighted) trials in a leaf (Optuna's min_samples_leaf). */
  minLeaf?: number;
  seed?: number;
}

const DEFAULTS = { trees: 64, maxDepth: 64, minLeaf: 1, seed: 0 };

/**
 * fANOVA (Hutter, Hoos and Leyton-Brown, ICML 2014), as Optuna's FanovaImportanceEvaluator:
 * a random forest of regression trees, each grown on a bootstrap resample of the trials, and
 * for every tree the exact share of its variance over the unit cube that each param's main
 * effect explains. Returns that share per tree: `perTree[t * d + j]` (NaN for a constant tree).
 *
 * The forest is our own: no maintained JavaScript random-forest library grows 64 deep trees on
 * 10,000 trials in a few seconds (ml-random-forest copies the data per node and sorts at every
 * split), and fANOVA needs each leaf's box, which libraries do not expose. This one sorts each
 * param's column once, keeps every node's trials as ranges of those sorted index arrays
 * (partitioned stably on each split), and records each leaf's box as it grows.
 *
 * A conditional param is a coordinate in [0, 1] where the inactive trials sit at q/2 and the
 * active ones on [q, 1] (q = the share of inactive trials), so the uniform measure of the
 * variance decomposition gives "inactive" the weight it has among the trials.
 */
export function fanovaPerTree(data: ImportanceData, options: FanovaOptions = {}): { perTree: Float64Array; trees: number } {
  const { trees, maxDepth, minLeaf, seed } = { ...DEFAULTS, ...options };
  const d = data.names.length;
  const n = data.loss.length;
  const x = data.columns.map((col) => {
    let inactive = 0;
    for (let i = 0; i < n; i++) if (Number.isNaN(col[i])) inactive++;
    const q = inactive / n;
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) out[i] = Number.isNaN(col[i]) ? q / 2 : q + (1 - q) * col[i];
    return out;
  });
  const y = data.loss;
  // One sort per param for the whole forest.
  const order = x.map((col) => {
    const idx = new Int32Array(n);
    for (let i = 0; i < n; i++) idx[i] = i;
    return idx.sort((a, b) => col[a] - col[b]);
  });
  const rng = new Rng(`fanova/${seed}`);
  const perTree = new Float64Array(trees * d);
  const grower = new TreeGrower(x, y, order, maxDepth, minLeaf);
  for (let t = 0; t < trees; t++) {
    const weight = new Float64Array(n);
    for (let i = 0; i < n; i++) weight[rng.int(n)] += 1;
    const leaves = grower.grow(weight);
    decompose(leaves, d, perTree.subarray(t * d, (t + 1) * d));
  }
  return { perTree, trees };
}

/** A tree's leaves: value and box [lo, hi] per param, flattened. */
interface Leaves {
  count: number;
  value: Float64Array;
  lo: Float64Array;
  hi: Float64Array;
}

class TreeGrower {
  private readonly d: number;
  private readonly n: number;
  private sorted: Int32Array[] = [];
  private readonly buffer: Int32Array;
  private readonly left: Uint8Array;

  constructor(
    private readonly x: Float64Array[],
    private readonly y: Float64Array,
    private readonly order: Int32Array[],
    private readonly maxDepth: number,
    private readonly minLeaf: number,
  ) {
    this.d = x.length;
    this.n = y.length;
    this.buffer = new Int32Array(this.n);
    this.left = new Uint8Array(this.n);
  }

  grow(weight: Float64Array): Leaves {
    const { d } = this;
    // The trials this tree saw, in each param's sorted order.
    let m = 0;
    for (let i = 0; i < this.n; i++) if (weight[i] > 0) m++;
    this.sorted = this.order.map((o) => {
      const s = new Int32Array(m);
      let k = 0;
      for (let i = 0; i < o.length; i++) if (weight[o[i]] > 0) s[k++] = o[i];
      return s;
    });
    const leaves: Leaves = { count: 0, value: new Float64Array(m), lo: new Float64Array(m * d), hi: new Float64Array(m * d) };
    // Depth-first with an explicit stack: [start, end, depth, box].
    const stack: { start: number; end: number; depth: number; lo: Float64Array; hi: Float64Array }[] = [
      { start: 0, end: m, depth: 0, lo: new Float64Array(d), hi: new Float64Array(d).fill(1) },
    ];
    while (stack.length) {
      const node = stack.pop()!;
      const split = this.bestSplit(node.start, node.end, weight, node.depth);
      if (!split) {
        const l = leaves.count++;
        leaves.value[l] = this.mean(node.start, node.end, weight);
        leaves.lo.set(node.lo, l * d);
        leaves.hi.set(node.hi, l * d);
        continue;
      }
      const mid = this.partition(node.start, node.end, split.feature, split.position);
      const loR = node.lo.slice();
      const hiL = node.hi.slice();
      hiL[split.feature] = split.threshold;
      loR[split.feature] = split.threshold;
      stack.push({ start: node.start, end: mid, depth: node.depth + 1, lo: node.lo, hi: hiL });
      stack.push({ start: mid, end: node.end, depth: node.depth + 1, lo: loR, hi: node.hi });
    }
    return leaves;
  }

  private mean(start: number, end: number, weight: Float64Array): number {
    const s = this.sorted[0];
    let w = 0;
    let sy = 0;
    for (let k = start; k < end; k++) {
      const i = s[k];
      w += weight[i];
      sy += weight[i] * this.y[i];
    }
    return sy / w;
  }

  /** The split that lowers the weighted squared error most, or undefined for a leaf. */
  private bestSplit(start: number, end: number, weight: Float64Array, depth: number): { feature: number; position: number; threshold: number } | undefined {
    if (depth >= this.maxDepth || end - start < 2) return undefined;
    const { y, minLeaf } = this;
    const s0 = this.sorted[0];
    let W = 0;
    let S = 0;
    let yMin = Infinity;
    let yMax = -Infinity;
    for (let k = start; k < end; k++) {
      const i = s0[k];
      W += weight[i];
      S += weight[i] * y[i];
      if (y[i] < yMin) yMin = y[i];
      if (y[i] > yMax) yMax = y[i];
    }
    if (W < 2 * minLeaf || yMin === yMax) return undefined;
    // Maximise S_L²/W_L + S_R²/W_R, which is minimising the children's squared error.
    const parent = (S * S) / W;
    let best = parent + 1e-12 * Math.abs(parent);
    let found: { feature: number; position: number; threshold: number } | undefined;
    for (let j = 0; j < this.d; j++) {
      const s = this.sorted[j];
      const xj = this.x[j];
      if (xj[s[start]] === xj[s[end - 1]]) continue;
      let wl = 0;
      let sl = 0;
      for (let k = start; k < end - 1; k++) {
        const i = s[k];
        wl += weight[i];
        sl += weight[i] * y[i];
        const a = xj[i];
        const b = xj[s[k + 1]];
        if (a === b || wl < minLeaf || W - wl < minLeaf) continue;
        const sr = S - sl;
        const score = (sl * sl) / wl + (sr * sr) / (W - wl);
        if (score > best) {
          best = score;
          found = { feature: j, position: k + 1, threshold: (a + b) / 2 };
        }
      }
    }
    return found;
  }

  /** Splits [start, end) of every sorted array at the threshold, stably; returns the boundary. */
  private partition(start: number, end: number, feature: number, position: number): number {
    const { left, buffer } = this;
    const s = this.sorted[feature];
    for (let k = start; k < end; k++) left[s[k]] = k < position ? 1 : 0;
    for (let j = 0; j < this.d; j++) {
      if (j === feature) continue;
      const a = this.sorted[j];
      let l = start;
      let r = 0;
      for (let k = start; k < end; k++) {
        const i = a[k];
        if (left[i]) a[l++] = i;
        else buffer[r++] = i;
      }
      a.set(buffer.subarray(0, r), l);
    }
    return position;
  }
}

/**
 * The exact main-effect variance shares of one tree over the unit cube: for param j the
 * marginal prediction is constant between consecutive split points on j, and each leaf adds its
 * value times the volume of its box in the other params to the cells its j-range covers
 * (a difference array, so a tree costs O(leaves · d · log leaves)).
 */
function decompose(leaves: Leaves, d: number, out: Float64Array): void {
  const { count, value, lo, hi } = leaves;
  const vol = new Float64Array(count);
  let mean = 0;
  for (let l = 0; l < count; l++) {
    let v = 1;
    for (let j = 0; j < d; j++) v *= hi[l * d + j] - lo[l * d + j];
    vol[l] = v;
    mean += v * value[l];
  }
  let total = 0;
  for (let l = 0; l < count; l++) total += vol[l] * (value[l] - mean) ** 2;
  if (!(total > 1e-300)) {
    out.fill(NaN);
    return;
  }
  for (let j = 0; j < d; j++) {
    const edges = new Float64Array(2 * count + 2);
    for (let l = 0; l < count; l++) {
      edges[2 * l] = lo[l * d + j];
      edges[2 * l + 1] = hi[l * d + j];
    }
    edges[2 * count] = 0;
    edges[2 * count + 1] = 1;
    edges.sort();
    let u = 0;
    for (let k = 0; k < edges.length; k++) if (k === 0 || edges[k] !== edges[u - 1]) edges[u++] = edges[k];
    const points = edges.subarray(0, u);
    const diff = new Float64Array(u);
    for (let l = 0; l < count; l++) {
      const width = hi[l * d + j] - lo[l * d + j];
      if (width <= 0) continue;
      const c = (value[l] * vol[l]) / width;
      diff[search(points, lo[l * d + j])] += c;
      diff[search(points, hi[l * d + j])] -= c;
    }
    let acc = 0;
    let v = 0;
    for (let k = 0; k < u - 1; k++) {
      acc += diff[k];
      v += (points[k + 1] - points[k]) * (acc - mean) ** 2;
    }
    out[j] = v / total;
  }
}

function search(a: Float64Array, x: number): number {
  let lo = 0;
  let hi = a.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (a[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
