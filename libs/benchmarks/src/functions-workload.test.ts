import { describe, expect, it } from 'vitest';
import { Pruned, isPruned, isUserError, type MetricValues, type WorkloadContext } from '@segtune/core';
import type { Budget } from '@segtune/space';
import { BENCHMARK_FUNCTIONS } from './functions';
import { benchmarkSpaceParams, benchmarkSpaceProblems, benchmarkSteps, benchmarkWorkload } from './functions-workload';

interface Recorded {
  ctx: WorkloadContext;
  reports: [number, MetricValues][];
}

function context(seed: number, budget?: Budget, opts: { pruneAt?: number; signal?: AbortSignal } = {}): Recorded {
  const reports: [number, MetricValues][] = [];
  const ctx: WorkloadContext = {
    trialNumber: 0,
    seed,
    budget,
    report: async (step, values) => {
      reports.push([step, typeof values === 'number' ? { value: values } : values]);
      if (opts.pruneAt !== undefined && step >= opts.pruneAt) throw new Pruned(step);
    },
    signal: opts.signal ?? new AbortController().signal,
    device: { gpu: null },
    setAttrs: () => {},
  };
  return { ctx, reports };
}

describe('benchmarkWorkload', () => {
  it('returns the exact value keyed "value" for single-objective functions', async () => {
    const w = benchmarkWorkload({ kind: 'benchmark', function: 'branin' });
    const out = await w({ x1: 1, x2: 2 }, context(3).ctx);
    expect(out).toEqual({ value: BENCHMARK_FUNCTIONS.branin.evaluate({ x1: 1, x2: 2 })[0] });
  });

  it('returns f1, f2, f3 for a three-objective function', async () => {
    const w = benchmarkWorkload({ kind: 'benchmark', function: 'dtlz2(d=5, m=3)' });
    const p = { x1: 0.2, x2: 0.4, x3: 0.5, x4: 0.5, x5: 0.5 };
    const out = (await w(p, context(0).ctx)) as MetricValues;
    expect(Object.keys(out)).toEqual(['f1', 'f2', 'f3']);
    expect(Math.hypot(out.f1, out.f2, out.f3)).toBeCloseTo(1, 12);
  });

  it('adds noise that is reproducible from the seed and params and has the requested spread', async () => {
    const w = benchmarkWorkload({ kind: 'benchmark', function: 'branin', noise: 0.5 });
    const p = { x1: 1, x2: 2 };
    const exact = BENCHMARK_FUNCTIONS.branin.evaluate(p)[0];
    const a = (await w(p, context(7).ctx)) as MetricValues;
    const b = (await w({ x2: 2, x1: 1 }, context(7).ctx)) as MetricValues;
    const c = (await w(p, context(8).ctx)) as MetricValues;
    expect(a.value).toBe(b.value);
    expect(a.value).not.toBe(c.value);
    const xs: number[] = [];
    for (let s = 0; s < 400; s++) xs.push(((await w(p, context(s).ctx)) as MetricValues).value - exact);
    const mean = xs.reduce((s, v) => s + v, 0) / xs.length;
    const sd = Math.sqrt(xs.reduce((s, v) => s + (v - mean) ** 2, 0) / (xs.length - 1));
    expect(Math.abs(mean)).toBeLessThan(0.1);
    expect(sd).toBeGreaterThan(0.4);
    expect(sd).toBeLessThan(0.6);
  });

  it('with a budget, reports every step with values falling to the final one', async () => {
    const w = benchmarkWorkload({ kind: 'benchmark', function: 'zdt1(d=3)' });
    const { ctx, reports } = context(1, { name: 'epochs', min: 1, max: 9 });
    const p = { x1: 0.3, x2: 0.6, x3: 0.1 };
    const out = (await w(p, ctx)) as MetricValues;
    expect(reports.map((r) => r[0])).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(reports[8][1]).toEqual(out);
    for (const key of ['f1', 'f2']) {
      for (let i = 1; i < reports.length; i++) expect(reports[i][1][key]).toBeLessThan(reports[i - 1][1][key]);
    }
    expect(out.f1).toBeCloseTo(0.3, 12);
  });

  it('ranks trials at early steps roughly as at the end (worse configurations start further away)', async () => {
    const w = benchmarkWorkload({ kind: 'benchmark', function: 'branin' });
    const good = context(0, { name: 'epochs', min: 1, max: 27 });
    const bad = context(0, { name: 'epochs', min: 1, max: 27 });
    await w({ x1: 3, x2: 2.5 }, good.ctx);
    await w({ x1: -5, x2: 0 }, bad.ctx);
    expect(good.reports[0][1].value).toBeLessThan(bad.reports[0][1].value);
  });

  it('stops when the scheduler prunes, and when the signal aborts', async () => {
    const w = benchmarkWorkload({ kind: 'benchmark', function: 'branin' });
    const pruned = context(0, { name: 'epochs', min: 1, max: 10 }, { pruneAt: 3 });
    const err = await Promise.resolve(w({ x1: 0, x2: 0 }, pruned.ctx)).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isPruned(err)).toBe(true);
    expect(pruned.reports.map((r) => r[0])).toEqual([1, 2, 3]);

    const ac = new AbortController();
    ac.abort(new Error('timeout'));
    const aborted = context(0, { name: 'epochs', min: 1, max: 10 }, { signal: ac.signal });
    await expect(w({ x1: 0, x2: 0 }, aborted.ctx)).rejects.toThrow('timeout');
    expect(aborted.reports).toHaveLength(0);
  });

  it('waits step_seconds per step and can be aborted while waiting', async () => {
    const w = benchmarkWorkload({ kind: 'benchmark', function: 'branin', step_seconds: 30 });
    const ac = new AbortController();
    const rec = context(0, { name: 'epochs', min: 1, max: 3 }, { signal: ac.signal });
    const run = w({ x1: 0, x2: 0 }, rec.ctx);
    setTimeout(() => ac.abort(new Error('cancelled')), 20);
    await expect(run).rejects.toThrow('cancelled');
    expect(rec.reports).toHaveLength(0);
  });

  it('rejects an unknown function with a did-you-mean and the allowed names', () => {
    let caught: unknown;
    try {
      benchmarkWorkload({ kind: 'benchmark', function: 'hartman6' });
    } catch (e) {
      caught = e;
    }
    expect(isUserError(caught)).toBe(true);
    expect((caught as Error).message).toBe(
      'unknown benchmark function "hartman6" (did you mean "hartmann6"?); allowed: branin, hartmann6, rosenbrock, levy, ackley, styblinski_tang, zdt1, zdt2, dtlz2, mixed',
    );
  });
});

describe('benchmarkSteps', () => {
  it('reports every integer step for small budgets', () => {
    expect(benchmarkSteps({ name: 'epochs', min: 0.5, max: 4 })).toEqual([1, 2, 3, 4]);
    expect(benchmarkSteps({ name: 'epochs', min: 3, max: 3 })).toEqual([3]);
  });

  it('spreads at most 50 steps geometrically for large budgets, ending at max', () => {
    const steps = benchmarkSteps({ name: 'iters', min: 1, max: 10_000 });
    expect(steps.length).toBeLessThanOrEqual(50);
    expect(steps[0]).toBe(1);
    expect(steps[steps.length - 1]).toBe(10_000);
    for (let i = 1; i < steps.length; i++) expect(steps[i]).toBeGreaterThan(steps[i - 1]);
    expect(steps).toContain(1);
  });
});

describe('benchmarkSpaceParams and benchmarkSpaceProblems', () => {
  it('gives a params block of the right size and types', () => {
    expect(Object.keys(benchmarkSpaceParams('rosenbrock(d=3)'))).toEqual(['x1', 'x2', 'x3']);
    expect(benchmarkSpaceParams('mixed')).toEqual({
      x1: { type: 'float', low: -5, high: 10 },
      x2: { type: 'int', low: 0, high: 15 },
      c: { type: 'categorical', choices: ['a', 'b', 'c', 'd'] },
    });
  });

  it('finds objectives the function does not report and params it needs', () => {
    const ok = { objectives: [{ name: 'value' }], params: benchmarkSpaceParams('branin'), workload: { kind: 'benchmark', function: 'branin' } };
    expect(benchmarkSpaceProblems(ok)).toEqual([]);
    const bad = { objectives: [{ name: 'loss' }], params: { x1: {} }, workload: { kind: 'benchmark', function: 'branin' } };
    expect(benchmarkSpaceProblems(bad)).toEqual([
      'objective "loss" is not produced by benchmark "branin"; it reports value',
      'benchmark "branin" needs param "x2"; it needs x1, x2',
    ]);
  });
});
