import { describe, expect, it } from 'vitest';
import { MedianStoppingScheduler } from './median';
import { FakeHistory } from './testing';

describe('median stopping', () => {
  it('stops a trial whose best value so far is worse than the median of completed trials at that step', () => {
    const h = new FakeHistory([{ name: 'loss', direction: 'minimize' }], { name: 'epochs', min: 1, max: 5 });
    const s = new MedianStoppingScheduler(h.budget, h.objectives, { minTrials: 3, gracePeriod: 2 });
    for (const [n, v] of [[0, 1], [1, 2], [2, 3]] as const) {
      for (let step = 1; step <= 5; step++) h.report(s, n, step, v);
      h.finish(n, 'complete');
    }
    // Median at every step is 2. Before the grace period nothing stops.
    expect(h.report(s, 3, 1, 9)).toBe('continue');
    expect(h.report(s, 3, 2, 2.5)).toBe('stop');
    expect(h.report(s, 4, 2, 2)).toBe('continue'); // equal to the median: goes on
    expect(h.report(s, 5, 2, 1.5)).toBe('continue');
    // Best so far counts: a worse report after a good one does not stop.
    expect(h.report(s, 5, 3, 2.4)).toBe('continue');
  });

  it('waits for min_trials completed trials', () => {
    const h = new FakeHistory([{ name: 'acc', direction: 'maximize' }], { name: 'epochs', min: 1, max: 5 });
    const s = new MedianStoppingScheduler(h.budget, h.objectives);
    h.report(s, 0, 1, 0.9);
    h.finish(0, 'complete');
    expect(h.report(s, 1, 1, 0.1)).toBe('continue');
  });
});
