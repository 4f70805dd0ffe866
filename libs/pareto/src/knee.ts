import { LuDecomposition, Matrix } from 'ml-matrix';
import { checkPoints, paretoFront, type LossVector } from './nondominated-sort';

/**
 * The knee of a set's Pareto front (loss space): the front point furthest from the hyperplane
 * through the front's extreme points, on the side of the ideal point — where giving up a little
 * on one objective buys the most on the others (Das 1999; Deb & Gupta 2011).
 *
 * 1. Take the non-dominated points and normalise each objective to [0, 1] by the front's ideal
 *    and nadir values (a range of 0 counts as 1), so that units do not matter.
 * 2. Extremes: for each objective, the front point that is best on it (ties: the smallest sum of
 *    the others). In 2-D they are (0, 1) and (1, 0), and the hyperplane is the line z1 + z2 = 1.
 * 3. The hyperplane w·z = 1 through the m extremes (an LU solve). When the extremes are
 *    degenerate (repeated, or a plane that does not face the ideal point), use z1 + … + zm = 1.
 * 4. The knee maximises (1 − w·z)/|w|; ties go to the smallest sum of normalised values, then
 *    to the lowest index.
 *
 * Returns the index of the knee in `points`, or -1 for an empty set. A front of one point is its
 * own knee; for a front of two points (both extremes, distance 0) the tie-break decides.
 */
export function kneeIndex(points: readonly LossVector[]): number {
  const m = checkPoints(points, 'kneeIndex');
  if (points.length === 0) return -1;
  const front = paretoFront(points);
  if (front.length === 1 || m === 1) return front[0];
  const lo = new Array<number>(m).fill(Infinity);
  const hi = new Array<number>(m).fill(-Infinity);
  for (const i of front) {
    for (let j = 0; j < m; j++) {
      lo[j] = Math.min(lo[j], points[i][j]);
      hi[j] = Math.max(hi[j], points[i][j]);
    }
  }
  const scale = lo.map((l, j) => (hi[j] - l > 0 && Number.isFinite(hi[j] - l) ? hi[j] - l : 1));
  const z = front.map((i) => points[i].map((v, j) => (v - lo[j]) / scale[j]));
  const sum = (v: number[]) => v.reduce((s, x) => s + x, 0);

  const extremes: number[] = [];
  for (let j = 0; j < m; j++) {
    let best = 0;
    for (let k = 1; k < z.length; k++) {
      if (z[k][j] < z[best][j] || (z[k][j] === z[best][j] && sum(z[k]) - z[k][j] < sum(z[best]) - z[best][j])) best = k;
    }
    extremes.push(best);
  }
  let w = new Array<number>(m).fill(1);
  if (new Set(extremes).size === m) {
    const lu = new LuDecomposition(new Matrix(extremes.map((k) => z[k])));
    if (!lu.isSingular()) {
      const sol = lu.solve(Matrix.columnVector(new Array(m).fill(1))).to1DArray();
      if (sol.every((v) => v > 0 && Number.isFinite(v))) w = sol;
    }
  }
  const norm = Math.hypot(...w);
  let best = -1;
  let bestD = -Infinity;
  let bestS = Infinity;
  z.forEach((v, k) => {
    const d = (1 - v.reduce((s, x, j) => s + w[j] * x, 0)) / norm;
    const s = sum(v);
    if (d > bestD + 1e-12 || (Math.abs(d - bestD) <= 1e-12 && s < bestS - 1e-12)) {
      best = k;
      bestD = d;
      bestS = s;
    }
  });
  return front[best];
}
