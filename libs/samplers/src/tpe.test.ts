import { describe, expect, it } from 'vitest';
import { Rng, parseConstraint, type Objective, type Trial } from '@segtune/core';
import { Space, type Params } from '@segtune/space';
import { TpeSampler, decomposeGroups, recencyWeights, selectMultiObjective, splitObservations } from './tpe';
import { driveSampler, fakeTrial } from './drive';
import { observe, type Observation } from './observations';

const MIN: Objective[] = [{ name: 'value', direction: 'minimize' }];

function bestParams(trials: Trial[]): Params {
  return trials.reduce((a, b) => (b.values![0] < a.values![0] ? b : a)).params;
}

describe('TPE finds optima', () => {
  it('1-D quadratic: best x within 0.05 of 1.234 on [-5, 5] after 60 trials, in at least 9 of 10 seeds', async () => {
    const space = new Space([{ name: 'x', type: 'float', low: -5, high: 5 }]);
    let hits = 0;
    for (let seed = 0; seed < 10; seed++) {
      const { trials } = await driveSampler(new TpeSampler(), space, MIN, (p) => [((p.x as number) - 1.234) ** 2], 60, seed);
      if (Math.abs((bestParams(trials).x as number) - 1.234) < 0.05) hits++;
    }
    expect(hits).toBeGreaterThanOrEqual(9);
  });

  it('2-D quadratic: best point within 0.25 of (1, -2) on [-5, 5]² after 100 trials, in at least 9 of 10 seeds', async () => {
    const space = new Space([
      { name: 'x', type: 'float', low: -5, high: 5 },
      { name: 'y', type: 'float', low: -5, high: 5 },
    ]);
    let hits = 0;
    for (let seed = 0; seed < 10; seed++) {
      const { trials } = await driveSampler(new TpeSampler(), space, MIN, (p) => [((p.x as number) - 1) ** 2 + ((p.y as number) + 2) ** 2], 100, seed);
      const b = bestParams(trials);
      if (Math.hypot((b.x as number) - 1, (b.y as number) + 2) < 0.25) hits++;
    }
    expect(hits).toBeGreaterThanOrEqual(9);
  });

  it('finds the best cell of an integer grid and a categorical', async () => {
    const space = new Space([
      { name: 'n', type: 'int', low: 0, high: 40 },
      { name: 'c', type: 'categorical', choices: ['a', 'b', 'c', 'd'] },
    ]);
    let hits = 0;
    for (let seed = 0; seed < 10; seed++) {
      const { trials } = await driveSampler(new TpeSampler(), space, MIN, (p) => [((p.n as number) - 27) ** 2 + (p.c === 'c' ? 0 : 5)], 50, seed);
      const b = bestParams(trials);
      if (b.n === 27 && b.c === 'c') hits++;
    }
    expect(hits).toBeGreaterThanOrEqual(9);
  });
});

describe('constant liar', () => {
  it('proposes no duplicates with 8 pending trials on a small grid', async () => {
    const space = new Space([
      { name: 'a', type: 'int', low: 0, high: 9 },
      { name: 'b', type: 'int', low: 0, high: 9 },
    ]);
    const f = (p: Params) => [((p.a as number) - 3) ** 2 + ((p.b as number) - 6) ** 2];
    for (let seed = 0; seed < 5; seed++) {
      const { trials: history } = await driveSampler(new TpeSampler(), space, MIN, f, 20, seed);
      const running: Trial[] = [];
      const sampler = new TpeSampler();
      for (let k = 0; k < 9; k++) {
        const n = history.length + k;
        const params = sampler.suggest({ space, objectives: MIN, constraints: [], history, running, rng: Rng.derive(seed, 'trial', n), trialNumber: n, seed });
        running.push({ ...fakeTrial(n, params, undefined, MIN), state: 'running' });
      }
      const keys = running.map((t) => `${t.params.a},${t.params.b}`);
      expect(new Set(keys).size).toBe(keys.length);
    }
  });

  it('moves proposals away from a running trial at the model optimum', async () => {
    const space = new Space([{ name: 'x', type: 'float', low: 0, high: 1 }]);
    const history = Array.from({ length: 30 }, (_, i) => fakeTrial(i, { x: i / 29 }, [(i / 29 - 0.5) ** 2], MIN));
    const near = (running: Trial[], liar: boolean) => {
      let count = 0;
      for (let s = 0; s < 40; s++) {
        const p = new TpeSampler({ constantLiar: liar }).suggest({ space, objectives: MIN, constraints: [], history, running, rng: Rng.derive(s, 'x'), trialNumber: 30, seed: s });
        if (Math.abs((p.x as number) - 0.5) < 0.03) count++;
      }
      return count;
    };
    const pending = Array.from({ length: 6 }, (_, k) => ({ ...fakeTrial(30 + k, { x: 0.5 + (k - 2.5) * 0.005 }, undefined, MIN), state: 'running' as const }));
    expect(near(pending, true)).toBeLessThan(near(pending, false));
  });
});

describe('the good/bad split', () => {
  const space = new Space([{ name: 'x', type: 'float', low: 0, high: 1 }]);
  const ctx = (history: Trial[], constraints = [] as ReturnType<typeof parseConstraint>[]) => ({
    space,
    objectives: MIN,
    constraints: constraints.filter((c) => c !== undefined),
    history,
    running: [],
    rng: new Rng(0),
    trialNumber: history.length,
    seed: 0,
  });

  it('ranks feasible complete trials first, then pruned by step, then infeasible by violation; OOM failures are infeasible', () => {
    const history: Trial[] = [
      fakeTrial(0, { x: 0.1 }, [5], MIN, { latency: 20 }),
      fakeTrial(1, { x: 0.2 }, [9], MIN, { latency: 1 }),
      { ...fakeTrial(2, { x: 0.3 }, undefined, MIN, undefined, 'pruned'), intermediate: { 1: { value: 0.5 }, 4: { value: 3 } } },
      { ...fakeTrial(3, { x: 0.4 }, undefined, MIN, undefined, 'failed'), attrs: { reason: 'oom' } },
      { ...fakeTrial(4, { x: 0.5 }, undefined, MIN, undefined, 'failed'), attrs: { reason: 'error' } },
      fakeTrial(5, { x: 0.6 }, [1], MIN, { latency: 9 }),
    ];
    const obs = observe(ctx(history, [parseConstraint('latency <= 8')]), false);
    expect(obs.map((o) => `${o.trial.number}:${o.kind}`)).toEqual(['0:infeasible', '1:complete', '2:pruned', '3:infeasible', '5:infeasible']);
    expect(obs.find((o) => o.trial.number === 2)!.prunedLoss).toBe(3);
    const ranked = (k: number) => splitObservations(obs, 1, { gamma: 0.99, maxBelow: k }).below.map((o) => o.trial.number);
    expect(ranked(1)).toEqual([1]);
    expect(ranked(2)).toEqual([1, 2]);
    expect(ranked(3)).toEqual([1, 2, 5]); // latency 9 violates by 1, 20 by 12
    expect(ranked(4)).toEqual([0, 1, 2, 5]);
    expect(ranked(5)).toEqual([0, 1, 2, 3, 5]);
  });

  it('observations follow the history as it changes between calls: reused by position, remade for a changed or moved trial, or another context', () => {
    const space = new Space([{ name: 'x', type: 'float', low: 0, high: 1 }]);
    const c = (history: Trial[], constraints = ctx(history).constraints) => ({ ...ctx(history), space, constraints });
    const base = Array.from({ length: 6 }, (_, i) => fakeTrial(i, { x: i / 10 }, [i], MIN));
    const first = observe(c(base), false);
    // The same trial objects: the same observations.
    const again = observe(c([...base, fakeTrial(6, { x: 0.6 }, [6], MIN)]), false);
    expect(again.slice(0, 6).every((o, i) => o === first[i])).toBe(true);
    // Trial 2 finished again with another value (a new object) and trial 4 changed in place,
    // both at their old positions; then trial 1 moved (one that finished out of order before
    // it): each observed as it is now.
    const changed = [...base, again[6].trial];
    changed[2] = { ...base[2], values: [-5], metrics: { value: -5 } };
    base[4].values = [-7];
    expect(observe(c(changed), false).map((o) => o.losses![0])).toEqual([0, 1, -5, 3, -7, 5, 6]);
    changed.pop();
    const moved = [changed[0], fakeTrial(9, { x: 0.9 }, [9], MIN), ...changed.slice(1)];
    const now = observe(c(moved), false);
    expect(now.map((o) => `${o.trial.number}:${o.losses![0]}`)).toEqual(['0:0', '9:9', '1:1', '2:-5', '3:3', '4:-7', '5:5']);
    // Constraints of the context change what a trial is: not reused across them (they read the
    // metrics, which trial 4's in-place change left at 4).
    const constrained = observe(c(moved, [parseConstraint('value <= 2')!]), false);
    expect(constrained.map((o) => o.kind)).toEqual(['complete', 'infeasible', 'complete', 'complete', 'infeasible', 'infeasible', 'infeasible']);
  });

  it('steers away from out-of-memory regions, unlike failures of other kinds', async () => {
    // Values fall towards x = 1, but x > 0.7 runs out of memory.
    const lateFailures = (reason: string) => {
      let late = 0;
      for (let seed = 0; seed < 5; seed++) {
        const history: Trial[] = [];
        const sampler = new TpeSampler();
        for (let n = 0; n < 50; n++) {
          const p = sampler.suggest({ space, objectives: MIN, constraints: [], history, running: [], rng: Rng.derive(seed, 't', n), trialNumber: n, seed });
          const x = p.x as number;
          if (x > 0.7) {
            history.push({ ...fakeTrial(n, p, undefined, MIN, undefined, 'failed'), attrs: { reason } });
            if (n >= 30) late++;
          } else history.push(fakeTrial(n, p, [1 - x], MIN));
        }
      }
      return late;
    };
    const oom = lateFailures('oom');
    const error = lateFailures('error');
    expect(oom).toBeLessThan(0.6 * error);
  });

  it('uses hand-checked recency weights', () => {
    expect(recencyWeights(3)).toEqual([1, 1, 1]);
    const w = recencyWeights(30);
    expect(w.length).toBe(30);
    expect(w[0]).toBeCloseTo(1 / 30);
    expect(w[4]).toBeCloseTo(1);
    expect(w.slice(5)).toEqual(new Array(25).fill(1));
  });
});

describe('multi-objective TPE', () => {
  it('selects whole fronts, then the hypervolume-best subset of the next one', () => {
    const losses = [
      [0, 4],
      [1, 1],
      [4, 0],
      [2, 2.5],
      [0.5, 5],
      [2.5, 2],
      [5, 5],
    ];
    expect(selectMultiObjective(losses, 3).sort()).toEqual([0, 1, 2]);
    const four = selectMultiObjective(losses, 4);
    expect(four.slice(0, 3).sort()).toEqual([0, 1, 2]);
    expect([3, 4, 5]).toContain(four[3]);
  });

  it('spreads along the ZDT1 front better than random search', async () => {
    const d = 6;
    const space = new Space(Array.from({ length: d }, (_, i) => ({ name: `x${i}`, type: 'float' as const, low: 0, high: 1 })));
    const objectives: Objective[] = [
      { name: 'f1', direction: 'minimize' },
      { name: 'f2', direction: 'minimize' },
    ];
    const zdt1 = (p: Params) => {
      const x = Array.from({ length: d }, (_, i) => p[`x${i}`] as number);
      const g = 1 + (9 * x.slice(1).reduce((a, b) => a + b, 0)) / (d - 1);
      return [x[0], g * (1 - Math.sqrt(x[0] / g))];
    };
    const { hypervolume } = await import('@segtune/pareto');
    const hv = (ts: Trial[]) => hypervolume(ts.map((t) => t.values!), [1.1, 11]);
    let wins = 0;
    for (let seed = 0; seed < 4; seed++) {
      const tpe = await driveSampler(new TpeSampler(), space, objectives, zdt1, 80, seed);
      const { RandomSampler } = await import('./random');
      const rnd = await driveSampler(new RandomSampler(), space, objectives, zdt1, 80, seed);
      if (hv(tpe.trials) > hv(rnd.trials)) wins++;
    }
    expect(wins).toBe(4);
  });
});

describe('group decomposition', () => {
  it('splits params into groups that always appear together', () => {
    const mk = (p: number[]): Observation => ({ point: p, kind: 'complete', violation: 0, trial: fakeTrial(0, {}, [0], MIN) });
    const groups = decomposeGroups([mk([0.1, 0.2, NaN, NaN]), mk([0.1, NaN, 0.3, 0.4]), mk([0.5, 0.2, NaN, NaN])], 4);
    expect(groups.map((g) => g.join(',')).sort()).toEqual(['0', '1', '2,3']);
  });
});
