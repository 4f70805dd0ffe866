// Pareto utilities the multi-objective samplers need. @segtune/pareto has the general ones, but
// samplers may import only core and space, so these small versions live here.
import { dominates } from '@segtune/core';

/**
 * Non-dominated sorting (Deb's fast sort): rank 0 is the Pareto front. `violations` (optional)
 * applies constraint domination: feasible beats infeasible, smaller violation beats larger.
 */
export function nondominatedRanks(losses: readonly (readonly number[])[], violations?: readonly number[]): number[] {
  const n = losses.length;
  const better = (i: number, j: number): boolean => {
    if (violations) {
      const vi = violations[i];
      const vj = violations[j];
      if (vi > 0 || vj > 0) return vi < vj;
    }
    return dominates(losses[i], losses[j]);
  };
  const dominatedBy = Array.from({ length: n }, () => [] as number[]);
  const count = new Array<number>(n).fill(0);
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      if (better(i, j)) {
        dominatedBy[i].push(j);
        count[j]++;
      } else if (better(j, i)) {
        dominatedBy[j].push(i);
        count[i]++;
      }
    }
  }
  const rank = new Array<number>(n).fill(-1);
  let front = [];
  for (let i = 0; i < n; i++) if (count[i] === 0) front.push(i);
  for (let r = 0; front.length; r++) {
    const next: number[] = [];
    for (const i of front) {
      rank[i] = r;
      for (const j of dominatedBy[i]) if (--count[j] === 0) next.push(j);
    }
    front = next;
  }
  return rank;
}

/** Crowding distance of each point of one front (Deb et al. 2002): boundary points get Infinity. */
export function crowdingDistances(front: readonly (readonly number[])[]): number[] {
  const n = front.length;
  const dist = new Array<number>(n).fill(0);
  if (n === 0) return dist;
  const m = front[0].length;
  for (let k = 0; k < m; k++) {
    const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => front[a][k] - front[b][k]);
    const lo = front[order[0]][k];
    const hi = front[order[n - 1]][k];
    dist[order[0]] = Infinity;
    dist[order[n - 1]] = Infinity;
    if (hi === lo) continue;
    for (let i = 1; i < n - 1; i++) dist[order[i]] += (front[order[i + 1]][k] - front[order[i - 1]][k]) / (hi - lo);
  }
  return dist;
}

/**
 * Hypervolume dominated by `points` (losses) up to `reference`: exact, by sweeping in 2-D and
 * slicing along the last objective above that (fine for the few hundred points samplers and
 * benchmark reports use).
 */
export function hypervolume(points: readonly (readonly number[])[], reference: readonly number[]): number {
  const inside = points.filter((p) => p.every((v, i) => v < reference[i]));
  if (inside.length === 0) return 0;
  return hv(inside, reference, reference.length);
}

function hv(points: readonly (readonly number[])[], ref: readonly number[], m: number): number {
  if (points.length === 0) return 0;
  if (m === 1) return ref[0] - Math.min(...points.map((p) => p[0]));
  if (m === 2) {
    const sorted = [...points].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    let area = 0;
    let bestY = ref[1];
    for (const p of sorted) {
      if (p[1] < bestY) {
        area += (ref[0] - p[0]) * (bestY - p[1]);
        bestY = p[1];
      }
    }
    return area;
  }
  const k = m - 1;
  const sorted = [...points].sort((a, b) => a[k] - b[k]);
  let vol = 0;
  const slab: (readonly number[])[] = [];
  for (let i = 0; i < sorted.length; i++) {
    slab.push(sorted[i]);
    const top = i + 1 < sorted.length ? sorted[i + 1][k] : ref[k];
    const h = top - sorted[i][k];
    if (h > 0) vol += h * hv(slab, ref, k);
  }
  return vol;
}

/** Each point's exclusive hypervolume contribution (hv(all) − hv(all but it)). */
export function hypervolumeContributions(points: readonly (readonly number[])[], reference: readonly number[]): number[] {
  const total = hypervolume(points, reference);
  return points.map((_, i) => total - hypervolume([...points.slice(0, i), ...points.slice(i + 1)], reference));
}

/** Optuna's reference point for sampler-internal hypervolumes: 10% beyond the worst point. */
export function referencePointFor(points: readonly (readonly number[])[]): number[] {
  const m = points[0].length;
  const ref: number[] = [];
  for (let k = 0; k < m; k++) {
    const worst = Math.max(...points.map((p) => p[k]));
    const r = Math.max(1.1 * worst, 0.9 * worst);
    ref.push(r === 0 ? 1e-12 : r);
  }
  return ref;
}

/**
 * Greedy hypervolume subset selection: `k` of `points` chosen one by one, each time the point
 * adding the most hypervolume. Returns indices into `points`.
 */
export function greedyHypervolumeSubset(points: readonly (readonly number[])[], k: number, reference: readonly number[]): number[] {
  const chosen: number[] = [];
  const left = new Set(points.map((_, i) => i));
  let base = 0;
  while (chosen.length < k && left.size) {
    let best = -1;
    let bestGain = -Infinity;
    for (const i of left) {
      const gain = hypervolume([...chosen.map((c) => points[c]), points[i]], reference) - base;
      if (gain > bestGain) {
        bestGain = gain;
        best = i;
      }
    }
    chosen.push(best);
    left.delete(best);
    base += bestGain;
  }
  return chosen;
}
