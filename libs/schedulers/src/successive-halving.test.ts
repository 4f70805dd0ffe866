import { describe, expect, it } from 'vitest';
import { Rng, type SchedulerContext } from '@segtune/core';
import { SuccessiveHalvingScheduler } from './successive-halving';
import { FakeHistory } from './testing';

const budget = { name: 'epochs', min: 1, max: 9 };
const acc = [{ name: 'acc', direction: 'maximize' as const }];

function ctxOf(h: FakeHistory, n: number, step: number): SchedulerContext {
  const t = h.get(n);
  return { trial: t, step, values: t.intermediate[step], history: h.trials, objectives: h.objectives, budget: h.budget };
}

describe('synchronous successive halving', () => {
  it('cohort of η^K; a rung is decided only when complete: top ⌊n/η⌋, ties to the lower number', () => {
    const s = new SuccessiveHalvingScheduler(budget, acc);
    expect(s.ladder).toEqual([1, 3]);
    expect(s.cohortSize).toBe(9);
    const h = new FakeHistory(acc, budget);
    const values = [0.5, 0.9, 0.3, 0.7, 0.9, 0.1, 0.2, 0.8, 0.4];
    for (let i = 0; i < 8; i++) {
      expect(h.report(s, i, 1, values[i])).toBe('continue');
      expect(s.hold(ctxOf(h, i, 1))).toBe(true);
    }
    // The ninth member completes rung 1: 0.4 is not in the top 3 (0.9 #1, 0.9 #4, 0.8 #7).
    expect(h.report(s, 8, 1, values[8])).toBe('stop');
    for (let i = 0; i < 8; i++) expect(s.hold(ctxOf(h, i, 1))).toBe(false);
    expect([0, 1, 2, 3, 4, 5, 6, 7].map((i) => s.decide(ctxOf(h, i, 1)))).toEqual(['stop', 'continue', 'stop', 'stop', 'continue', 'stop', 'stop', 'continue']);
    // Rung 3 among trials 1, 4, 7: one goes on. Trial 4 ties trial 1 → trial 1 wins the tie.
    h.report(s, 1, 2, 0.9);
    h.report(s, 4, 2, 0.9);
    expect(h.report(s, 1, 3, 0.95)).toBe('continue');
    expect(s.hold(ctxOf(h, 1, 3))).toBe(true);
    expect(h.report(s, 4, 3, 0.95)).toBe('continue');
    h.report(s, 7, 2, 0.8);
    expect(h.report(s, 7, 3, 0.5)).toBe('stop');
    expect(s.decide(ctxOf(h, 1, 3))).toBe('continue');
    expect(s.decide(ctxOf(h, 4, 3))).toBe('stop');
  });

  it('a member that fails, or hangs until it is marked failed, does not block the rung', () => {
    const s = new SuccessiveHalvingScheduler(budget, acc);
    const h = new FakeHistory(acc, budget);
    for (let i = 0; i < 9; i++) h.add(i);
    h.finish(2, 'failed'); // failed before its first report
    for (const i of [0, 1, 3, 4, 5, 6, 7]) h.report(s, i, 1, i / 10);
    // Trial 8 started but never reports: the rung waits for it…
    expect(s.hold(ctxOf(h, 7, 1))).toBe(true);
    // …until the stale sweep fails it; then 7 members decide: ⌊7/3⌋ = 2 go on (trials 7 and 6).
    h.finish(8, 'failed');
    expect(s.hold(ctxOf(h, 7, 1))).toBe(false);
    expect(s.decide(ctxOf(h, 7, 1))).toBe('continue');
    expect(s.decide(ctxOf(h, 6, 1))).toBe('continue');
    expect(s.decide(ctxOf(h, 5, 1))).toBe('stop');
  });

  it('speculative trials (the plain decide contract) are stopped at their first report after the rung decides', () => {
    const s = new SuccessiveHalvingScheduler(budget, acc, { cohortSize: 3 });
    const h = new FakeHistory(acc, budget);
    expect(h.report(s, 0, 1, 0.1)).toBe('continue');
    expect(h.report(s, 0, 2, 0.2)).toBe('continue'); // rung 1 undecided: goes on
    h.report(s, 1, 1, 0.5);
    h.report(s, 2, 1, 0.6); // completes rung 1: trial 2 is the one promoted
    expect(h.report(s, 0, 3, 0.9)).toBe('stop');
  });

  it('the same decisions for any interleaving of the reports', () => {
    const run = (seed: number) => {
      const rng = new Rng(seed);
      const s = new SuccessiveHalvingScheduler(budget, acc);
      const h = new FakeHistory(acc, budget);
      const levels = Array.from({ length: 9 }, (_, i) => ((i * 7) % 9) / 9);
      const next = levels.map(() => 1);
      while (true) {
        const open = levels.map((_, i) => i).filter((i) => next[i] <= 3 && (h.trials.find((t) => t.number === i)?.state ?? 'running') === 'running');
        if (!open.length) break;
        const i = open[rng.int(open.length)];
        h.report(s, i, next[i], levels[i] + next[i] / 100);
        next[i]++;
      }
      // Final verdicts once every rung is complete.
      return h.trials.map((t) => `${t.number}:${t.state === 'pruned' ? 'stop' : s.decide(ctxOf(h, t.number, Math.max(...Object.keys(t.intermediate).map(Number))))}`);
    };
    const a = run(1);
    expect(a.filter((x) => x.endsWith('continue'))).toHaveLength(1);
    for (const seed of [2, 3, 4, 5]) expect(run(seed)).toEqual(a);
  });

  it('canStart lets the next cohort begin only when the previous one finished', () => {
    const s = new SuccessiveHalvingScheduler(budget, acc, { cohortSize: 2 });
    const h = new FakeHistory(acc, budget);
    h.add(0);
    h.add(1);
    expect(s.canStart(1, h.trials)).toBe(true);
    expect(s.canStart(2, h.trials)).toBe(false);
    h.finish(0, 'complete');
    h.finish(1, 'pruned');
    expect(s.canStart(2, h.trials)).toBe(true);
  });
});
