import { describe, expect, it } from 'vitest';
import { Rng, type Objective, type Trial } from '@segtune/core';
import { Space, type Params } from '@segtune/space';
import { Nsga2Sampler, selectElite } from './nsga2';
import { crowdingDistance } from '@segtune/pareto';
import { frontRanks } from '@segtune/pareto';
import { driveSampler, fakeTrial } from './drive';
import { hypervolume } from '@segtune/pareto';
import type { Observation } from './observations';

const TWO: Objective[] = [
  { name: 'f1', direction: 'minimize' },
  { name: 'f2', direction: 'minimize' },
];

describe('non-dominated sorting and crowding (hand-computed)', () => {
  it('ranks fronts', () => {
    const pts = [
      [1, 5], // 0: front 0
      [2, 3], // 1: front 0
      [4, 1], // 2: front 0
      [3, 4], // 3: dominated by 1 → front 1
      [5, 2], // 4: dominated by 2 → front 1
      [5, 5], // 5: dominated by 3 and 4 → front 2
      [2, 3], // 6: duplicate of 1 → front 0
    ];
    expect(frontRanks(pts)).toEqual([0, 0, 0, 1, 1, 2, 0]);
  });

  it('applies constraint domination', () => {
    const pts = [
      [1, 1],
      [5, 5],
      [0, 0],
      [0, 0],
    ];
    // Trial 0 infeasible by 2, 1 feasible, 2 infeasible by 0.5, 3 infeasible by 2.
    expect(frontRanks(pts, { violations: [2, 0, 0.5, 2] })).toEqual([2, 0, 1, 2]);
  });

  it('computes crowding distances', () => {
    // f1: 0, 1, 3, 4 (range 4); f2: 4, 2, 1, 0 (range 4).
    const d = crowdingDistance([
      [0, 4],
      [1, 2],
      [3, 1],
      [4, 0],
    ]);
    expect(d[0]).toBe(Infinity);
    expect(d[3]).toBe(Infinity);
    expect(d[1]).toBeCloseTo((3 - 0) / 4 + (4 - 1) / 4);
    expect(d[2]).toBeCloseTo((4 - 1) / 4 + (2 - 0) / 4);
  });

  it('computes hypervolumes', () => {
    expect(hypervolume([[1, 1]], [2, 3])).toBeCloseTo(2);
    expect(
      hypervolume(
        [
          [0, 2],
          [1, 1],
          [2, 0],
        ],
        [3, 3],
      ),
    ).toBeCloseTo(3 + 2 + 1);
    // 3-D: two boxes [0,2]^3 minus overlap: (1,0,0)→ 1·2·2 = 4, (0,1,1)→ 2·1·1 = 2, overlap 1·1·1 = 1.
    expect(
      hypervolume(
        [
          [1, 0, 0],
          [0, 1, 1],
        ],
        [2, 2, 2],
      ),
    ).toBeCloseTo(5);
  });
});

describe('NSGA-II', () => {
  const space = new Space(Array.from({ length: 5 }, (_, i) => ({ name: `x${i}`, type: 'float' as const, low: 0, high: 1 })));
  const zdt1 = (p: Params) => {
    const x = Array.from({ length: 5 }, (_, i) => p[`x${i}`] as number);
    const g = 1 + (9 * (x[1] + x[2] + x[3] + x[4])) / 4;
    return [x[0], g * (1 - Math.sqrt(x[0] / g))];
  };

  it('selects the elite by rank, then crowding', () => {
    const mk = (n: number, losses: number[], violation = 0): Observation => ({ trial: fakeTrial(n, {}, losses, TWO), point: [], kind: violation ? 'infeasible' : 'complete', losses, violation });
    const pool = [mk(0, [0, 4]), mk(1, [1, 2]), mk(2, [1.1, 1.9]), mk(3, [4, 0]), mk(4, [5, 5]), mk(5, [0, 0], 3)];
    const elite = selectElite(pool, 3, 2);
    // Front 0 is {0, 1, 2, 3}; the boundary points (infinite crowding) and then the less crowded of
    // 1 and 2, with both ranges 4: crowding(1) = (1.1 - 0)/4 + (4 - 1.9)/4 = 0.8,
    // crowding(2) = (4 - 1)/4 + (2 - 0)/4 = 1.25.
    expect(elite.map((m) => m.obs.trial.number).sort()).toEqual([0, 2, 3]);
    const all = selectElite(pool, 6, 2);
    expect(all.at(-1)!.obs.trial.number).toBe(5); // the infeasible one comes last
  });

  it('derives the same child from the same history (pure function of storage)', () => {
    const history: Trial[] = Array.from({ length: 20 }, (_, n) => {
      const p = Object.fromEntries(space.names.map((k, i) => [k, ((n * 7 + i * 3) % 11) / 10]));
      return fakeTrial(n, p, zdt1(p), TWO);
    });
    const ctx = { space, objectives: TWO, constraints: [], history, running: [], trialNumber: 25, seed: 4 };
    const a = new Nsga2Sampler({ populationSize: 10 }).suggest({ ...ctx, rng: Rng.derive(4, 'trial', 25) });
    const b = new Nsga2Sampler({ populationSize: 10 }).suggest({ ...ctx, rng: Rng.derive(4, 'trial', 25) });
    expect(b).toEqual(a);
    // Trials of the current generation (numbers ≥ 20) are not parents: adding one changes nothing.
    const extra = fakeTrial(20, a, [0, 0], TWO);
    const c = new Nsga2Sampler({ populationSize: 10 }).suggest({ ...ctx, history: [...history, extra], rng: Rng.derive(4, 'trial', 25) });
    expect(c).toEqual(a);
  });

  it('improves the hypervolume on ZDT1 over its random first generation', async () => {
    for (let seed = 0; seed < 3; seed++) {
      const { trials } = await driveSampler(new Nsga2Sampler({ populationSize: 20 }), space, TWO, zdt1, 160, seed);
      const hv = (ts: Trial[]) => hypervolume(ts.map((t) => t.values!), [1.1, 11]);
      expect(hv(trials)).toBeGreaterThan(hv(trials.slice(0, 20)) + 0.3);
    }
  });
});
