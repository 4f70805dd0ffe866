import { describe, expect, it } from 'vitest';
import { MoAshaScheduler } from './moasha';
import { crowdingDistances, hypervolume, hypervolumeContributions, nonDominatedFronts } from './pareto-rank';
import { FakeHistory } from './test-helpers';

describe('pareto pieces', () => {
  it('fronts, crowding distances and hypervolume, hand-computed', () => {
    const pts = [
      [1, 4],
      [2, 2],
      [4, 1],
      [3, 3],
      [5, 5],
    ];
    expect(nonDominatedFronts(pts)).toEqual([[0, 1, 2], [3], [4]]);
    // Front [1,4],[2,2],[4,1]: the middle one gets (4-1)/3 + (4-1)/3 = 2.
    expect(crowdingDistances([pts[0], pts[1], pts[2]])).toEqual([Infinity, 2, Infinity]);
    // HV to (5,5): 4·1 + 3·2 + 1·1 = 11 (slices along x).
    expect(hypervolume([pts[0], pts[1], pts[2]], [5, 5])).toBeCloseTo(11);
    expect(hypervolume([[1, 1, 1]], [2, 3, 4])).toBeCloseTo(6);
    expect(hypervolume([[1, 2, 1], [2, 1, 1]], [3, 3, 2])).toBeCloseTo(3);
    // Exclusive boxes: [1,4] owns [1,2]×[4,5] = 1, [2,2] owns [2,4]×[2,4] = 4, [4,1] owns [4,5]×[1,2] = 1.
    expect(hypervolumeContributions([pts[0], pts[1], pts[2]], [5, 5]).map((v) => Math.round(v * 1e9) / 1e9)).toEqual([1, 4, 1]);
  });
});

describe('multi-objective ASHA', () => {
  const objectives = [
    { name: 'acc', direction: 'maximize' as const },
    { name: 'lat', direction: 'minimize' as const },
  ];
  const budget = { name: 'epochs', min: 1, max: 9 };

  it('promotes by non-dominated rank, then crowding distance; dominated trials stop', () => {
    const h = new FakeHistory(objectives, budget);
    const s = new MoAshaScheduler(budget, objectives);
    // n=1 and n=2 (k=0): go on only when first in the order (non-dominated, largest crowding).
    expect(h.report(s, 0, 1, { acc: 0.5, lat: 5 })).toBe('continue');
    expect(h.report(s, 1, 1, { acc: 0.4, lat: 6 })).toBe('stop'); // dominated by 0
    // n=3, k=1: trial 2 is non-dominated with 0; both boundary points (∞), tie → lower number first → 2 is second → stop
    expect(h.report(s, 2, 1, { acc: 0.6, lat: 7 })).toBe('stop');
    h.report(s, 3, 1, { acc: 0.3, lat: 1 }); // n=4,k=1: front {0,2,3}: boundary 2 (max acc) & 3 (min lat) infinite; order 2,3,0 → 3 is second → stop
    expect(h.get(3).state).toBe('pruned');
    // n=5, k=1: a point dominating everything ranks alone on the first front → continue
    expect(h.report(s, 4, 1, { acc: 0.9, lat: 0.5 })).toBe('continue');
  });

  it('hypervolume selection keeps the point with the largest exclusive contribution', () => {
    const h = new FakeHistory(objectives, budget);
    const s = new MoAshaScheduler(budget, objectives, { selection: 'hypervolume' });
    h.report(s, 0, 1, { acc: 0.9, lat: 9 });
    h.report(s, 1, 1, { acc: 0.1, lat: 1 });
    // A balanced point with a big box of its own: ranks first among 3 → k=1 → continue.
    expect(h.report(s, 2, 1, { acc: 0.8, lat: 2 })).toBe('continue');
  });
});

describe('two-objective fast sort', () => {
  it('agrees with the generic O(N²) sort on random points with ties', async () => {
    const { Rng } = await import('@segtune/core');
    const rng = new Rng(9);
    for (let round = 0; round < 20; round++) {
      const pts = Array.from({ length: 60 }, () => [Math.floor(rng.random() * 8), Math.floor(rng.random() * 8)]);
      const fast = nonDominatedFronts(pts);
      // The generic path, through a third constant objective.
      const slow = nonDominatedFronts(pts.map((p) => [...p, 0]));
      expect(fast).toEqual(slow.map((f) => [...f].sort((a, b) => a - b)));
    }
  });
});
