import { describe, expect, it } from 'vitest';
import { MoAshaScheduler } from './moasha';
import { FakeHistory } from './testing';

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
