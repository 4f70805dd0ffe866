import { describe, it, expect } from 'vitest';
import { Rng, type Objective } from '@segtune/core';
import { Space } from '@segtune/space';
import { paramImportance, resolveTarget, studyTargets, contourGrid, IMPORTANCE_METHODS, type ImportanceTrial } from './index';

const six = new Space(Array.from({ length: 6 }, (_, i) => ({ name: `x${i}`, type: 'float' as const, low: 0, high: 1 })));
const minimise: Objective[] = [{ name: 'loss', direction: 'minimize' }];

/** Only x1 and x4 matter (x1 more); the other four add noise a thousand times smaller. */
function twoOfSix(seed: number, n = 300): ImportanceTrial[] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, () => {
    const x = Array.from({ length: 6 }, () => rng.random());
    const params = Object.fromEntries(x.map((v, i) => [`x${i}`, v]));
    const f = 4 * (x[1] - 0.3) ** 2 + 2 * Math.abs(x[4] - 0.6) + 1e-3 * (x[0] + x[2] + x[3] + x[5]);
    return { params, values: [f] };
  });
}

describe.each(IMPORTANCE_METHODS)('%s', (method) => {
  const target = resolveTarget(minimise, 'loss');

  it('ranks the two params that matter first and second on every one of 5 seeds', () => {
    for (let seed = 0; seed < 5; seed++) {
      const r = paramImportance(six, minimise, twoOfSix(seed), target, { method, seed });
      expect(r.params.slice(0, 2).map((p) => p.name).sort(), `seed ${seed}`).toEqual(['x1', 'x4']);
      expect(r.params[0].importance + r.params[1].importance, `seed ${seed}`).toBeGreaterThan(0.6);
    }
  });

  it('normalises to 1, and every interval holds its figure; the params that matter have a real width', () => {
    const r = paramImportance(six, minimise, twoOfSix(7), target, { method, seed: 7 });
    expect(r.params.reduce((s, p) => s + p.importance, 0)).toBeCloseTo(1, 9);
    for (const p of r.params) {
      expect(p.low).toBeGreaterThanOrEqual(0);
      expect(p.low).toBeLessThanOrEqual(p.importance);
      expect(p.importance).toBeLessThanOrEqual(p.high);
      expect(p.high).toBeLessThanOrEqual(1);
    }
    for (const p of r.params.slice(0, 2)) expect(p.high - p.low).toBeGreaterThan(0.005);
    // The noise params' intervals stay below the smaller of the two that matter.
    for (const p of r.params.slice(2)) expect(p.high).toBeLessThan(r.params[1].importance);
  });

  it('is the same for the same seed, and differs for another', () => {
    const trials = twoOfSix(3);
    const a = paramImportance(six, minimise, trials, target, { method, seed: 1 });
    const b = paramImportance(six, minimise, trials, target, { method, seed: 1 });
    const c = paramImportance(six, minimise, trials, target, { method, seed: 2 });
    expect(b).toEqual(a);
    expect(c.params.map((p) => p.low)).not.toEqual(a.params.map((p) => p.low));
  });

  it('handles a conditional param (missing in most trials) and a categorical one', () => {
    const space = new Space([
      { name: 'optimizer', type: 'categorical', choices: ['sgd', 'adam', 'rmsprop'] },
      { name: 'momentum', type: 'float', low: 0, high: 1, when: { optimizer: 'sgd' } },
      { name: 'noise', type: 'float', low: 0, high: 1 },
      { name: 'width', type: 'int', low: 8, high: 64, log: true },
    ]);
    const rng = new Rng(11);
    const trials: ImportanceTrial[] = Array.from({ length: 300 }, () => {
      const optimizer = rng.choice(['sgd', 'adam', 'rmsprop']);
      const params: Record<string, string | number> = { optimizer, noise: rng.random(), width: 8 + rng.int(57) };
      if (optimizer === 'sgd') params.momentum = rng.random();
      // adam is best; sgd gets better with momentum but never as good; noise does nothing (as a
      // tie-breaker among the adam trials it would decide PED-ANOVA's top set, rightly).
      const f = optimizer === 'adam' ? 0.2 : optimizer === 'sgd' ? 1 - 0.6 * (params.momentum as number) : 1;
      return { params, values: [f] };
    });
    const r = paramImportance(space, minimise, trials, target, { method, seed: 0 });
    expect(r.params).toHaveLength(4);
    expect(r.params.every((p) => Number.isFinite(p.importance) && Number.isFinite(p.low) && Number.isFinite(p.high))).toBe(true);
    expect(r.params[0].name).toBe('optimizer');
    expect(r.params.findIndex((p) => p.name === 'momentum')).toBeLessThan(r.params.findIndex((p) => p.name === 'noise'));
  });
});

describe('targets', () => {
  const two: Objective[] = [{ name: 'miou', direction: 'maximize' }, { name: 'latency_ms', direction: 'minimize' }];
  // miou depends on x0 only, latency on x2 only: the front needs both.
  const rng = new Rng(5);
  const trials: ImportanceTrial[] = Array.from({ length: 300 }, () => {
    const x = Array.from({ length: 6 }, () => rng.random());
    return { params: Object.fromEntries(x.map((v, i) => [`x${i}`, v])), values: [x[0] + 1e-3 * x[5], 10 * (1 - x[2]) + 1e-3 * x[3]] };
  });

  it('lists each objective and the Pareto front', () => {
    expect(studyTargets(two).map((t) => (t.kind === 'pareto' ? 'pareto' : t.name))).toEqual(['miou', 'latency_ms', 'pareto']);
    expect(studyTargets(minimise)).toHaveLength(1);
  });

  it.each(IMPORTANCE_METHODS)('%s: each objective finds its own param, and the front needs both', (method) => {
    expect(paramImportance(six, two, trials, resolveTarget(two, 'miou'), { method }).params[0].name).toBe('x0');
    expect(paramImportance(six, two, trials, resolveTarget(two, 'latency_ms'), { method }).params[0].name).toBe('x2');
    const front = paramImportance(six, two, trials, resolveTarget(two, 'pareto'), { method });
    expect(front.target).toBe('pareto');
    expect(front.params.slice(0, 2).map((p) => p.name).sort()).toEqual(['x0', 'x2']);
  });

  it('refuses an unknown objective with a did-you-mean, and too few trials', () => {
    expect(() => resolveTarget(two, 'mio')).toThrow(/--objective: no objective named "mio".*miou.*allowed: miou, latency_ms, pareto/);
    expect(() => resolveTarget(minimise, 'pareto')).toThrow(/allowed: loss$/);
    expect(() => paramImportance(six, minimise, twoOfSix(0, 5), resolveTarget(minimise, 'loss'))).toThrow(/at least 8 complete trials.*has 5/);
  });

  it('bins the target over two params for a contour view', () => {
    const g = contourGrid(six, two, trials, resolveTarget(two, 'miou'), 'x0', 'x1', 4);
    expect(g.cells).toHaveLength(4);
    // miou grows with x0 (its loss falls): the left column is worse than the right one.
    const col = (c: number) => g.cells.map((row) => row[c]!).reduce((a, b) => a + b) / 4;
    expect(col(0)).toBeGreaterThan(col(3));
  });
});
