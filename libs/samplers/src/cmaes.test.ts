import { describe, expect, it } from 'vitest';
import { type Objective, type Trial } from '@segtune/core';
import { Space, type Params } from '@segtune/space';
import { CmaEsSampler } from './cmaes';
import { createSampler } from './registry';
import { driveSampler } from './drive';

const MIN: Objective[] = [{ name: 'value', direction: 'minimize' }];
const best = (trials: Trial[]) => Math.min(...trials.map((t) => t.values![0]));
const floats = (d: number, low = -5, high = 5) => new Space(Array.from({ length: d }, (_, i) => ({ name: `x${i}`, type: 'float' as const, low, high })));
const xs = (p: Params, d: number) => Array.from({ length: d }, (_, i) => p[`x${i}`] as number);

describe('CMA-ES converges', () => {
  it('sphere in 4-D: best value below 1e-6 after 600 trials in 5 of 5 seeds (linear convergence)', async () => {
    for (let seed = 0; seed < 5; seed++) {
      const { trials } = await driveSampler(new CmaEsSampler(), floats(4), MIN, (p) => [xs(p, 4).reduce((a, v) => a + (v - 1) ** 2, 0)], 600, seed);
      expect(best(trials)).toBeLessThan(1e-6);
    }
  });

  it('rosenbrock in 3-D: best value below 1e-3 after 1,000 trials in at least 4 of 5 seeds', async () => {
    let hits = 0;
    for (let seed = 0; seed < 5; seed++) {
      const rosen = (p: Params) => {
        const x = xs(p, 3);
        let f = 0;
        for (let i = 0; i < 2; i++) f += 100 * (x[i + 1] - x[i] ** 2) ** 2 + (1 - x[i]) ** 2;
        return [f];
      };
      const { trials } = await driveSampler(new CmaEsSampler({ restartStrategy: 'none' }), floats(3, -2, 2), MIN, rosen, 1000, seed);
      if (best(trials) < 1e-3) hits++;
    }
    expect(hits).toBeGreaterThanOrEqual(4);
  });

  it('is a pure function of the history: a fresh sampler suggests what a warm one does', async () => {
    const space = floats(3);
    const f = (p: Params) => [xs(p, 3).reduce((a, v) => a + v * v, 0)];
    const warm = new CmaEsSampler();
    const { trials } = await driveSampler(warm, space, MIN, f, 37, 4);
    const ctx = { space, objectives: MIN, constraints: [], history: trials, running: [], rng: undefined as never, trialNumber: 37, seed: 4 };
    expect(new CmaEsSampler().suggest(ctx)).toEqual(warm.suggest(ctx));
  });
});

describe('CMA-ES with margin', () => {
  it('keeps an integer param exploring where plain rounding freezes it', async () => {
    // The optimum in n is 7, but a continuous CMA-ES can collapse onto a wrong integer early:
    // with margin the run keeps trying other values of n late in the run.
    const space = new Space([
      { name: 'n', type: 'int', low: 0, high: 20 },
      { name: 'x', type: 'float', low: -3, high: 3 },
    ]);
    const f = (p: Params) => [((p.n as number) - 7) ** 2 * 0.01 + (p.x as number) ** 2];
    const distinctLate = async (withMargin: boolean) => {
      let total = 0;
      for (let seed = 0; seed < 4; seed++) {
        const { trials } = await driveSampler(new CmaEsSampler({ withMargin, restartStrategy: 'none' }), space, MIN, f, 300, seed);
        for (const t of trials) expect(Number.isInteger(t.params.n)).toBe(true);
        total += new Set(trials.slice(200).map((t) => t.params.n)).size;
      }
      return total;
    };
    const margin = await distinctLate(true);
    const plain = await distinctLate(false);
    expect(margin).toBeGreaterThanOrEqual(8); // at least two values of n late in every run
    expect(margin).toBeGreaterThan(plain);
  });
});

describe('CMA-ES restarts and delegation', () => {
  it('restarts (IPOP) on a multimodal function and then samples with a larger population', async () => {
    // Rastrigin in 2-D: a run converges to a local minimum long before 600 trials; restarts
    // show as a growing spread of the suggestions after a converged phase.
    const space = floats(2, -5.12, 5.12);
    const rastrigin = (p: Params) => [xs(p, 2).reduce((a, v) => a + v * v - 10 * Math.cos(2 * Math.PI * v) + 10, 0)];
    const s = new CmaEsSampler();
    const { trials } = await driveSampler(s, space, MIN, rastrigin, 600, 1);
    const internal = (s as unknown as { replay: { state: { restarts: number; lambda: number } } }).replay.state;
    expect(internal.restarts).toBeGreaterThanOrEqual(1);
    expect(internal.lambda).toBeGreaterThan(6); // 4 + ⌊3 ln 2⌋ = 6 at the start
    const none = new CmaEsSampler({ restartStrategy: 'none' });
    await driveSampler(none, space, MIN, rastrigin, 600, 1);
    expect((none as unknown as { replay: { state: { restarts: number } } }).replay.state.restarts).toBe(0);
    expect(trials).toHaveLength(600);
  });

  it('samples categorical params at random with one warning, and the numeric ones still converge', async () => {
    const space = new Space([
      { name: 'c', type: 'categorical', choices: ['a', 'b', 'c'] },
      { name: 'x0', type: 'float', low: -5, high: 5 },
      { name: 'x1', type: 'float', low: -5, high: 5 },
    ]);
    const warnings: string[] = [];
    const s = createSampler({ kind: 'cmaes' });
    s.onWarning = (m) => warnings.push(m);
    // The categorical does not change the value here: it is noise-free for the numeric part.
    const { trials } = await driveSampler(s, space, MIN, (p) => [xs(p, 2).reduce((a, v) => a + v * v, 0)], 200, 3);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/sampler "cmaes": "c" is categorical or conditional and sampled independently at random/);
    expect(new Set(trials.slice(100).map((t) => t.params.c)).size).toBe(3);
    const late = trials.slice(150).map((t) => Math.hypot(...xs(t.params, 2)));
    expect(Math.max(...late)).toBeLessThan(0.1);
  });

  it('rejects several objectives and bad options in one line', () => {
    expect(() => createSampler({ kind: 'cmaes', sigma0: 2 })).toThrow(/sampler "cmaes": option "sigma0" must be a number in \(0, 1\], got 2/);
    expect(() => createSampler({ kind: 'cmaes', restart: 'ipop' })).toThrow(/unknown option "restart"/);
    const s = createSampler('cmaes');
    const ctx = { space: floats(2), objectives: [...MIN, { name: 'b', direction: 'minimize' as const }], constraints: [], history: [], running: [], rng: undefined as never, trialNumber: 0, seed: 0 };
    expect(() => s.suggest(ctx)).toThrow(/optimises one objective; this study has 2/);
  });
});
