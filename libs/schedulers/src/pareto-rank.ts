// The few multi-objective pieces MO-ASHA needs, kept local: non-dominated sorting, crowding
// distance and exclusive hypervolume contributions, on loss vectors (smaller is better).

export function dominates(a: readonly number[], b: readonly number[]): boolean {
  let better = false;
  for (let i = 0; i < a.length; i++) {
    if (a[i] > b[i]) return false;
    if (a[i] < b[i]) better = true;
  }
  return better;
}

/**
 * Fronts of indices, best first: O(N log N) for two objectives (sweep by the first objective,
 * binary search over fronts), else Deb et al.'s O(M·N²) fast non-dominated sort. Indices inside
 * a front are ascending.
 */
export function nonDominatedFronts(points: readonly (readonly number[])[]): number[][] {
  if (points.length && points[0].length === 2) return fronts2d(points);
  const n = points.length;
  const dominatedBy: number[][] = points.map(() => []);
  const count = new Array<number>(n).fill(0);
  const fronts: number[][] = [[]];
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      if (dominates(points[i], points[j])) {
        dominatedBy[i].push(j);
        count[j]++;
      } else if (dominates(points[j], points[i])) {
        dominatedBy[j].push(i);
        count[i]++;
      }
    }
  }
  for (let i = 0; i < n; i++) if (count[i] === 0) fronts[0].push(i);
  while (fronts[fronts.length - 1].length) {
    const next: number[] = [];
    for (const i of fronts[fronts.length - 1]) {
      for (const j of dominatedBy[i]) if (--count[j] === 0) next.push(j);
    }
    fronts.push(next);
  }
  fronts.pop();
  return fronts;
}

/** Crowding distance of each point of one front (boundary points are infinite). */
export function crowdingDistances(points: readonly (readonly number[])[]): number[] {
  const n = points.length;
  const d = new Array<number>(n).fill(0);
  if (n <= 2) return d.fill(Infinity);
  const m = points[0].length;
  for (let k = 0; k < m; k++) {
    const order = [...points.keys()].sort((a, b) => points[a][k] - points[b][k] || a - b);
    const lo = points[order[0]][k];
    const hi = points[order[n - 1]][k];
    d[order[0]] = Infinity;
    d[order[n - 1]] = Infinity;
    if (hi === lo) continue;
    for (let i = 1; i < n - 1; i++) d[order[i]] += (points[order[i + 1]][k] - points[order[i - 1]][k]) / (hi - lo);
  }
  return d;
}

/** Hypervolume dominated by `points` up to `reference` (losses; points beyond it count for nothing). */
export function hypervolume(points: readonly (readonly number[])[], reference: readonly number[]): number {
  const inside = points.filter((p) => p.every((v, i) => v < reference[i]));
  if (inside.length === 0) return 0;
  const m = reference.length;
  if (m === 1) return reference[0] - Math.min(...inside.map((p) => p[0]));
  if (m === 2) {
    const sorted = [...inside].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    let hv = 0;
    let floor = reference[1];
    for (const p of sorted) {
      if (p[1] < floor) {
        hv += (reference[0] - p[0]) * (floor - p[1]);
        floor = p[1];
      }
    }
    return hv;
  }
  // Slicing along the last objective (HSO): exact, fine for the small fronts of one rung.
  const sorted = [...inside].sort((a, b) => a[m - 1] - b[m - 1]);
  let hv = 0;
  for (let i = 0; i < sorted.length; i++) {
    const upper = i + 1 < sorted.length ? sorted[i + 1][m - 1] : reference[m - 1];
    const depth = upper - sorted[i][m - 1];
    if (depth <= 0) continue;
    hv += depth * hypervolume(sorted.slice(0, i + 1).map((p) => p.slice(0, m - 1)), reference.slice(0, m - 1));
  }
  return hv;
}

/** Each point's exclusive hypervolume contribution within its set. */
export function hypervolumeContributions(points: readonly (readonly number[])[], reference: readonly number[]): number[] {
  const total = hypervolume(points, reference);
  return points.map((_, i) => total - hypervolume(points.filter((__, j) => j !== i), reference));
}

/**
 * A reference point a little beyond the worst of each objective, so boundary points of a rung
 * still contribute (10% of the range, or 1 when every value is equal).
 */
export function nadirReference(points: readonly (readonly number[])[]): number[] {
  const m = points[0]?.length ?? 0;
  return Array.from({ length: m }, (_, k) => {
    const vs = points.map((p) => p[k]);
    const lo = Math.min(...vs);
    const hi = Math.max(...vs);
    return hi + (hi > lo ? 0.1 * (hi - lo) : 1);
  });
}

function fronts2d(points: readonly (readonly number[])[]): number[][] {
  const order = [...points.keys()].sort((a, b) => points[a][0] - points[b][0] || points[a][1] - points[b][1] || a - b);
  const fronts: number[][] = [];
  const last: (readonly number[])[] = [];
  for (const i of order) {
    const p = points[i];
    // The last point of a front (sorted by the first objective) dominates p if anything in it does;
    // "dominated by front f" is monotone in f, so binary search the first front that does not.
    let lo = 0;
    let hi = fronts.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (dominates(last[mid], p)) lo = mid + 1;
      else hi = mid;
    }
    if (lo === fronts.length) fronts.push([]);
    fronts[lo].push(i);
    last[lo] = p;
  }
  for (const f of fronts) f.sort((a, b) => a - b);
  return fronts;
}
