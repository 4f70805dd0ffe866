// The sampler-specific Pareto pieces: Optuna's reference point and greedy hypervolume subset
// selection; the general algorithms (ranks, constraint domination) come from @segtune/pareto.
import { hypervolume } from '@segtune/pareto';

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
