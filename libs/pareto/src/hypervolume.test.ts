import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bruteHypervolume } from './brute-force.test-helpers';
import { defaultReferencePoint, hypervolume, hypervolumeContributions } from './hypervolume';
import { StaircaseTree } from './staircase-tree';

function pointSets(m: number, maxN: number) {
  const coord = fc.oneof(fc.integer({ min: 0, max: 6 }), fc.double({ min: 0, max: 6, noNaN: true }));
  return fc.array(fc.array(coord, { minLength: m, maxLength: m }), { maxLength: maxN });
}

const close = (a: number, b: number) => expect(Math.abs(a - b)).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(b)));

function seeded(seed: number) {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s ^ (s >>> 15), 2246822519) + 0x9e3779b9) >>> 0) / 2 ** 32);
}

describe('hypervolume', () => {
  it.each([
    [1, 20],
    [2, 40],
    [3, 25],
    [4, 10],
    [5, 7],
  ])('matches box decomposition with %i objectives (up to %i points, ties, points outside the box)', (m, maxN) => {
    const r = new Array(m).fill(5);
    fc.assert(
      fc.property(pointSets(m, maxN), (points) => {
        close(hypervolume(points, r), bruteHypervolume(points, r));
      }),
      { seed: 3000 + m, numRuns: m >= 4 ? 60 : 150 },
    );
  });

  it('3-D sweep matches a slice-by-slice 2-D computation on 600 random points', () => {
    const rand = seeded(7);
    // Points near a sphere, so that most are non-dominated and the staircase is busy.
    const points = Array.from({ length: 600 }, () => {
      const v = [rand(), rand(), rand()];
      const n = Math.hypot(...v) * (1 + 0.05 * rand());
      return v.map((x) => x / n);
    });
    const r = [1.2, 1.1, 1.3];
    const zs = [...new Set(points.map((p) => p[2]))].sort((a, b) => a - b);
    let slices = 0;
    zs.forEach((z, k) => {
      const top = k + 1 < zs.length ? zs[k + 1] : r[2];
      slices += (top - z) * hypervolume(points.filter((p) => p[2] <= z).map((p) => [p[0], p[1]]), [r[0], r[1]]);
    });
    close(hypervolume(points, r), slices);
  });

  it('WFG (4-D) agrees with the 3-D sweep on a set padded with a constant objective', () => {
    const rand = seeded(11);
    const points = Array.from({ length: 150 }, () => [rand(), rand(), rand()]);
    const r = [1, 1, 1];
    close(hypervolume(points.map((p) => [...p, 0.25]), [...r, 1]), 0.75 * hypervolume(points, r));
  });

  it('is the DTLZ2-like unit sphere volume for a dense front (a sanity check of scale)', () => {
    // 2-D quarter circle: box 1.1² minus the quarter disc π/4, approached from above.
    const n = 4000;
    const pts = Array.from({ length: n }, (_, i) => [Math.cos((i / (n - 1)) * (Math.PI / 2)), Math.sin((i / (n - 1)) * (Math.PI / 2))]);
    expect(hypervolume(pts, [1.1, 1.1])).toBeCloseTo(1.21 - Math.PI / 4, 3);
  });

  it('does not change when dominated points or copies are added, and grows with a new non-dominated point', () => {
    const base = [
      [1, 3, 2],
      [2, 1, 3],
      [3, 2, 1],
    ];
    const r = [4, 4, 4];
    const hv = hypervolume(base, r);
    close(hypervolume([...base, [2, 3.5, 3], [1, 3, 2]], r), hv);
    expect(hypervolume([...base, [1.5, 1.5, 1.5]], r)).toBeGreaterThan(hv);
    expect(hypervolume([[5, 1, 1]], r)).toBe(0);
    expect(hypervolume([], r)).toBe(0);
  });

  it('rejects a reference point of the wrong size', () => {
    expect(() => hypervolume([[1, 2]], [3])).toThrow(/reference point has 1 objectives, points have 2/);
  });
});

describe('hypervolume contributions', () => {
  it.each([
    [1, 12],
    [2, 25],
    [3, 12],
    [4, 7],
  ])('equal HV(S) − HV(S without the point), %i objectives', (m, maxN) => {
    const r = new Array(m).fill(5);
    fc.assert(
      fc.property(pointSets(m, maxN), (points) => {
        const total = bruteHypervolume(points, r);
        const contrib = hypervolumeContributions(points, r);
        points.forEach((_, i) => {
          close(contrib[i], total - bruteHypervolume(points.filter((__, j) => j !== i), r));
        });
      }),
      { seed: 4000 + m, numRuns: m >= 3 ? 40 : 100 },
    );
  });

  it('hand-made 2-D case, with a point that only one front point dominates', () => {
    const points = [
      [1, 3],
      [2, 2],
      [3, 1],
      [2.5, 2.5], // dominated by (2,2) alone: shrinks its contribution
      [4, 4],
    ];
    const c = hypervolumeContributions(points, [4, 4]);
    // (2,2) owns [2,3)×[2,3) = 1, less the part of it (2.5,2.5) still covers: 0.5².
    expect(c).toEqual([1, 0.75, 1, 0, 0]);
  });
});

describe('defaultReferencePoint', () => {
  it('is the nadir plus 10% of the range', () => {
    expect(defaultReferencePoint([
      [0, 10],
      [4, 2],
    ])).toEqual([4.4, 10.8]);
    expect(defaultReferencePoint([[1, 1]])).toEqual([1.1, 1.1]);
  });
});

describe('StaircaseTree', () => {
  it('keeps a staircase and returns the area each insertion adds', () => {
    const t = new StaircaseTree();
    expect(t.insert(2, 2, 4, 4)).toBe(4);
    expect(t.insert(3, 3, 4, 4)).toBe(0); // dominated
    expect(t.insert(1, 3, 4, 4)).toBe(1);
    expect(t.insert(3, 1, 4, 4)).toBe(1);
    expect(t.insert(2, 2, 4, 4)).toBe(0); // a copy
    expect(t.insert(1, 1, 4, 4)).toBe(3); // dominates all three: the 3×3 box less 6 already covered
    expect(t.points()).toEqual([[1, 1]]);
  });
});
