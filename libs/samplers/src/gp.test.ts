import { describe, expect, it } from 'vitest';
import { Rng, parseConstraint, type Objective, type Trial } from '@segtune/core';
import { Space, type Params } from '@segtune/space';
import { GpSampler, yeoJohnson, yeoJohnsonWarp } from './gp';
import { GaussianProcess } from './gaussian-process';
import { driveSampler, fakeTrial } from './drive';
import { logExpectedImprovement, logH, normCdf } from './normal';

const MIN: Objective[] = [{ name: 'value', direction: 'minimize' }];
const fast = { nCandidates: 256, fitRestarts: 1 };

function best(trials: Trial[]): Trial {
  return trials.reduce((a, b) => (b.values![0] < a.values![0] ? b : a));
}

describe('GP-BO finds optima', () => {
  it('1-D quadratic: best x within 0.01 of 1.234 on [-5, 5] after 20 trials, in at least 9 of 10 seeds', async () => {
    const space = new Space([{ name: 'x', type: 'float', low: -5, high: 5 }]);
    let hits = 0;
    for (let seed = 0; seed < 10; seed++) {
      const s = new GpSampler(fast);
      s.onWarning = () => {};
      const { trials } = await driveSampler(s, space, MIN, (p) => [((p.x as number) - 1.234) ** 2], 20, seed);
      if (Math.abs((best(trials).params.x as number) - 1.234) < 0.01) hits++;
    }
    expect(hits).toBeGreaterThanOrEqual(9);
  });

  it('2-D quadratic: best point within 0.05 of (1, -2) on [-5, 5]² after 30 trials, in at least 9 of 10 seeds', async () => {
    const space = new Space([
      { name: 'x', type: 'float', low: -5, high: 5 },
      { name: 'y', type: 'float', low: -5, high: 5 },
    ]);
    let hits = 0;
    for (let seed = 0; seed < 10; seed++) {
      const s = new GpSampler(fast);
      s.onWarning = () => {};
      const { trials } = await driveSampler(s, space, MIN, (p) => [((p.x as number) - 1) ** 2 + ((p.y as number) + 2) ** 2], 30, seed);
      const b = best(trials).params;
      if (Math.hypot((b.x as number) - 1, (b.y as number) + 2) < 0.05) hits++;
    }
    expect(hits).toBeGreaterThanOrEqual(9);
  });

  it('rounds integers and picks categoricals inside the acquisition', async () => {
    const space = new Space([
      { name: 'n', type: 'int', low: 0, high: 40 },
      { name: 'c', type: 'categorical', choices: ['a', 'b', 'c'] },
      { name: 'x', type: 'float', low: 0, high: 1 },
    ]);
    const f = (p: Params) => [((p.n as number) - 27) ** 2 / 50 + (p.c === 'b' ? 0 : 1) + ((p.x as number) - 0.4) ** 2];
    let hits = 0;
    for (let seed = 0; seed < 5; seed++) {
      const s = new GpSampler(fast);
      s.onWarning = () => {};
      const { trials } = await driveSampler(s, space, MIN, f, 30, seed);
      for (const t of trials) expect(Number.isInteger(t.params.n)).toBe(true);
      const b = best(trials).params;
      if (b.n === 27 && b.c === 'b') hits++;
    }
    expect(hits).toBeGreaterThanOrEqual(4);
  });
});

describe('GP fallback and pending trials', () => {
  it('samples without a model below n_startup_trials and warns once', async () => {
    const warnings: string[] = [];
    const s = new GpSampler({ nStartupTrials: 5, ...fast });
    s.onWarning = (m) => warnings.push(m);
    const space = new Space([{ name: 'x', type: 'float', low: 0, high: 1 }]);
    const { trials } = await driveSampler(s, space, MIN, (p) => [(p.x as number) ** 2], 8, 1);
    expect(trials).toHaveLength(8);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/sampler "gp": 0 completed trial\(s\), fewer than the 5/);
  });

  it('moves away from a pending trial at the acquisition optimum (kriging believer)', () => {
    const space = new Space([{ name: 'x', type: 'float', low: 0, high: 1 }]);
    const history = [0.05, 0.2, 0.35, 0.65, 0.8, 0.95].map((x, i) => fakeTrial(i, { x }, [(x - 0.5) ** 2], MIN));
    const ctx = (running: Trial[]) => ({ space, objectives: MIN, constraints: [], history, running, rng: new Rng(3), trialNumber: 6, seed: 3 });
    const s = new GpSampler({ nStartupTrials: 3, ...fast });
    const alone = s.suggest(ctx([])).x as number;
    expect(Math.abs(alone - 0.5)).toBeLessThan(0.1);
    const pending = { ...fakeTrial(6, { x: alone }, undefined, MIN), state: 'running' as const };
    const next = s.suggest(ctx([pending])).x as number;
    expect(Math.abs(next - alone)).toBeGreaterThan(0.01);
  });

  it('converges to a constrained optimum on the boundary from the feasible side', async () => {
    const space = new Space([{ name: 'x', type: 'float', low: 0, high: 1 }]);
    const c = parseConstraint('size <= 0.6')!;
    let feasibleLate = 0;
    for (let seed = 0; seed < 3; seed++) {
      const s = new GpSampler({ ...fast, nStartupTrials: 5 });
      s.onWarning = () => {};
      const { trials } = await driveSampler(s, space, MIN, (p) => ({ values: [1 - (p.x as number)], metrics: { size: p.x as number } }), 20, seed, [c]);
      // The unconstrained optimum is x = 1; the constrained one x = 0.6.
      feasibleLate += trials.slice(10).filter((t) => (t.params.x as number) <= 0.605).length;
      const feasible = trials.filter((t) => (t.params.x as number) <= 0.6);
      expect(Math.max(...feasible.map((t) => t.params.x as number))).toBeGreaterThan(0.59);
    }
    expect(feasibleLate).toBeGreaterThanOrEqual(27);
  });
});

describe('GP numerics', () => {
  it('interpolates noiseless data and fits sensible hyperparameters', () => {
    const xs = Array.from({ length: 12 }, (_, i) => i / 11);
    const X = xs.map((x) => Float64Array.of(x));
    const gp = GaussianProcess.fit(X, xs.map((x) => Math.sin(6 * x)), new Rng(1), { restarts: 2, maxIter: 60 });
    for (const x of [0.13, 0.5, 0.77]) {
      const p = gp.predict(Float64Array.of(x));
      expect(p.mu * gp.std + gp.mean).toBeCloseTo(Math.sin(6 * x), 2);
    }
    const at = gp.predict(X[3]);
    expect(at.sigma).toBeLessThan(0.05);
  });

  it('computes log EI in the far tail without underflow', () => {
    // h(z) = zΦ(z) + φ(z); at z = -2 directly, far out by the continued fraction.
    const z = -2;
    expect(Math.exp(logH(z))).toBeCloseTo(z * normCdf(z) + Math.exp(-z * z / 2) / Math.sqrt(2 * Math.PI), 8);
    const far = logExpectedImprovement(40, 1, 0);
    expect(Number.isFinite(far)).toBe(true);
    // Asymptotically log h(-t) ≈ -t²/2 - log(√(2π)) - 2 log t.
    expect(far).toBeCloseTo(-800 - 0.5 * Math.log(2 * Math.PI) - 2 * Math.log(40), 1);
    // No jump where the two formulas meet (the slope there is about 3.3).
    expect(Math.abs(logH(-3.0001) - logH(-2.9999))).toBeLessThan(1e-3);
  });

  it('extends a GP by new rows exactly as refitting with the same hyperparameters would', () => {
    const rng = new Rng(5);
    const X = Array.from({ length: 30 }, () => Float64Array.from({ length: 3 }, () => rng.random()));
    const y = X.map((x) => Math.sin(4 * x[0]) + x[1] - x[2] * x[2]);
    const gp = GaussianProcess.fit(X.slice(0, 20), y.slice(0, 20), rng, { restarts: 0, maxIter: 30 });
    const extended = gp.extend(X, y);
    const direct = GaussianProcess.condition(X, y, gp.theta);
    for (const x of [X[3], X[25], Float64Array.of(0.1, 0.9, 0.4)]) {
      const a = extended.predict(x);
      const b = direct.predict(x);
      expect(a.mu).toBeCloseTo(b.mu, 8);
      expect(a.sigma).toBeCloseTo(b.sigma, 8);
    }
  });

  it('has analytic gradients of the posterior mean and deviation that match finite differences', () => {
    const rng = new Rng(2);
    const X = Array.from({ length: 25 }, () => Float64Array.from({ length: 3 }, () => rng.random()));
    const gp = GaussianProcess.fit(X, X.map((x) => Math.cos(3 * x[0]) * x[1] + x[2]), rng, { restarts: 0, maxIter: 30 });
    for (const x of [Float64Array.of(0.3, 0.6, 0.2), Float64Array.of(0.9, 0.1, 0.5)]) {
      const p = gp.predictWithGradient(x);
      for (let f = 0; f < 3; f++) {
        const h = 1e-6;
        const xp = Float64Array.from(x);
        const xm = Float64Array.from(x);
        xp[f] += h;
        xm[f] -= h;
        const a = gp.predict(xp);
        const b = gp.predict(xm);
        expect(p.dmu[f]).toBeCloseTo((a.mu - b.mu) / (2 * h), 4);
        expect(p.dsigma[f]).toBeCloseTo((a.sigma - b.sigma) / (2 * h), 4);
      }
    }
  });

  it('warm-starts from the previous history\'s fit and stays close to a cold fit of the same history', async () => {
    const space = new Space([
      { name: 'x', type: 'float', low: 0, high: 1 },
      { name: 'y', type: 'float', low: 0, high: 1 },
    ]);
    const f = (p: Params) => [Math.sin(6 * (p.x as number)) + ((p.y as number) - 0.3) ** 2];
    const warm = new GpSampler({ ...fast, nStartupTrials: 5 });
    const { trials } = await driveSampler(warm, space, MIN, f, 25, 7);
    // A cold sampler on the same history suggests (nearly) the same point.
    const ctx = { space, objectives: MIN, constraints: [], history: trials, running: [], rng: new Rng(9), trialNumber: 25, seed: 7 };
    const a = warm.suggest(ctx);
    const b = new GpSampler({ ...fast, nStartupTrials: 5 }).suggest({ ...ctx, rng: new Rng(9) });
    expect(Math.hypot((a.x as number) - (b.x as number), (a.y as number) - (b.y as number))).toBeLessThan(0.05);
  });
});

describe('output warping (Yeo-Johnson)', () => {
  it('is increasing for every λ and continuous at λ = 0 and 2', () => {
    for (const lambda of [0, 1e-13, 0.3, 1, 1.7, 2, 2 - 1e-13]) {
      let prev = -Infinity;
      for (let z = -5; z <= 5; z += 0.25) {
        const v = yeoJohnson(z, lambda);
        expect(v).toBeGreaterThan(prev);
        prev = v;
      }
    }
    expect(yeoJohnson(3, 1e-9)).toBeCloseTo(yeoJohnson(3, 0), 6);
    expect(yeoJohnson(-3, 2 - 1e-9)).toBeCloseTo(yeoJohnson(-3, 2), 6);
    expect(yeoJohnson(-2.5, 1)).toBeCloseTo(-2.5, 12); // λ = 1: the identity
  });

  it('keeps the order, compresses a long tail of bad values, and leaves symmetric values nearly alone', () => {
    const rng = new Rng(4);
    // Losses of an ill-conditioned function: most small, a few enormous.
    const skewed = Array.from({ length: 60 }, () => Math.exp(6 * rng.random()));
    const w = yeoJohnsonWarp(skewed);
    const order = (xs: number[]) => xs.map((_, i) => i).sort((a, b) => xs[a] - xs[b]);
    expect(order(w)).toEqual(order(skewed));
    const spreadOfBest = (xs: number[]) => {
      const s = [...xs].sort((a, b) => a - b);
      return (s[15] - s[0]) / (s[59] - s[0]);
    };
    expect(spreadOfBest(w)).toBeGreaterThan(2 * spreadOfBest(skewed)); // the good quarter gets room
    const symmetric = Array.from({ length: 60 }, () => rng.normal(3, 2));
    const mean = symmetric.reduce((a, b) => a + b, 0) / 60;
    const sd = Math.sqrt(symmetric.reduce((a, b) => a + (b - mean) ** 2, 0) / 60);
    const ws = yeoJohnsonWarp(symmetric);
    ws.forEach((v, i) => expect(Math.abs(v - (symmetric[i] - mean) / sd)).toBeLessThan(0.35));
    expect(yeoJohnsonWarp([1, 1, 1])).toEqual([1, 1, 1]);
    expect(yeoJohnsonWarp([2, 5])).toEqual([2, 5]);
  });

  it('is the default, and `none` switches it off', async () => {
    expect(new GpSampler().options.outputWarping).toBe('yeo-johnson');
    // Rosenbrock's few huge values flatten an unwarped model where the valley is: the warped GP
    // gets closer to the optimum on most seeds at the same budget.
    const space = new Space([
      { name: 'x', type: 'float', low: -2, high: 2 },
      { name: 'y', type: 'float', low: -1, high: 3 },
    ]);
    const f = (p: Params) => [100 * ((p.y as number) - (p.x as number) ** 2) ** 2 + (1 - (p.x as number)) ** 2];
    let wins = 0;
    for (let seed = 0; seed < 6; seed++) {
      const run = async (outputWarping: 'yeo-johnson' | 'none') => {
        const s = new GpSampler({ ...fast, outputWarping });
        s.onWarning = () => {};
        return best((await driveSampler(s, space, MIN, f, 30, seed)).trials).values![0];
      };
      if ((await run('yeo-johnson')) < (await run('none'))) wins++;
    }
    expect(wins).toBeGreaterThanOrEqual(4);
  });
});
