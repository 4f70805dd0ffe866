import { checkPoints, paretoFront, type LossVector } from './nondominated-sort';
import { StaircaseTree } from './staircase-tree';

// Exact hypervolume in loss space (every objective minimised): the measure of the region that
// the points dominate and that dominates the reference point. Points that do not strictly
// dominate the reference point add nothing.
//
// - 1 objective: r - min.
// - 2 objectives: a sweep over the sorted staircase, O(n log n).
// - 3 objectives: the dimension sweep of Beume et al. (2009) — points by ascending third
//   objective, a balanced tree holding the 2-D staircase and its area — O(n log n).
// - 4 or more: WFG (While, Bradstreet & Barone 2012): HV = Σ exclusive contributions with the
//   points sorted worst-first on the last objective, so that each "limit set" shares that
//   objective and its hypervolume is a slice of one fewer dimension, recursing down to the 3-D
//   sweep.

function inside(points: readonly LossVector[], r: readonly number[]): number[][] {
  const out: number[][] = [];
  for (const p of points) {
    let ok = true;
    for (let j = 0; j < r.length; j++) {
      if (!(p[j] < r[j])) {
        ok = false;
        break;
      }
    }
    if (ok) out.push(p.slice());
  }
  return out;
}

/** The non-dominated points of a set, with duplicates removed. */
function nondominatedUnique(points: number[][]): number[][] {
  if (points.length <= 1) return points;
  const front = paretoFront(points).map((i) => points[i]);
  front.sort((a, b) => {
    for (let j = 0; j < a.length; j++) if (a[j] !== b[j]) return a[j] - b[j];
    return 0;
  });
  return front.filter((p, i) => i === 0 || p.some((v, j) => v !== front[i - 1][j]));
}

function hv2(points: number[][], r: readonly number[]): number {
  const ps = points.slice().sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let hv = 0;
  let y = r[1];
  let i = 0;
  while (i < ps.length) {
    const [x0, y0] = ps[i];
    if (y0 >= y) {
      i++;
      continue;
    }
    // The next point that lowers the staircase ends this point's column.
    let k = i + 1;
    while (k < ps.length && ps[k][1] >= y0) k++;
    const x1 = k < ps.length ? ps[k][0] : r[0];
    hv += (x1 - x0) * (r[1] - y0);
    y = y0;
    i = k;
  }
  return hv;
}

function hv3(points: number[][], r: readonly number[]): number {
  if (points.length === 0) return 0;
  const ps = points.slice().sort((a, b) => a[2] - b[2]);
  const tree = new StaircaseTree();
  let area = 0;
  let volume = 0;
  let z = ps[0][2];
  for (const p of ps) {
    volume += area * (p[2] - z);
    z = p[2];
    area += tree.insert(p[0], p[1], r[0], r[1]);
  }
  return volume + area * (r[2] - z);
}

function hvRec(points: number[][], r: readonly number[]): number {
  const m = r.length;
  if (points.length === 0) return 0;
  if (m === 1) return r[0] - Math.min(...points.map((p) => p[0]));
  if (m === 2) return hv2(points, r);
  if (m === 3) return hv3(points, r);
  if (points.length === 1) return points[0].reduce((s, v, j) => s * (r[j] - v), 1);
  const last = m - 1;
  const ps = points.slice().sort((a, b) => b[last] - a[last]);
  const rLow = r.slice(0, last);
  let total = 0;
  for (let k = 0; k < ps.length; k++) {
    const p = ps[k];
    let incl = 1;
    for (let j = 0; j < m; j++) incl *= r[j] - p[j];
    if (k === ps.length - 1) {
      total += incl;
      break;
    }
    // Later points are no worse on the last objective, so max(p, q) keeps p's last value: the
    // limit set is a slice of thickness r_last - p_last over an (m-1)-D set.
    const limit: number[][] = [];
    for (let j = k + 1; j < ps.length; j++) {
      const q = ps[j];
      const l = new Array<number>(last);
      for (let d = 0; d < last; d++) l[d] = q[d] > p[d] ? q[d] : p[d];
      limit.push(l);
    }
    total += incl - (r[last] - p[last]) * hvRec(nondominatedUnique(limit), rLow);
  }
  return total;
}

/** Exact hypervolume of `points` (loss space) against the reference point `reference`. */
export function hypervolume(points: readonly LossVector[], reference: readonly number[]): number {
  const m = checkPoints(points, 'hypervolume');
  if (points.length === 0) return 0;
  if (reference.length !== m) throw new RangeError(`hypervolume: reference point has ${reference.length} objectives, points have ${m}`);
  if (reference.some((v) => Number.isNaN(v))) throw new RangeError('hypervolume: reference point has NaN');
  const ps = inside(points, reference);
  return hvRec(m >= 4 ? nondominatedUnique(ps) : ps, reference);
}

/**
 * Each point's exclusive contribution: how much the hypervolume drops without it. Dominated
 * points, duplicates and points outside the reference box contribute 0; a point's contribution
 * shrinks where points that only it dominates take over. Two objectives: each staircase step
 * owns the rectangle up to its neighbours, less the hypervolume of the points inside that
 * rectangle, O(n log n) overall. More objectives: inclusive volume minus the hypervolume of the
 * limit set against every other point, one m-D hypervolume per front point.
 */
export function hypervolumeContributions(points: readonly LossVector[], reference: readonly number[]): number[] {
  const m = checkPoints(points, 'hypervolumeContributions');
  const n = points.length;
  const out = new Array<number>(n).fill(0);
  if (n === 0) return out;
  if (reference.length !== m) throw new RangeError(`hypervolumeContributions: reference point has ${reference.length} objectives, points have ${m}`);
  const boxed: number[] = [];
  for (let i = 0; i < n; i++) if (points[i].every((v, j) => v < reference[j])) boxed.push(i);
  const front = paretoFront(boxed.map((i) => points[i])).map((k) => boxed[k]);
  // Copies of one vector contribute nothing: removing one leaves the other.
  const key = (i: number) => points[i].join(',');
  const count = new Map<string, number>();
  for (const i of front) count.set(key(i), (count.get(key(i)) ?? 0) + 1);
  if (m === 1) {
    if (front.length === 1) {
      const i = front[0];
      let second = reference[0];
      for (const j of boxed) if (j !== i && points[j][0] < second) second = points[j][0];
      out[i] = second - points[i][0];
    }
    return out;
  }
  if (m === 2) {
    const steps: number[] = [];
    for (const i of front.slice().sort((a, b) => points[a][0] - points[b][0])) {
      if (steps.length === 0 || key(steps[steps.length - 1]) !== key(i)) steps.push(i);
    }
    const xs = steps.map((i) => points[i][0]);
    // Points off the front fall into at most one step's rectangle [x_k, x_k+1) × [y_k, y_k-1).
    const inside: number[][][] = steps.map(() => []);
    const onFront = new Set(front);
    for (const j of boxed) {
      if (onFront.has(j)) continue;
      const [qx, qy] = points[j];
      let lo = 0;
      let hi = xs.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (xs[mid] <= qx) lo = mid + 1;
        else hi = mid;
      }
      const k = lo - 1;
      const above = k > 0 ? points[steps[k - 1]][1] : reference[1];
      if (k >= 0 && qy < above) inside[k].push([qx, qy]);
    }
    steps.forEach((i, k) => {
      if (count.get(key(i))! > 1) return;
      const right = k + 1 < steps.length ? xs[k + 1] : reference[0];
      const above = k > 0 ? points[steps[k - 1]][1] : reference[1];
      const rect = (right - points[i][0]) * (above - points[i][1]);
      out[i] = rect - (inside[k].length ? hv2(inside[k], [right, above]) : 0);
    });
    return out;
  }
  for (const i of front) {
    if (count.get(key(i))! > 1) continue;
    const p = points[i];
    let incl = 1;
    for (let j = 0; j < m; j++) incl *= reference[j] - p[j];
    const limit: number[][] = [];
    for (const j of boxed) if (j !== i) limit.push(points[j].map((v, d) => (v > p[d] ? v : p[d])));
    out[i] = incl - hvRec(nondominatedUnique(limit), reference);
  }
  return out;
}

/**
 * A reference point for comparing fronts when none is given: the nadir of the points plus
 * `margin` times their range on each objective (a range of 0 counts as 1).
 */
export function defaultReferencePoint(points: readonly LossVector[], margin = 0.1): number[] {
  const m = checkPoints(points, 'defaultReferencePoint');
  if (points.length === 0) throw new RangeError('defaultReferencePoint: no points');
  const out: number[] = [];
  for (let j = 0; j < m; j++) {
    let lo = Infinity;
    let hi = -Infinity;
    for (const p of points) {
      if (p[j] < lo) lo = p[j];
      if (p[j] > hi) hi = p[j];
    }
    const range = hi - lo;
    out.push(hi + margin * (range > 0 && Number.isFinite(range) ? range : 1));
  }
  return out;
}
