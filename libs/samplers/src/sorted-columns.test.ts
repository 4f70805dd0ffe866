import { describe, expect, it } from 'vitest';
import { Rng, type Objective, type Trial } from '@segtune/core';
import { Space, type Params } from '@segtune/space';
import { SortedColumns } from './sorted-columns';
import { ParzenEstimator, stableOrder, type DimInfo } from './parzen';
import { TpeSampler, recencyWeights } from './tpe';
import { fakeTrial } from './drive';
import type { Observation } from './observations';

const MIN: Objective[] = [{ name: 'value', direction: 'minimize' }];

/** Observations over 3 dims: a continuous one, a coarse one full of ties, and one with gaps (NaN). */
function makeObs(rng: Rng, n: number, from = 0): Observation[] {
  return Array.from({ length: n }, (_, i) => {
    const point = [rng.random(), Math.floor(rng.random() * 4) / 4, rng.random() < 0.3 ? NaN : rng.random()];
    return { trial: fakeTrial(from + i, {}, [0], MIN), point, kind: 'complete', violation: 0, stamp: 0, slot: -1 } satisfies Observation;
  });
}

function column(xs: readonly Observation[], dim: number): Float64Array {
  return Float64Array.from(xs, (x) => x.point[dim]);
}

describe('stableOrder', () => {
  it('is the permutation of a stable comparator sort, at sizes on both sides of the insertion-sort cut-off', () => {
    const rng = new Rng(2);
    for (const n of [0, 1, 2, 5, 47, 48, 49, 300]) {
      const v = Float64Array.from({ length: n }, () => (rng.random() < 0.3 ? Math.floor(rng.random() * 3) / 3 : rng.random()));
      if (n > 3) v[1] = -0; // ties with +0, as the comparator sort has it
      if (n > 3) v[2] = 0;
      const expected = Array.from({ length: n }, (_, i) => i).sort((a, b) => v[a] - v[b] || a - b);
      expect(Array.from(stableOrder(v, n))).toEqual(expected);
    }
  });
});

describe('SortedColumns', () => {
  it("hands out stableOrder's permutation for any subset, across additions, removals, reorderings and repeats", () => {
    const rng = new Rng(7);
    const cols = new SortedColumns(3, new Set([0, 1, 2]));
    let all = makeObs(rng, 200);
    let next = 200;
    for (let round = 0; round < 60; round++) {
      // Change the set as a study does, and then some: new trials at the end and in the middle,
      // some gone, the order shuffled now and then, one object listed twice.
      const added = makeObs(rng, Math.floor(rng.random() * 5), next);
      next += added.length;
      if (round % 3 === 0) all = [...all, ...added]; // a study's usual step: new ones at the end
      else {
        all = all.filter(() => rng.random() > 0.02);
        all.splice(Math.floor(rng.random() * all.length), 0, ...added);
        if (round % 7 === 3) all.reverse();
      }
      const given = round % 5 === 2 ? [...all, all[0]] : all;
      cols.update(given);
      const subset = all.filter((x) => rng.random() < 0.6 && !Number.isNaN(x.point[2]));
      const orders = cols.orders([0, 1, 2], subset);
      for (let dim = 0; dim < 3; dim++) {
        expect(Array.from(orders[dim]!)).toEqual(Array.from(stableOrder(column(subset, dim), subset.length)));
      }
      expect(cols.columns([2, 0], subset)).toEqual([column(subset, 2), column(subset, 0)]);
    }
  });

  it('refuses a subset holding an observation it was not given, or one twice, so the caller sorts', () => {
    const rng = new Rng(1);
    const all = makeObs(rng, 50);
    const cols = new SortedColumns(3, new Set([0, 1]));
    cols.update(all);
    expect(cols.orders([0], [...all.slice(0, 10), ...makeObs(rng, 1)])).toEqual([undefined]);
    expect(cols.orders([0], [all[3], all[3]])).toEqual([undefined]);
    expect(cols.columns([0], makeObs(rng, 1))).toBeUndefined();
    expect(cols.orders([2, 0], all.slice(0, 5)).map((o) => o === undefined)).toEqual([true, false]); // dim 2 not kept
  });

  it('gives a Parzen estimator the same densities as its own sort', () => {
    const rng = new Rng(3);
    const all = makeObs(rng, 300);
    const cols = new SortedColumns(3, new Set([0, 1]));
    cols.update(all);
    const infos: DimInfo[] = [{ kind: 'cont' }, { kind: 'cont' }];
    const columns = [column(all, 0), column(all, 1)];
    const popt = { priorWeight: 1, bandwidth: 'neighbor' as const, magicClip: true, bandwidthFactor: 1 };
    const a = new ParzenEstimator(infos, columns, recencyWeights(all.length), popt);
    const b = new ParzenEstimator(infos, columns, recencyWeights(all.length), popt, cols.orders([0, 1], all));
    const rows = Array.from({ length: 50 }, () => [rng.random(), rng.random()]);
    expect(Array.from(b.logPdf(rows))).toEqual(Array.from(a.logPdf(rows)));
  });
});

describe('TPE between suggestions', () => {
  it('suggests exactly what a fresh sampler does, while the history grows, shrinks and trials run', async () => {
    const space = new Space([
      { name: 'x', type: 'float', low: -3, high: 3 },
      { name: 'n', type: 'int', low: 1, high: 6 },
      { name: 'lr', type: 'float', low: 1e-4, high: 1, log: true },
      { name: 'opt', type: 'categorical', choices: ['sgd', 'adam'] },
      { name: 'm', type: 'float', low: 0, high: 1, when: { opt: 'sgd' } },
    ]);
    const f = (p: Params) => ((p.x as number) - 1) ** 2 + Math.abs((p.n as number) - 4) + Math.log10(p.lr as number) ** 2 / 10 + (p.opt === 'sgd' ? (p.m as number) : 0.5);
    const kept = new TpeSampler();
    const rng = new Rng(11);
    let history: Trial[] = [];
    let running: Trial[] = [];
    for (let n = 0; n < 120; n++) {
      const ctx = { space, objectives: MIN, constraints: [], history, running, trialNumber: n, seed: 5 };
      const a = kept.suggest({ ...ctx, rng: Rng.derive(5, 'trial', n) });
      const b = new TpeSampler().suggest({ ...ctx, rng: Rng.derive(5, 'trial', n) });
      expect(a).toEqual(b);
      // The new trial runs; an older running one finishes; now and then a trial leaves the history.
      running = [...running, { ...fakeTrial(n, a, undefined, MIN), state: 'running' }];
      if (running.length > 3 || rng.random() < 0.5) {
        const done = running.shift()!;
        history = [...history, fakeTrial(done.number, done.params, [f(done.params)], MIN)].sort((p, q) => p.number - q.number);
      }
      if (n % 17 === 16) history = history.filter((_, i) => i !== 3);
    }
    expect(history.length).toBeGreaterThan(90);
  });
});
