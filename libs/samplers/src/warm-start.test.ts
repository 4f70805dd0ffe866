import { describe, expect, it } from 'vitest';
import { Rng, type Sampler, type Trial } from '@segtune/core';
import { parseSpace } from '@segtune/space';
import { fakeTrial } from './drive';
import { TpeSampler, priorAgreement } from './tpe';
import { observe, observePrior } from './observations';
import { GpSampler } from './gp';
import { CmaEsSampler } from './cmaes';
import { RandomSampler } from './random';

// Prior observations (a warm start) move a sampler's first suggestions to the earlier study's
// optimum, and the study's own trials outweigh them once they accumulate.

const { space } = parseSpace('name: s\nobjectives: [{ name: loss, direction: minimize }]\nparams:\n  x: { type: float, low: 0, high: 1 }\n  y: { type: float, low: 0, high: 1 }\nworkload: { kind: module, path: ./w.mjs }\n');
const objectives = [{ name: 'loss', direction: 'minimize' as const }];
const sphere = (c: [number, number]) => (p: Record<string, unknown>) => (Number(p.x) - c[0]) ** 2 + (Number(p.y) - c[1]) ** 2;
const dist = (p: Record<string, unknown>, c: [number, number]) => Math.hypot(Number(p.x) - c[0], Number(p.y) - c[1]);

function priorAround(c: [number, number], n = 60, seed = 1): Trial[] {
  const rng = new Rng(seed);
  const f = sphere(c);
  return Array.from({ length: n }, (_, k) => {
    const params = { x: rng.random(), y: rng.random() };
    return { ...fakeTrial(k - n, params, [f(params)], objectives), id: k - n };
  });
}

/** Runs `n` trials on `f` (own history) and returns the suggestions. */
async function run(sampler: Sampler, f: (p: Record<string, unknown>) => number, n: number, prior?: Trial[], seed = 3): Promise<Trial[]> {
  const history: Trial[] = [];
  for (let k = 0; k < n; k++) {
    const params = await sampler.suggest({ space, objectives, constraints: [], history, running: [], rng: Rng.derive(seed, 'trial', k), trialNumber: k, seed, ...(prior ? { prior } : {}) });
    history.push(fakeTrial(k, params, [f(params)], objectives));
  }
  return history;
}

const SAMPLERS: [string, () => Sampler][] = [
  ['tpe', () => new TpeSampler()],
  ['gp', () => new GpSampler({ nCandidates: 256 })],
  ['cmaes', () => new CmaEsSampler()],
];

describe('warm start: prior observations', () => {
  const c: [number, number] = [0.8, 0.25];
  for (const [name, make] of SAMPLERS) {
    it(`${name}: the first suggestions go to the prior's optimum`, async () => {
      const f = sphere(c);
      const warm = await run(make(), f, 8, priorAround(c));
      const cold = await run(make(), f, 8);
      const median = (ts: Trial[]) => ts.map((t) => dist(t.params, c)).sort((a, b) => a - b)[Math.floor(ts.length / 2)];
      expect(median(warm)).toBeLessThan(0.15);
      expect(median(warm)).toBeLessThan(median(cold) / 2);
    });
  }

  it('tpe: a prior that ranks the study\'s trials badly fades out, one that ranks them well stays', async () => {
    const own: [number, number] = [0.15, 0.85];
    const prior = observePrior({ space, objectives, constraints: [], history: [], running: [], rng: new Rng(1), trialNumber: 0, seed: 1, prior: priorAround(c) });
    const ownObs = (centre: [number, number]) => observe({ space, objectives, constraints: [], history: priorAround(centre, 12, 5).map((t, k) => ({ ...t, number: k })), running: [], rng: new Rng(1), trialNumber: 0, seed: 1 }, false);
    expect(priorAgreement(prior, ownObs(own))).toBeLessThan(0.2);
    expect(priorAgreement(prior, ownObs([c[0] - 0.1, c[1] + 0.1]))).toBeGreaterThan(0.5);
    // And the search still improves on its own values (slowly: see bench/results/warm-start.md).
    const trials = await run(new TpeSampler(), sphere(own), 40, priorAround(c));
    expect(Math.min(...trials.slice(20).map((t) => t.values![0]))).toBeLessThan(Math.min(...trials.slice(0, 10).map((t) => t.values![0])) / 2);
  });

  for (const [name, make] of SAMPLERS.slice(1, 2)) {
    it(`${name}: the study's own trials outweigh a misleading prior`, async () => {
      const own: [number, number] = [0.15, 0.85];
      const trials = await run(make(), sphere(own), 50, priorAround(c));
      const last = trials.slice(-10);
      const nearOwn = last.filter((t) => dist(t.params, own) < dist(t.params, c)).length;
      expect(nearOwn).toBeGreaterThanOrEqual(8);
      expect(Math.min(...trials.map((t) => t.values![0]))).toBeLessThan(0.01);
    });
  }

  it('a sampler without prior support ignores it', async () => {
    const a = await run(new RandomSampler(), sphere(c), 5, priorAround(c));
    const b = await run(new RandomSampler(), sphere(c), 5);
    expect(a.map((t) => t.params)).toEqual(b.map((t) => t.params));
  });
});
