import { describe, expect, it } from 'vitest';
import { Rng, UserError, type SamplerContext } from '@segtune/core';
import { Space } from '@segtune/space';
import { simulate, simulatorProblem } from '@segtune/benchmarks';
import { PbtScheduler } from './pbt';
import { createStrategies } from './strategies';
import { FakeHistory } from './testing';

const acc = [{ name: 'acc', direction: 'maximize' as const }];
const b12 = { name: 'epochs', min: 1, max: 12 };
const space = new Space([
  { name: 'lr', type: 'float', low: 1e-4, high: 1, log: true },
  { name: 'width', type: 'int', low: 8, high: 64 },
]);
const ctxOf = (h: FakeHistory, number: number): SamplerContext => ({
  space,
  objectives: acc,
  constraints: [],
  history: h.trials.filter((t) => t.state !== 'running'),
  running: h.trials.filter((t) => t.state === 'running'),
  rng: Rng.derive(1, 'sample', number),
  trialNumber: number,
  budget: b12,
  seed: 1,
});

describe('population-based training', () => {
  it('stops the bottom quarter at each interval step, and only there', () => {
    const h = new FakeHistory(acc, b12);
    const s = new PbtScheduler(b12, acc, { populationSize: 8, perturbationInterval: 4 });
    for (let i = 0; i < 8; i++) h.add(i, { lr: 0.01 * (i + 1), width: 16 });
    for (let i = 0; i < 8; i++) expect(h.report(s, i, 3, i / 10)).toBe('continue'); // not an interval step
    // At step 4, as the reports come in: with n reporters the bottom ⌊n/4⌋ stop.
    const decisions = [0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1].map((v, i) => h.report(s, i, 4, v));
    expect(decisions).toEqual(['continue', 'continue', 'continue', 'stop', 'stop', 'stop', 'stop', 'stop']);
    // The budget's last step is never an interval: the run ends there anyway.
    expect(new PbtScheduler(b12, acc, { perturbationInterval: 4 }).decide({ trial: h.get(0), step: 12, values: { acc: 0 }, history: h.trials, objectives: acc, budget: b12 })).toBe('continue');
  });

  it('answers ask with a replacement: a top trial continued from its step with perturbed floats, once per stopped trial', () => {
    const h = new FakeHistory(acc, b12);
    const s = new PbtScheduler(b12, acc, { populationSize: 4, perturbationInterval: 4 });
    for (let i = 0; i < 3; i++) h.add(i, { lr: 0.01, width: 16 + i });
    expect(s.suggest(ctxOf(h, 3))).toBeUndefined(); // population not full: the sampler draws
    h.add(3, { lr: 0.01, width: 19 });
    [0.9, 0.8, 0.7, 0.1].forEach((v, i) => h.report(s, i, 4, v));
    expect(h.get(3).state).toBe('pruned');
    const next = s.suggest(ctxOf(h, 4))!;
    expect(next.attrs).toEqual({ pbt_replaces: 3, pbt_parent: 0 }); // top ⌊3/4⌋ → at least one: trial 0
    expect(next.resume).toEqual({ trialNumber: 0, step: 4, rootTrialNumber: 0, transfer: true });
    expect(next.params.width).toBe(16); // ints are not mutable by default
    expect(next.params.lr).not.toBe(0.01);
    expect(next.params.lr as number).toBeGreaterThanOrEqual(1e-4);
    // Once the replacement exists, nothing is left to replace.
    const t = h.add(4, next.params);
    t.attrs = { ...next.attrs };
    expect(s.suggest(ctxOf(h, 5))).toBeUndefined();
  });

  it("continues the parent's weights as they were at the interval step, kept by every trial, even once it has trained on or finished", () => {
    const h = new FakeHistory(acc, b12);
    const s = new PbtScheduler(b12, acc, { populationSize: 4, perturbationInterval: 4 });
    // Every trial keeps its checkpoint at the interval steps below the budget's end.
    expect(s.checkpointSteps()).toEqual([4, 8]);
    expect(new PbtScheduler({ name: 'epochs', min: 0.5, max: 2 }, acc, { perturbationInterval: 0.3 }).checkpointSteps()).toEqual([0.3, 0.6, 0.9, 1.2, 1.5, 1.8]);
    for (let i = 0; i < 4; i++) h.add(i, { lr: 0.01, width: 16 + i });
    [0.9, 0.8, 0.7, 0.1].forEach((v, i) => h.report(s, i, 4, v));
    // The top trial has trained on to the budget's end by the time the replacement is asked for.
    for (let step = 5; step <= 12; step++) h.report(s, 0, step, 0.92);
    h.finish(0, 'complete');
    expect(s.suggest(ctxOf(h, 4))!.resume).toEqual({ trialNumber: 0, step: 4, rootTrialNumber: 0, transfer: true });
  });

  it('releases the kept checkpoints below every place a replacement can copy from under the trial limit, never one being read', () => {
    const h = new FakeHistory(acc, b12);
    const s = new PbtScheduler(b12, acc, { populationSize: 8, perturbationInterval: 4 });
    for (let i = 0; i < 12; i++) h.add(i, { lr: 0.01, width: 16 + i });
    // Trial i reports 1 - i/20 at step 4: trial 0 best, trial 11 worst.
    for (let i = 0; i < 12; i++) h.report(s, i, 4, 1 - i / 20);
    // 20 trials at most, q = 1/4: a replacement copies one of the first max(1, ⌊19/4⌋) = 4 ranked
    // (the trial it replaces left out), so everything from place ⌊20/4⌋ + 1 = 6 on can go.
    const released = (max: number) => s.releasableCheckpoints(h.trials, max).map((r) => `${r.trialNumber}@${r.step}`);
    expect(released(20)).toEqual(['6@4', '7@4', '8@4', '9@4', '10@4', '11@4']);
    // No trial ranked at step 8 yet; with a larger limit fewer go, with no room below none.
    expect(released(40)).toEqual(['11@4']);
    expect(released(48)).toEqual([]);
    // A replacement told to continue trial 7 from step 4 that has not reported past it may still be reading it.
    const reader = h.add(12, { lr: 0.02, width: 23 });
    reader.attrs = { resumed_from_trial: 7, resumed_from_step: 4, pbt_parent: 7 };
    expect(released(20)).toEqual(['6@4', '8@4', '9@4', '10@4', '11@4']);
    h.report(s, 12, 5, 0.5);
    expect(released(20)).toContain('7@4');
    // Each release is sound: whatever arrives later, up to the limit, no released trial is copied.
    const rng = new Rng('pbt-release');
    const before = new Set(released(20));
    for (let i = 13; i < 20; i++) {
      h.add(i, { lr: 0.01, width: 8 + i });
      h.report(s, i, 4, rng.random());
    }
    for (let i = 13; i < 20; i++) {
      if (h.get(i).state !== 'pruned') continue;
      const next = s.suggest(ctxOf(h, 20 + i))!;
      expect(before.has(`${next.resume!.trialNumber}@4`)).toBe(false);
    }
  });

  it('copies only trials that still have their checkpoint at the step once the trial limit was raised', () => {
    const h = new FakeHistory(acc, b12);
    const s = new PbtScheduler(b12, acc, { populationSize: 4, perturbationInterval: 4 });
    for (let i = 0; i < 4; i++) h.add(i, { lr: 0.01, width: 16 + i });
    [0.9, 0.8, 0.7, 0.1].forEach((v, i) => h.report(s, i, 4, v));
    // Trial 0, the only place (⌊3/4⌋ → 1), had its step-4 checkpoint released: the next best is copied.
    h.get(0).attrs = { checkpoints_released: [4] };
    expect(s.suggest(ctxOf(h, 4))!.resume).toEqual({ trialNumber: 1, step: 4, rootTrialNumber: 1, transfer: true });
    // Released at another step only: trial 0 is copied as before.
    h.get(0).attrs = { checkpoints_released: [8] };
    expect(s.suggest(ctxOf(h, 4))!.resume!.trialNumber).toBe(0);
  });

  it('an unknown mutable param is one line', () => {
    const s = new PbtScheduler(b12, acc, { mutable: ['lerning_rate'] });
    expect(() => s.perturb(space, { lr: 0.1, width: 8 }, new Rng('x'))).toThrow(UserError);
    expect(() => s.perturb(space, { lr: 0.1, width: 8 }, new Rng('x'))).toThrow('scheduler "pbt": option "mutable" names "lerning_rate", which is not a param of the space');
  });

  it('on the simulator: replacements continue their parents after the interval step, and beat the trials they replace', async () => {
    const problem = simulatorProblem({ budget: { name: 'epochs', min: 1, max: 16 } });
    const { sampler, scheduler } = createStrategies({ scheduler: { kind: 'pbt', population_size: 8, perturbation_interval: 4 }, sampler: { kind: 'random' }, objectives: problem.objectives, budget: problem.budget });
    const r = await simulate({ problem, sampler, scheduler, workers: 8, wallSeconds: 8 * 3600, seed: 2 });
    const replacements = r.trials.filter((t) => t.attrs.pbt_parent !== undefined);
    expect(replacements.length).toBeGreaterThan(5);
    const byNumber = new Map(r.trials.map((t) => [t.number, t]));
    for (const t of replacements) {
      const step = t.attrs.resumed_from_step as number;
      // It trains on from its parent's checkpoint: at least one step, none twice.
      expect(Math.min(...Object.keys(t.intermediate).map(Number))).toBe(step + 1);
      const parent = byNumber.get(t.attrs.pbt_parent as number)!;
      const replaced = byNumber.get(t.attrs.pbt_replaces as number)!;
      expect(replaced.state).toBe('pruned');
      const stoppedAt = Math.max(...Object.keys(replaced.intermediate).map(Number));
      expect(stoppedAt % 4).toBe(0);
      expect(step).toBeGreaterThanOrEqual(stoppedAt);
      expect(parent.intermediate[stoppedAt].accuracy).toBeGreaterThan(replaced.intermediate[stoppedAt].accuracy);
    }
  });
});
