import { describe, expect, it } from 'vitest';
import { Rng, type SamplerContext, type Trial } from '@segtune/core';
import { Space } from '@segtune/space';
import { simulate, simulatorProblem } from '@segtune/benchmarks';
import { Pb2Scheduler } from './pb2';
import { PbtScheduler } from './pbt';
import { createStrategies } from './strategies';

const acc = [{ name: 'acc', direction: 'maximize' as const }];
const b16 = { name: 'epochs', min: 1, max: 16 };
const space = new Space([
  { name: 'lr', type: 'float', low: 1e-4, high: 1, log: true },
  { name: 'width', type: 'int', low: 8, high: 64 },
]);
const lrAt = (u: number) => space.decode([u, 0.5]).lr as number;
const uOf = (lr: number) => space.encode({ lr, width: 8 })[0];

/**
 * Twelve trials with lr spread over its log range. The improvement an interval brings peaks at
 * the encoded lr 0.7, while the trials that start high (far from 0.7) stay on top: the top
 * trials, the parents, sit where training improves least.
 */
function population(): Trial[] {
  const gain = (u: number) => 1 - 4 * (u - 0.7) ** 2;
  const trials: Trial[] = [];
  for (let i = 0; i < 12; i++) {
    const u = i / 11;
    const a4 = 0.3 + 0.5 * Math.abs(u - 0.7);
    const a8 = a4 + 0.05 * gain(u);
    const a12 = a8 + 0.05 * gain(u);
    trials.push({ id: i + 1, studyId: 1, number: i, state: 'running', params: { lr: lrAt(u), width: 16 + i }, intermediate: { 4: { acc: a4 }, 8: { acc: a8 }, 12: { acc: a12 } }, attrs: {}, createdAt: 0, seq: i + 1 });
  }
  return trials;
}

const ctxOf = (trials: Trial[], number: number): SamplerContext => ({
  space,
  objectives: acc,
  constraints: [],
  history: trials.filter((t) => t.state !== 'running'),
  running: trials.filter((t) => t.state === 'running'),
  rng: Rng.derive(1, 'sample', number),
  trialNumber: number,
  budget: b16,
  seed: 1,
});

describe('population-based bandits (PB2)', () => {
  it('moves the replacement to where the intervals improved most, where PBT stays by its parent', () => {
    const trials = population();
    const worst = trials.reduce((a, b) => ((a.intermediate[12].acc as number) < (b.intermediate[12].acc as number) ? a : b));
    worst.state = 'pruned';
    const pb2 = new Pb2Scheduler(b16, acc, { populationSize: 12, perturbationInterval: 4 }).suggest(ctxOf(trials, 12))!;
    // Intervals (4, 8] and (8, 12] of all twelve: a fresh trial's first interval has no start.
    expect(pb2.attrs).toMatchObject({ pbt_replaces: worst.number, pb2_points: 24 });
    const parent = trials.find((t) => t.number === pb2.attrs!.pbt_parent)!;
    expect(pb2.resume).toEqual({ trialNumber: parent.number, step: 12, rootTrialNumber: parent.number, transfer: true });
    expect(Math.abs(uOf(parent.params.lr as number) - 0.7)).toBeGreaterThan(0.4);
    expect(Math.abs(uOf(pb2.params.lr as number) - 0.7)).toBeLessThan(0.1);
    expect(pb2.params.width).toBe(parent.params.width); // not mutable
    // PBT's explore from the same history: a ×0.8 or ×1.2 step from its parent.
    const pbt = new PbtScheduler(b16, acc, { populationSize: 12, perturbationInterval: 4, resampleProbability: 0 }).suggest(ctxOf(trials, 12))!;
    const pbtParent = trials.find((t) => t.number === pbt.attrs!.pbt_parent)!;
    expect(Math.abs(uOf(pbt.params.lr as number) - uOf(pbtParent.params.lr as number))).toBeLessThan(0.03);
  });

  it("counts a replacement's first interval from its parent's value at the step it resumed from", () => {
    const trials = population();
    const parent = trials[0];
    trials.push({ id: 13, studyId: 1, number: 12, state: 'running', params: { lr: lrAt(0.5), width: 16 }, intermediate: { 9: { acc: 0.5 }, 12: { acc: 0.6 } }, attrs: { resumed_from_trial: parent.number, resumed_from_step: 8, pbt_parent: parent.number, pbt_replaces: 5 }, createdAt: 0, seq: 13 });
    trials[5].state = 'pruned';
    trials[5].intermediate = { 4: trials[5].intermediate[4], 8: { acc: 0 } };
    trials[3].state = 'pruned';
    const s = new Pb2Scheduler(b16, acc, { populationSize: 12, perturbationInterval: 4 }).suggest(ctxOf(trials, 13))!;
    expect(s.attrs).toMatchObject({ pbt_replaces: 3 });
    // 11 trials × 2 intervals, trial 5's one interval, and the replacement's (8, 12] from trial 0's step 8.
    expect(s.attrs!.pb2_points).toBe(11 * 2 + 1 + 1);
  });

  it("in a conditional space, chooses the mutable floats active in the parent and learns from the trials that had them", () => {
    const cond = new Space([
      { name: 'lr', type: 'float', low: 1e-4, high: 1, log: true },
      { name: 'opt', type: 'categorical', choices: ['adam', 'sgd'] },
      { name: 'momentum', type: 'float', low: 0.5, high: 0.99, when: { opt: 'sgd' } },
    ]);
    // The same population under adam (no momentum), plus two sgd trials that report too.
    const trials: Trial[] = population().map((t) => ({ ...t, params: { lr: t.params.lr, opt: 'adam' } }));
    for (const [k, u] of [0.2, 0.9].entries()) trials.push({ id: 13 + k, studyId: 1, number: 12 + k, state: 'running', params: { lr: lrAt(u), opt: 'sgd', momentum: 0.9 }, intermediate: { 4: { acc: 0.1 }, 8: { acc: 0.11 }, 12: { acc: 0.12 } }, attrs: {}, createdAt: 0, seq: 13 + k });
    const worst = trials.find((t) => t.number === 7)!;
    worst.state = 'pruned';
    const ctx = { ...ctxOf(trials, 14), space: cond };
    const s = new Pb2Scheduler(b16, acc, { populationSize: 12, perturbationInterval: 4 }).suggest(ctx)!;
    // Parents are adam trials (the top ones): only lr is chosen, from all 14 trials' intervals.
    expect(s.params.opt).toBe('adam');
    expect(s.params.momentum).toBeUndefined();
    expect(s.attrs).toMatchObject({ pb2_points: 28 });
    expect(Math.abs(cond.encode(s.params)[0] - 0.7)).toBeLessThan(0.15);
  });

  it("explores as PBT until the model has data: no interval yet has a start and an end", () => {
    const trials = population().slice(4, 8); // lr inside its bounds, so a scaled value is not clipped
    for (const t of trials) t.intermediate = { 4: t.intermediate[4] };
    trials[1].state = 'pruned';
    const s = new Pb2Scheduler(b16, acc, { populationSize: 4, perturbationInterval: 4 }).suggest(ctxOf(trials, 12))!;
    expect(s.attrs).toEqual({ pbt_replaces: 5, pbt_parent: expect.any(Number) });
    const parent = trials.find((t) => t.number === s.attrs!.pbt_parent)!;
    const ratio = (s.params.lr as number) / (parent.params.lr as number);
    // Scaled by 0.8 or 1.2 (never drawn afresh: PB2 has no resample probability).
    expect([0.8, 1.2].some((r) => Math.abs(ratio - r) < 1e-9)).toBe(true);
  });

  it('on the simulator: through the factory, the model chooses most replacements, each continuing its parent', async () => {
    const problem = simulatorProblem({ budget: { name: 'epochs', min: 1, max: 16 } });
    const { sampler, scheduler } = createStrategies({ scheduler: { kind: 'pb2', population_size: 8, perturbation_interval: 4 }, sampler: { kind: 'random' }, objectives: problem.objectives, budget: problem.budget });
    expect(scheduler.name).toBe('pb2');
    const r = await simulate({ problem, sampler, scheduler, workers: 8, wallSeconds: 4 * 3600, seed: 2 });
    const replacements = r.trials.filter((t) => t.attrs.pbt_parent !== undefined);
    expect(replacements.length).toBeGreaterThan(5);
    const modelled = replacements.filter((t) => typeof t.attrs.pb2_points === 'number');
    expect(modelled.length).toBeGreaterThan(replacements.length / 2);
    for (const t of replacements) expect(Math.min(...Object.keys(t.intermediate).map(Number))).toBe((t.attrs.resumed_from_step as number) + 1);
  });
});
