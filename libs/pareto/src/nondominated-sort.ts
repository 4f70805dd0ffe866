// Non-dominated sorting in loss space (every objective minimised).
//
// Two objectives: a sweep in lexicographic order with a binary search over the fronts' smallest
// second objective, O(n log n). Three: the same sweep, where each front keeps the 2-D staircase
// of its members' (f2, f3) so that "does front k dominate p" is one binary search, about
// O(n log² n). Four or more: Efficient Non-dominated Sort with binary search
// over the fronts (ENS-BS, Zhang et al. 2015): after a lexicographic sort only earlier points can
// dominate later ones, and "some member of front k dominates p" is monotone in k, so each point
// needs O(log F) front checks instead of comparisons with every other point. Worst case O(m n²)
// like Deb's fast non-dominated sort, but O(n) memory and usually far fewer comparisons.

export type LossVector = readonly number[];

/** Throws when points are not all finite-or-infinite numbers of one length. */
export function checkPoints(points: readonly LossVector[], what = 'points'): number {
  if (points.length === 0) return 0;
  const m = points[0].length;
  if (m === 0) throw new RangeError(`${what}: vectors need at least one objective`);
  for (let i = 0; i < points.length; i++) {
    const p = points[i];
    if (p.length !== m) throw new RangeError(`${what}: point ${i} has ${p.length} objectives, expected ${m}`);
    for (let j = 0; j < m; j++) if (Number.isNaN(p[j]) || typeof p[j] !== 'number') throw new RangeError(`${what}: point ${i} objective ${j} is ${p[j]}`);
  }
  return m;
}

function lexOrder(points: readonly LossVector[], m: number): number[] {
  const idx = Array.from({ length: points.length }, (_, i) => i);
  idx.sort((a, b) => {
    const pa = points[a];
    const pb = points[b];
    for (let j = 0; j < m; j++) if (pa[j] !== pb[j]) return pa[j] < pb[j] ? -1 : 1;
    return a - b;
  });
  return idx;
}

function ranks1(points: readonly LossVector[]): number[] {
  const order = lexOrder(points, 1);
  const rank = new Array<number>(points.length);
  let r = -1;
  let last = NaN;
  for (const i of order) {
    if (points[i][0] !== last) {
      r++;
      last = points[i][0];
    }
    rank[i] = r;
  }
  return rank;
}

function ranks2(points: readonly LossVector[]): number[] {
  const order = lexOrder(points, 2);
  const rank = new Array<number>(points.length);
  // minY[k]: the smallest second objective in front k so far; non-decreasing in k.
  const minY: number[] = [];
  let prev = -1;
  for (const i of order) {
    const x = points[i][0];
    const y = points[i][1];
    if (prev >= 0 && points[prev][0] === x && points[prev][1] === y) {
      rank[i] = rank[prev]; // identical points do not dominate each other
      continue;
    }
    // Every earlier unique point q has q.x <= x, and q.y < y when q.x == x, so q dominates
    // p exactly when q.y <= y: front k dominates p iff minY[k] <= y.
    let lo = 0;
    let hi = minY.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (minY[mid] <= y) lo = mid + 1;
      else hi = mid;
    }
    if (lo === minY.length) minY.push(y);
    else minY[lo] = y;
    rank[i] = lo;
    prev = i;
  }
  return rank;
}

/** Sorted (f2 ascending, f3 strictly descending) members of one front, projected on (f2, f3). */
interface Staircase {
  ys: number[];
  zs: number[];
}

/** Index of the last step with y <= value, or -1. */
function lastAtOrBelow(ys: number[], value: number): number {
  let lo = 0;
  let hi = ys.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (ys[mid] <= value) lo = mid + 1;
    else hi = mid;
  }
  return lo - 1;
}

function ranks3(points: readonly LossVector[]): number[] {
  const order = lexOrder(points, 3);
  const rank = new Array<number>(points.length);
  const fronts: Staircase[] = [];
  // Earlier unique points have f1 <= p's (and differ from p), so q dominates p iff q2 <= p2 and
  // q3 <= p3; among a front's members the staircase step with the largest f2 <= p2 has the
  // smallest f3 of them.
  const dominates = (f: Staircase, y: number, z: number) => {
    const k = lastAtOrBelow(f.ys, y);
    return k >= 0 && f.zs[k] <= z;
  };
  let prev = -1;
  for (const i of order) {
    const p = points[i];
    if (prev >= 0 && points[prev][0] === p[0] && points[prev][1] === p[1] && points[prev][2] === p[2]) {
      rank[i] = rank[prev];
      continue;
    }
    const y = p[1];
    const z = p[2];
    let lo = 0;
    let hi = fronts.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (dominates(fronts[mid], y, z)) lo = mid + 1;
      else hi = mid;
    }
    if (lo === fronts.length) fronts.push({ ys: [], zs: [] });
    const f = fronts[lo];
    // p is not dominated by this front's steps: drop the steps it dominates in (f2, f3), which
    // follow it in f2 order, and insert it.
    let at = lastAtOrBelow(f.ys, y) + 1;
    if (at > 0 && f.ys[at - 1] === y) at--; // same f2, larger f3: dominated by p
    let end = at;
    while (end < f.ys.length && f.zs[end] >= z) end++;
    f.ys.splice(at, end - at, y);
    f.zs.splice(at, end - at, z);
    rank[i] = lo;
    prev = i;
  }
  return rank;
}

function ranksN(points: readonly LossVector[], m: number): number[] {
  const order = lexOrder(points, m);
  const rank = new Array<number>(points.length);
  const fronts: number[][] = [];
  // q precedes p lexicographically, so q[0] <= p[0]; q dominates p iff it is no worse
  // everywhere else and not identical.
  const dominatedByFront = (front: number[], p: LossVector): boolean => {
    outer: for (let f = front.length - 1; f >= 0; f--) {
      const q = points[front[f]];
      let equal = q[0] === p[0];
      for (let j = 1; j < m; j++) {
        if (q[j] > p[j]) continue outer;
        if (q[j] < p[j]) equal = false;
      }
      if (!equal) return true;
    }
    return false;
  };
  for (const i of order) {
    const p = points[i];
    let lo = 0;
    let hi = fronts.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (dominatedByFront(fronts[mid], p)) lo = mid + 1;
      else hi = mid;
    }
    if (lo === fronts.length) fronts.push([]);
    fronts[lo].push(i);
    rank[i] = lo;
  }
  return rank;
}

/**
 * The front rank of every point: 0 for the non-dominated ones, 1 for those dominated only by rank 0, …
 * With `violations` (one per point; > 0 is infeasible), constraint domination as in NSGA-II
 * (Deb 2002): every feasible point comes before every infeasible one, and infeasible points rank
 * by their violation alone (smaller first, equal ones share a rank).
 */
export function frontRanks(points: readonly LossVector[], options: { violations?: readonly number[] } = {}): number[] {
  const v = options.violations;
  if (v && v.some((x) => x > 0)) return constrainedRanks(points, v);
  const m = checkPoints(points);
  if (points.length === 0) return [];
  if (m === 1) return ranks1(points);
  if (m === 2) return ranks2(points);
  if (m === 3) return ranks3(points);
  return ranksN(points, m);
}

function constrainedRanks(points: readonly LossVector[], violations: readonly number[]): number[] {
  if (violations.length !== points.length) throw new Error(`frontRanks: ${violations.length} violations for ${points.length} points`);
  const feasible = points.flatMap((_, i) => (violations[i] > 0 ? [] : [i]));
  const rank = new Array<number>(points.length).fill(0);
  const inner = frontRanks(feasible.map((i) => points[i]));
  inner.forEach((r, k) => (rank[feasible[k]] = r));
  const offset = inner.length ? Math.max(...inner) + 1 : 0;
  const levels = [...new Set(violations.filter((x) => x > 0))].sort((a, b) => a - b);
  const level = new Map(levels.map((x, k) => [x, k]));
  violations.forEach((x, i) => {
    if (x > 0) rank[i] = offset + level.get(x)!;
  });
  return rank;
}

/** Indices of the points grouped by front (first front first), ascending within a front. */
export function nonDominatedSort(points: readonly LossVector[]): number[][] {
  const rank = frontRanks(points);
  const fronts: number[][] = [];
  rank.forEach((r, i) => {
    (fronts[r] ??= []).push(i);
  });
  return fronts;
}

/** Indices of the non-dominated points (identical copies all kept), ascending. */
export function paretoFront(points: readonly LossVector[]): number[] {
  const m = checkPoints(points);
  if (points.length === 0) return [];
  if (m === 2) {
    // A single sweep is enough for the first front: keep a point when its y is below every
    // earlier (lexicographically smaller) point's, or it repeats the last kept point.
    const order = lexOrder(points, 2);
    const out: number[] = [];
    let bestY = Infinity;
    let last: LossVector | undefined;
    for (const i of order) {
      const p = points[i];
      if (last === undefined || p[1] < bestY) {
        out.push(i);
        bestY = p[1];
        last = p;
      } else if (last && p[0] === last[0] && p[1] === last[1]) out.push(i);
    }
    return out.sort((a, b) => a - b);
  }
  const rank = frontRanks(points);
  return rank.flatMap((r, i) => (r === 0 ? [i] : []));
}
