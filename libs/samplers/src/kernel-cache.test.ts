import { describe, expect, it } from 'vitest';
import { Rng, type Objective, type Trial } from '@segtune/core';
import { Space, type Params } from '@segtune/space';
import { KernelCache } from './kernel-cache';
import { ParzenEstimator, dimInfo, stableOrder, type DimInfo } from './parzen';
import { TpeSampler, recencyWeights } from './tpe';
import { fakeTrial } from './drive';
import type { Observation } from './observations';

const MIN: Objective[] = [{ name: 'value', direction: 'minimize' }];

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

/** The densities of the cache's estimator and of a fresh one, over the same observations, rows and weights. */
function densities(cache: KernelCache, infos: DimInfo[], dims: number[], xs: Observation[], rows: number[][], weights = recencyWeights(xs.length)) {
  const kept = cache.estimator(infos, dims, xs, weights, POPT).logPdf(rows);
  const fresh = new ParzenEstimator(infos, dims.map((d) => column(xs, d)), weights, POPT, false).logPdf(rows);
  return { kept: Array.from(kept), fresh: Array.from(fresh) };
}

const POPT = { priorWeight: 1, bandwidth: 'neighbor' as const, magicClip: true, bandwidthFactor: 1 };

describe('KernelCache', () => {
  // Continuous, discrete (ties) and categorical dimensions; all continuous uses the wasm kernel.
  const space = new Space([
    { name: 'a', type: 'float', low: 0, high: 1 },
    { name: 'b', type: 'int', low: 0, high: 4 },
    { name: 'c', type: 'float', low: 0, high: 1 },
    { name: 'k', type: 'categorical', choices: ['p', 'q', 'r'] },
  ]);
  const mixed = space.params.map((p) => dimInfo(space, p));
  const cases: [string, DimInfo[], number[]][] = [
    ['continuous', [mixed[0], mixed[2]], [0, 2]],
    ['mixed', mixed, [0, 1, 2, 3]],
  ];
  const point = (rng: Rng) => [rng.random() < 0.1 ? 0.25 : rng.random(), (Math.floor(rng.random() * 5) + 0.5) / 5, rng.random(), (Math.floor(rng.random() * 3) + 0.5) / 3];
  const obsOf = (rng: Rng, n: number): Observation[] =>
    Array.from({ length: n }, (_, i) => ({ trial: fakeTrial(i, {}, [0], MIN), point: point(rng), kind: 'complete', violation: 0 }) satisfies Observation);

  for (const [name, infos, dims] of cases) {
    it(`gives a fresh estimator's densities to the bit as kernels join, leave and are inserted (${name})`, () => {
      const rng = new Rng(name.length);
      const pool = obsOf(rng, 400);
      const cache = new KernelCache();
      const rows = Array.from({ length: 30 }, () => point(rng).filter((_, d) => dims.includes(d)));
      // A growing group (below 99 kernels every build is fresh: the width floor changes), with
      // now and then a kernel leaving or an older one coming back, as a trial moves between groups.
      let members = new Set<number>();
      const updates: (number | 'fresh')[] = [];
      for (let step = 0; step < 300; step++) {
        members.add(step);
        const r = rng.random();
        if (r < 0.15 && members.size > 3) members.delete([...members][Math.floor(rng.random() * members.size)]);
        else if (r < 0.25) members.add(Math.floor(rng.random() * step));
        else if (r < 0.26) members = new Set([...members].filter(() => rng.random() < 0.9)); // many at once
        const xs = [...members].sort((x, y) => x - y).map((i) => pool[i]);
        const { kept, fresh } = densities(cache, infos, dims, xs, rows);
        expect(kept).toEqual(fresh);
        updates.push(cache.lastUpdate);
      }
      // Most builds were updates of the kept kernels, not fresh ones.
      expect(updates.filter((u) => typeof u === 'number').length).toBeGreaterThan(100);
    });
  }

  it('follows warm-start weights and starts afresh for other options or dimensions', () => {
    const rng = new Rng(4);
    const xs = obsOf(rng, 150);
    const infos = [mixed[0], mixed[2]];
    const rows = Array.from({ length: 20 }, () => [rng.random(), rng.random()]);
    const cache = new KernelCache();
    const w = xs.map(() => rng.random());
    expect(densities(cache, infos, [0, 2], xs, rows, w).kept).toEqual(densities(new KernelCache(), infos, [0, 2], xs, rows, w).fresh);
    cache.estimator(infos, [0, 2], xs, w, { ...POPT, bandwidthFactor: 2 });
    expect(cache.lastUpdate).toBe('fresh');
    cache.estimator([mixed[0]], [0], xs, w, POPT);
    expect(cache.lastUpdate).toBe('fresh');
    // A kept observation whose point changed (an edited space re-encoded it): rebuilt.
    cache.estimator([mixed[0]], [0], xs, w, POPT);
    expect(cache.lastUpdate).toBe(0);
    const moved = xs.map((x, i) => (i === 7 ? { ...x, point: [0.5, ...x.point.slice(1)] } : x));
    cache.estimator([mixed[0]], [0], moved, w, POPT);
    expect(cache.lastUpdate).toBe('fresh');
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
