import { describe, expect, it } from 'vitest';
import { Rng, type SamplerContext, type Trial } from '@segtune/core';
import { Space } from '@segtune/space';
import { createBohb } from './bohb';
import { AshaScheduler } from './asha';
import { promotable, promotionSuggestion } from './promotion';
import { FakeHistory } from './testing';

const space = new Space([
  { name: 'x', type: 'float', low: 0, high: 1 },
  { name: 'y', type: 'float', low: 0, high: 1 },
]);
const objectives = [{ name: 'loss', direction: 'minimize' as const }];
const budget = { name: 'epochs', min: 1, max: 27 };

function trialsAt(n: number, steps: number[], loss: (x: number, y: number) => number, seed: number): Trial[] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, (_, i) => {
    const x = rng.random();
    const y = rng.random();
    const intermediate = Object.fromEntries(steps.map((s) => [s, { loss: loss(x, y) }]));
    return { id: i + 1, studyId: 1, number: i, state: 'pruned', params: { x, y }, intermediate, attrs: {}, createdAt: 0, seq: i + 1 } as Trial;
  });
}

function ctx(history: Trial[], n: number): SamplerContext {
  return { space, objectives, constraints: [], history, running: [], rng: Rng.derive(1, 'sample', n), trialNumber: n, budget, seed: 1 };
}

describe('BOHB sampler', () => {
  it('samples uniformly until a budget has enough observations, then from the model', () => {
    const { sampler } = createBohb(budget, objectives, { randomFraction: 0 });
    const few = trialsAt(3, [1], (x, y) => x + y, 1);
    const a = sampler.suggest(ctx(few, 3));
    const rng = Rng.derive(1, 'sample', 3);
    rng.random(); // the random-fraction draw
    expect(a).toEqual(space.decode([rng.random(), rng.random()]));
  });

  it('fits the largest budget with enough observations and proposes near its optimum', () => {
    const { sampler } = createBohb(budget, objectives, { randomFraction: 0 });
    // Budget 1 says the optimum is near (0.8, 0.2); budget 9 (enough points) says near (0.2, 0.8).
    const low = trialsAt(80, [1], (x, y) => (x - 0.8) ** 2 + (y - 0.2) ** 2, 2);
    const high = trialsAt(40, [1, 3, 9], (x, y) => (x - 0.2) ** 2 + (y - 0.8) ** 2, 3).map((t) => ({ ...t, id: t.id + 100, number: t.number + 100 }));
    const history = [...low, ...high];
    let near = 0;
    let far = 0;
    for (let n = 0; n < 40; n++) {
      const p = sampler.suggest(ctx(history, 200 + n)) as { x: number; y: number };
      near += Math.hypot(p.x - 0.2, p.y - 0.8) < 0.3 ? 1 : 0;
      far += Math.hypot(p.x - 0.8, p.y - 0.2) < 0.3 ? 1 : 0;
    }
    // Uniform sampling would put ~25% within 0.3 of a point; the model concentrates there.
    expect(near).toBeGreaterThan(24);
    expect(far).toBeLessThan(4);
  });
});

describe('promotion mode', () => {
  const acc = [{ name: 'acc', direction: 'maximize' as const }];
  const b9 = { name: 'epochs', min: 1, max: 9 };

  it('pauses trials outside the top 1/η and promotes a paused configuration once it enters it', () => {
    const h = new FakeHistory(acc, b9);
    const s = new AshaScheduler(b9, acc, { mode: 'promotion' });
    const values = [0.5, 0.4, 0.3];
    expect(values.map((v, i) => h.report(s, i, 1, v))).toEqual(['continue', 'stop', 'stop']);
    expect(promotable(s, h.trials)).toBeUndefined(); // top ⌊3/3⌋ = trial 0, which is running
    for (const [i, v] of [[3, 0.2], [4, 0.1], [5, 0.05]] as const) h.report(s, i, 1, v);
    // top ⌊6/3⌋ = {0, 1}: trial 1's configuration is paused at rung 1 → promote it.
    expect(promotable(s, h.trials)).toEqual({ x: 1 });
    // A new trial runs the same params and resumes at step 2; its rung-3 report is judged with
    // the configuration's merged history (one at rung 3 so far → best → goes on).
    h.add(6, { x: 1 });
    expect(promotable(s, h.trials)).toBeUndefined(); // being resumed: not promoted twice
    expect(h.report(s, 6, 2, 0.6)).toBe('continue');
    expect(h.report(s, 6, 3, 0.7)).toBe('continue');
  });

  it('a configuration that failed or hangs is never promoted and does not block promoting the next one; ties go to the earlier trial', () => {
    const h = new FakeHistory(acc, b9);
    const s = new AshaScheduler(b9, acc, { mode: 'promotion' });
    // Rung 1: trial 0 goes on and then fails at step 2; trial 1 goes on and then hangs (running, no reports).
    expect(h.report(s, 0, 1, 0.9)).toBe('continue');
    h.report(s, 0, 2, 0.9);
    h.finish(0, 'failed');
    expect(h.report(s, 1, 1, 0.95)).toBe('continue');
    // Trials 2..5 pause at rung 1; 2 and 3 tie at 0.5.
    for (const [i, v] of [[2, 0.5], [3, 0.5], [4, 0.3], [5, 0.2]] as const) expect(h.report(s, i, 1, v)).toBe('stop');
    // Top ⌊6/3⌋ = {1, 0}: neither can be promoted (hung, failed) → nothing yet.
    expect(promotable(s, h.trials)).toBeUndefined();
    // Three more trials make it ⌊9/3⌋ = 3: {1, 0, 2} (2 beats 3 on the tie) → configuration 2.
    for (const [i, v] of [[6, 0.1], [7, 0.1], [8, 0.1]] as const) h.report(s, i, 1, v);
    expect(promotable(s, h.trials)).toEqual({ x: 2 });
    // Once the hung trial is failed by the stale sweep, the picture is the same: 0 and 1 are not promoted.
    h.finish(1, 'failed');
    expect(promotable(s, h.trials)).toEqual({ x: 2 });
    // Configuration 2 resumed and paused again at rung 3 → the next in line is configuration 3.
    h.add(9, { x: 2 });
    h.report(s, 9, 2, 0.55);
    expect(h.report(s, 9, 3, 0.55)).toBe('continue'); // first at rung 3 (n=1)
    h.finish(9, 'complete');
    for (const [i, v] of [[10, 0.05], [11, 0.05], [12, 0.05]] as const) h.report(s, i, 1, v);
    // ⌊12/3⌋ = 4 at rung 1: {1, 0, 2, 3} → 3 is the one left to promote.
    expect(promotable(s, h.trials)).toEqual({ x: 3 });
  });

  it('answers ask with the configuration to resume: its latest trial, the step its checkpoint holds, and its first trial', () => {
    const h = new FakeHistory(acc, b9);
    const s = new AshaScheduler(b9, acc, { mode: 'promotion' });
    for (const [i, v] of [[0, 0.5], [1, 0.4], [2, 0.3], [3, 0.2], [4, 0.1], [5, 0.05]] as const) h.report(s, i, 1, v);
    h.finish(0, 'complete');
    // Trial 1's configuration is promoted from rung 1: resume after step 1 of trial 1.
    expect(promotionSuggestion(s, h.trials)).toEqual({ params: { x: 1 }, resume: { trialNumber: 1, step: 1, rootTrialNumber: 1 } });
    // Resumed as trial 6 and paused again at rung 3: the next resume continues trial 6 at step 3.
    h.add(6, { x: 1 });
    h.report(s, 6, 2, 0.6);
    h.report(s, 6, 3, 0.6);
    h.finish(6, 'pruned');
    // Two more configurations reach rung 3 below it: trial 6's configuration leads rung 3 and
    // is resumed again, from trial 6's checkpoint at step 3, still rooted at trial 1.
    for (const i of [7, 8]) {
      h.add(i, { x: i });
      h.report(s, i, 3, 0.1);
    }
    expect(promotionSuggestion(s, h.trials)).toEqual({ params: { x: 1 }, resume: { trialNumber: 6, step: 3, rootTrialNumber: 1 } });
    // Stopping mode never resumes anything.
    expect(new AshaScheduler(b9, acc).suggest({ history: h.trials, running: [] } as never)).toBeUndefined();
  });
});
