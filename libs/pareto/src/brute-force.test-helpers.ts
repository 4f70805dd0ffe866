// Slow, obviously-correct references for the property tests (not exported by the package).

export function bruteDominates(a: readonly number[], b: readonly number[]): boolean {
  let better = false;
  for (let i = 0; i < a.length; i++) {
    if (a[i] > b[i]) return false;
    if (a[i] < b[i]) better = true;
  }
  return better;
}

/** Ranks by peeling: front 0 is what nobody dominates, and so on. */
export function bruteRanks(points: readonly (readonly number[])[]): number[] {
  const rank = new Array<number>(points.length).fill(-1);
  let left = points.map((_, i) => i);
  for (let r = 0; left.length; r++) {
    const front = left.filter((i) => !left.some((j) => j !== i && bruteDominates(points[j], points[i])));
    for (const i of front) rank[i] = r;
    left = left.filter((i) => rank[i] < 0);
  }
  return rank;
}

/**
 * Hypervolume by box decomposition: the distinct coordinates on each axis cut the reference box
 * into cells; a cell counts when some point weakly dominates its lower corner.
 */
export function bruteHypervolume(points: readonly (readonly number[])[], r: readonly number[]): number {
  const m = r.length;
  const ps = points.filter((p) => p.every((v, j) => v < r[j]));
  if (ps.length === 0) return 0;
  const axes = Array.from({ length: m }, (_, j) => [...new Set([...ps.map((p) => p[j]), r[j]])].sort((a, b) => a - b));
  let total = 0;
  const idx = new Array<number>(m).fill(0);
  for (;;) {
    const lower = idx.map((k, j) => axes[j][k]);
    if (ps.some((p) => p.every((v, j) => v <= lower[j]))) {
      total += idx.reduce((s, k, j) => s * (axes[j][k + 1] - axes[j][k]), 1);
    }
    let j = 0;
    while (j < m) {
      idx[j]++;
      if (idx[j] < axes[j].length - 1) break;
      idx[j] = 0;
      j++;
    }
    if (j === m) break;
  }
  return total;
}
