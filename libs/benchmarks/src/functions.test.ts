import { describe, expect, it } from 'vitest';
import { Rng, isUserError } from '@segtune/core';
import { paramSchema, type Params, type ParamSpec } from '@segtune/space';
import {
  BENCHMARK_FUNCTIONS,
  BENCHMARK_NAMES,
  MIXED_CATEGORIES,
  dtlz2,
  getBenchmark,
  log10Regret,
  mixedValue,
  rosenbrock,
  zdt1,
  zdt2,
  type BenchmarkFunction,
  type SingleObjectiveFunction,
} from './functions';

/** A uniform random point inside a function's params. */
function randomPoint(fn: BenchmarkFunction, rng: Rng): Params {
  const out: Params = {};
  for (const [name, p] of Object.entries(fn.params) as [string, ParamSpec][]) {
    if (p.type === 'float') out[name] = rng.uniform(p.low, p.high);
    else if (p.type === 'int') out[name] = p.low + rng.int(p.high - p.low + 1);
    else out[name] = rng.choice(p.choices);
  }
  return out;
}

function expectUserError(f: () => unknown, pattern: RegExp) {
  let caught: unknown;
  try {
    f();
  } catch (e) {
    caught = e;
  }
  expect(isUserError(caught)).toBe(true);
  expect((caught as Error).message).toMatch(pattern);
  expect((caught as Error).message).not.toContain('\n');
}

const singles = Object.values(BENCHMARK_FUNCTIONS).filter((f): f is SingleObjectiveFunction => f.kind === 'single');

describe('registry', () => {
  it('holds the ten functions under lower-case names, with objectives and space-compatible params', () => {
    expect([...BENCHMARK_NAMES].sort()).toEqual(['ackley', 'branin', 'dtlz2', 'hartmann6', 'levy', 'mixed', 'rosenbrock', 'styblinski_tang', 'zdt1', 'zdt2']);
    for (const [key, fn] of Object.entries(BENCHMARK_FUNCTIONS)) {
      expect(fn.name).toBe(key);
      expect(Object.keys(fn.params)).toHaveLength(fn.dimension);
      for (const p of Object.values(fn.params)) expect(paramSchema.safeParse(p).success).toBe(true);
      expect(fn.objectives.every((o) => o.direction === 'minimize')).toBe(true);
    }
    expect(BENCHMARK_FUNCTIONS.branin.objectives.map((o) => o.name)).toEqual(['value']);
    expect(BENCHMARK_FUNCTIONS.zdt1.objectives.map((o) => o.name)).toEqual(['f1', 'f2']);
    expect(BENCHMARK_FUNCTIONS.dtlz2.objectives.map((o) => o.name)).toEqual(['f1', 'f2', 'f3']);
  });

  it('uses the documented default dimensions', () => {
    const dims = Object.fromEntries(Object.entries(BENCHMARK_FUNCTIONS).map(([k, f]) => [k, f.dimension]));
    expect(dims).toEqual({ branin: 2, hartmann6: 6, rosenbrock: 4, levy: 6, ackley: 4, styblinski_tang: 4, zdt1: 30, zdt2: 30, dtlz2: 12, mixed: 3 });
  });

  it('parses options and builds other sizes', () => {
    expect(getBenchmark('rosenbrock(d=7)').dimension).toBe(7);
    const f = getBenchmark(' DTLZ2( d = 7 , m = 4 ) ');
    expect(f.dimension).toBe(7);
    expect(f.objectives).toHaveLength(4);
    expect(getBenchmark('styblinski-tang').name).toBe('styblinski_tang');
    expect(getBenchmark('branin')).toBe(BENCHMARK_FUNCTIONS.branin);
  });

  it('rejects unknown names, options and sizes with one line', () => {
    expectUserError(() => getBenchmark('brannin'), /unknown benchmark function "brannin" \(did you mean "branin"\?\); allowed: branin, hartmann6/);
    expectUserError(() => getBenchmark('rosenbrock(k=3)'), /no option "k" \(did you mean "d"\?\); allowed: d/);
    expectUserError(() => getBenchmark('branin(d=3)'), /takes no options/);
    expectUserError(() => getBenchmark('rosenbrock(d=1)'), /d must be an integer >= 2, got 1/);
    expectUserError(() => getBenchmark('dtlz2(d=2, m=3)'), /d must be an integer >= 3/);
    expectUserError(() => getBenchmark('rosenbrock(d=x)'), /malformed/);
    expectUserError(() => getBenchmark('ros enbrock'), /malformed/);
  });

  it('names missing or mistyped params', () => {
    expectUserError(() => BENCHMARK_FUNCTIONS.branin.evaluate({ x1: 1 }), /missing param "x2"; it needs x1, x2/);
    expectUserError(() => BENCHMARK_FUNCTIONS.branin.evaluate({ x1: 1, x2: 'a' }), /"x2" must be a number/);
    expectUserError(() => BENCHMARK_FUNCTIONS.mixed.evaluate({ x1: 1, x2: 2, c: 'z' }), /"c" must be one of a, b, c, d/);
  });
});

describe('single-objective optima', () => {
  it('match the published values', () => {
    expect(BENCHMARK_FUNCTIONS.branin.kind === 'single' && BENCHMARK_FUNCTIONS.branin.optimum.value).toBeCloseTo(0.397887, 6);
    expect((BENCHMARK_FUNCTIONS.hartmann6 as SingleObjectiveFunction).optimum.value).toBeCloseTo(-3.32237, 5);
    expect((BENCHMARK_FUNCTIONS.styblinski_tang as SingleObjectiveFunction).optimum.value / 4).toBeCloseTo(-39.16617, 5);
    expect((BENCHMARK_FUNCTIONS.rosenbrock as SingleObjectiveFunction).optimum.value).toBe(0);
    expect((BENCHMARK_FUNCTIONS.levy as SingleObjectiveFunction).optimum.value).toBe(0);
    expect((BENCHMARK_FUNCTIONS.ackley as SingleObjectiveFunction).optimum.value).toBeLessThanOrEqual(1e-15);
  });

  it.each(singles.map((f) => [f.name, f] as const))('%s: every listed minimiser attains the optimum, and 2,000 random points stay above it', (_, fn) => {
    for (const loc of fn.optimum.locations) expect(fn.evaluate(loc)[0]).toBeCloseTo(fn.optimum.value, 10);
    const rng = new Rng(`optimum/${fn.name}`);
    for (let i = 0; i < 2000; i++) expect(fn.evaluate(randomPoint(fn, rng))[0]).toBeGreaterThanOrEqual(fn.optimum.value - 1e-9);
  });

  it.each(singles.filter((f) => f.name !== 'mixed').map((f) => [f.name, f] as const))('%s: small moves around the minimiser do not go lower', (_, fn) => {
    const rng = new Rng(`local/${fn.name}`);
    const loc = fn.optimum.locations[0];
    for (let i = 0; i < 500; i++) {
      const p: Params = {};
      for (const [k, v] of Object.entries(loc)) p[k] = (v as number) + rng.normal(0, 1e-4);
      expect(fn.evaluate(p)[0]).toBeGreaterThanOrEqual(fn.optimum.value - 1e-12);
    }
  });

  it('known values at hand-computed points', () => {
    expect(BENCHMARK_FUNCTIONS.rosenbrock.evaluate({ x1: 0, x2: 0, x3: 0, x4: 0 })[0]).toBe(3);
    expect(rosenbrock(2).evaluate({ x1: -1, x2: 1 })[0]).toBe(4);
    expect(BENCHMARK_FUNCTIONS.styblinski_tang.evaluate({ x1: 0, x2: 0, x3: 0, x4: 1 })[0]).toBe(-5);
    // Ackley at x = 1 everywhere: -20 e^{-0.2} - e + 20 + e.
    expect(BENCHMARK_FUNCTIONS.ackley.evaluate({ x1: 1, x2: 1, x3: 1, x4: 1 })[0]).toBeCloseTo(20 - 20 * Math.exp(-0.2), 12);
    // Branin at the origin: (−6)² + 10(1 − 1/(8π)) + 10.
    expect(BENCHMARK_FUNCTIONS.branin.evaluate({ x1: 0, x2: 0 })[0]).toBeCloseTo(36 + 10 * (1 - 1 / (8 * Math.PI)) + 10, 12);
  });

  it('mixed: a brute-force grid over every category and integer finds nothing below the optimum', () => {
    const fn = BENCHMARK_FUNCTIONS.mixed as SingleObjectiveFunction;
    let best = Infinity;
    for (const c of Object.keys(MIXED_CATEGORIES)) {
      for (let x2 = 0; x2 <= 15; x2++) {
        for (let i = 0; i <= 3000; i++) best = Math.min(best, mixedValue(-5 + (15 * i) / 3000, x2, c));
      }
    }
    expect(best).toBeGreaterThanOrEqual(fn.optimum.value - 1e-12);
    expect(best - fn.optimum.value).toBeLessThan(1e-4);
    const loc = fn.optimum.locations[0];
    expect(Number.isInteger(loc.x2)).toBe(true);
    expect(Object.keys(MIXED_CATEGORIES)).toContain(loc.c);
  });

  it('log10Regret is finite at the optimum and grows with the gap', () => {
    const fn = BENCHMARK_FUNCTIONS.branin as SingleObjectiveFunction;
    expect(log10Regret(fn, fn.optimum.value)).toBe(-12);
    expect(log10Regret(fn, fn.optimum.value + 0.01)).toBeCloseTo(-2, 10);
  });
});

/** 2-D hypervolume of a point set by a sweep (loss space), for checking the closed forms. */
function hv2(points: number[][], r: readonly number[]): number {
  const ps = points.filter((p) => p[0] < r[0] && p[1] < r[1]).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const stairs: number[][] = [];
  for (const p of ps) if (stairs.length === 0 || p[1] < stairs[stairs.length - 1][1]) stairs.push(p);
  let hv = 0;
  stairs.forEach((p, i) => {
    hv += ((stairs[i + 1]?.[0] ?? r[0]) - p[0]) * (r[1] - p[1]);
  });
  return hv;
}

describe('multi-objective fronts', () => {
  it.each([
    ['zdt1', zdt1(5), (a: number) => 1 - Math.sqrt(a)],
    ['zdt2', zdt2(5), (a: number) => 1 - a * a],
  ] as const)('%s: sampled and solved front points lie on the curve; random points never beat it', (name, fn, curve) => {
    for (const [a, b] of fn.optimum.sample(11)) expect(b).toBeCloseTo(curve(a), 12);
    for (const t of [0, 0.2, 0.7, 1]) {
      const [a, b] = fn.evaluate(fn.optimum.solutionAt([t]));
      expect(a).toBeCloseTo(t, 12);
      expect(b).toBeCloseTo(curve(t), 12);
    }
    const rng = new Rng(name);
    for (let i = 0; i < 1000; i++) {
      const [a, b] = fn.evaluate(randomPoint(fn, rng));
      expect(b).toBeGreaterThanOrEqual(curve(a) - 1e-12);
    }
  });

  it.each([
    ['zdt1', [11, 11], 121 - 1 / 3],
    ['zdt1', [1, 1], 2 / 3],
    ['zdt2', [11, 11], 121 - 2 / 3],
    ['zdt2', [1, 1], 1 / 3],
  ] as const)('%s: closed-form front hypervolume at %j is %d and matches a dense sweep', (name, r, expected) => {
    const fn = name === 'zdt1' ? zdt1() : zdt2();
    expect(fn.optimum.hypervolumeAt(r)).toBeCloseTo(expected, 12);
    const dense = fn.optimum.sample(20001);
    expect(hv2(dense, r)).toBeCloseTo(expected, 3);
  });

  it('zdt: hypervolume at reference points inside the front box matches a dense sweep', () => {
    for (const fn of [zdt1(), zdt2()]) {
      for (const r of [
        [0.5, 0.9],
        [0.8, 0.3],
        [2, 0.5],
        [0.3, 3],
      ]) {
        expect(fn.optimum.hypervolumeAt(r)!).toBeCloseTo(hv2(fn.optimum.sample(40001), r), 3);
      }
    }
    expect(zdt1().optimum.hypervolume).toBeCloseTo(121 - 1 / 3, 12);
  });

  it('dtlz2: front points lie on the unit sphere; random points lie outside it', () => {
    for (const m of [2, 3, 4]) {
      const fn = dtlz2(m + 4, m);
      for (const f of fn.optimum.sample(50)) {
        expect(Math.hypot(...f)).toBeCloseTo(1, 12);
        expect(f.every((v) => v >= -1e-12)).toBe(true);
      }
      const rng = new Rng(`dtlz2/${m}`);
      for (let i = 0; i < 500; i++) expect(Math.hypot(...fn.evaluate(randomPoint(fn, rng)))).toBeGreaterThanOrEqual(1 - 1e-12);
      expect(Math.hypot(...fn.evaluate(fn.optimum.solutionAt(new Array(m - 1).fill(0.3))))).toBeCloseTo(1, 12);
    }
  });

  it('dtlz2: front hypervolume = box minus the unit ball orthant (Monte Carlo check, m = 3 and 4)', () => {
    expect(dtlz2().optimum.hypervolume).toBeCloseTo(1.331 - Math.PI / 6, 12);
    expect(dtlz2(7, 4).optimum.hypervolumeAt([2, 2, 2, 2])).toBeCloseTo(16 - Math.PI ** 2 / 2 / 16, 12);
    expect(dtlz2().optimum.hypervolumeAt([0.5, 2, 2])).toBeUndefined();
    const rng = new Rng('dtlz2-mc');
    const r = [1.5, 1.2, 1.1];
    let hit = 0;
    const n = 200_000;
    for (let i = 0; i < n; i++) {
      const y = r.map((v) => rng.uniform(0, v));
      if (Math.hypot(...y) >= 1) hit++;
    }
    expect((hit / n) * 1.5 * 1.2 * 1.1).toBeCloseTo(dtlz2().optimum.hypervolumeAt(r)!, 2);
  });
});
