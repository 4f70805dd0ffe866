import { checkPoints, type LossVector } from './nondominated-sort';

/**
 * Crowding distance of each point of one front (Deb et al., NSGA-II): per objective, sort the
 * front, give the two ends Infinity and every other point the gap between its neighbours divided
 * by the objective's range; sum over objectives. Objectives with zero range add nothing. Fronts
 * of one or two points are all Infinity. Ties are broken by index, so the result is
 * deterministic.
 */
export function crowdingDistance(front: readonly LossVector[]): number[] {
  const m = checkPoints(front, 'crowdingDistance');
  const n = front.length;
  const dist = new Array<number>(n).fill(0);
  if (n <= 2) return dist.fill(Infinity);
  const order = Array.from({ length: n }, (_, i) => i);
  for (let j = 0; j < m; j++) {
    order.sort((a, b) => front[a][j] - front[b][j] || a - b);
    const lo = front[order[0]][j];
    const hi = front[order[n - 1]][j];
    dist[order[0]] = Infinity;
    dist[order[n - 1]] = Infinity;
    const range = hi - lo;
    if (!(range > 0) || !Number.isFinite(range)) continue;
    for (let k = 1; k < n - 1; k++) {
      const i = order[k];
      if (dist[i] !== Infinity) dist[i] += (front[order[k + 1]][j] - front[order[k - 1]][j]) / range;
    }
  }
  return dist;
}

/** Crowding distance of every point within its own front; `ranks` from frontRanks. */
export function crowdingDistances(points: readonly LossVector[], ranks: readonly number[]): number[] {
  const out = new Array<number>(points.length).fill(0);
  const byFront = new Map<number, number[]>();
  ranks.forEach((r, i) => {
    let f = byFront.get(r);
    if (!f) byFront.set(r, (f = []));
    f.push(i);
  });
  for (const members of byFront.values()) {
    const d = crowdingDistance(members.map((i) => points[i]));
    members.forEach((i, k) => {
      out[i] = d[k];
    });
  }
  return out;
}
