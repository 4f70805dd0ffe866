// The sampler-specific Pareto pieces: constraint-domination ranks, Optuna's reference point and
// greedy hypervolume subset selection; the general algorithms come from @segtune/pareto.
import { dominates } from '@segtune/core';
import { hypervolume } from '@segtune/pareto';

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
