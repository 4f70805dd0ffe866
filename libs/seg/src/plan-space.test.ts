import { describe, expect, it } from 'vitest';
import { parseSpace } from '@segtune/space';
import { planSearchSpace, type PlanInput } from './plan-space';
import type { DatasetFingerprint } from './fingerprint';
import { estimateMemoryBytes } from './workload';

const fp = (over: Partial<DatasetFingerprint> = {}): DatasetFingerprint => ({
  path: '/data/x',
  count: 400,
  sizes: [{ width: 128, height: 128, count: 400 }],
  medianWidth: 128,
  medianHeight: 128,
  channels: 3,
  numClasses: 4,
  classFrequencies: [0.97, 0.015, 0.01, 0.005],
  classPresence: [1, 0.9, 0.8, 0.5],
  foregroundFraction: 0.03,
  imbalanceRatio: 0.97 / 0.005,
  ignoredFraction: 0,
  absentClasses: [],
  ...over,
});
const input = (over: Partial<PlanInput> = {}): PlanInput => ({
  fingerprint: fp(),
  dataPath: './x',
  memoryPerTrialBytes: 4 * 2 ** 30,
  memorySource: 'test',
  parallel: 2,
  hours: 2,
  flopsPerSecond: 20e9,
  speedSource: 'test',
  ...over,
});

describe('planSearchSpace', () => {
  it('writes a valid space whose every combination fits the memory given', () => {
    for (const mem of [120, 400, 4096]) {
      const plan = planSearchSpace(input({ memoryPerTrialBytes: mem * 2 ** 20 }));
      const { spec } = parseSpace(plan.yaml, 'planned.yaml');
      const worst = { width: Math.max(...plan.widths), depth: plan.depth.high, batch_size: Math.max(...plan.batchSizes) };
      expect(estimateMemoryBytes(worst, spec.workload)).toBeLessThanOrEqual(mem * 2 ** 20);
      expect(spec.workload).toMatchObject({ kind: 'segmentation', dataset: { kind: 'folder', path: './x', image_size: plan.imageSize, num_classes: 4 } });
    }
    const small = planSearchSpace(input({ memoryPerTrialBytes: 120 * 2 ** 20 }));
    const large = planSearchSpace(input({ memoryPerTrialBytes: 4096 * 2 ** 20 }));
    expect(Math.max(...small.widths) * Math.max(...small.batchSizes)).toBeLessThan(Math.max(...large.widths) * Math.max(...large.batchSizes));
  });

  it('leans to overlap losses and class weights on imbalanced data, to cross-entropy on balanced data', () => {
    const imb = planSearchSpace(input());
    expect(imb.losses[0]).toBe('ce_dice');
    expect(imb.losses).toEqual(expect.arrayContaining(['dice', 'tversky', 'focal', 'ce']));
    const spec = parseSpace(imb.yaml, 'p.yaml').spec;
    expect(spec.params.class_weights).toBeDefined();
    expect(spec.enqueue?.map((e) => e.loss)).toEqual(['ce_dice', 'dice', 'tversky']);
    expect(imb.choices.find((c) => c.choice === 'loss')!.why).toMatch(/foreground is 3.0 %/);
    const bal = planSearchSpace(input({ fingerprint: fp({ classFrequencies: [0.4, 0.3, 0.3], numClasses: 3, foregroundFraction: 0.6, imbalanceRatio: 4 / 3 }) }));
    expect(bal.losses[0]).toBe('ce');
    expect(parseSpace(bal.yaml, 'p.yaml').spec.params.class_weights).toBeUndefined();
  });

  it('sizes the budget and the trial count to the hours, and the resolution to the time', () => {
    const short = planSearchSpace(input({ hours: 0.1, flopsPerSecond: 500e9 }));
    const long = planSearchSpace(input({ hours: 20, flopsPerSecond: 500e9 }));
    expect(short.imageSize).toBe(long.imageSize);
    expect(long.epochs.max).toBeGreaterThan(short.epochs.max);
    // More time buys wider models as well as longer training.
    expect(Math.max(...long.widths)).toBeGreaterThan(Math.max(...short.widths));
    expect(short.trials).toBeGreaterThanOrEqual(10);
    // A full training takes at most a tenth of the time (2 in parallel).
    expect(long.fullTrainingSeconds).toBeLessThanOrEqual(0.1 * 20 * 3600 * 2);
    expect(short.fullTrainingSeconds).toBeLessThanOrEqual(0.1 * 0.1 * 3600 * 2);
    // On a slow device with little time, the resolution is halved below the median size.
    const slow = planSearchSpace(input({ flopsPerSecond: 0.2e9, hours: 0.25 }));
    expect(slow.imageSize).toBeLessThan(128);
    expect(slow.choices.find((c) => c.choice === 'image_size')!.why).toMatch(/halved because 128px would train too slowly/);
    expect(planSearchSpace(input()).imageSize).toBe(128);
  });

  it('goes as deep as the resolution allows (feature maps of at least 4 px) and every choice has a reason', () => {
    const plan = planSearchSpace(input());
    expect(plan.depth.high).toBe(5);
    const odd = planSearchSpace(input({ fingerprint: fp({ medianWidth: 100, medianHeight: 100, sizes: [{ width: 100, height: 100, count: 400 }] }) }));
    expect(odd.imageSize).toBe(96);
    expect(96 % 2 ** odd.depth.high).toBe(0);
    for (const c of ['image_size', 'depth', 'width', 'batch_size', 'loss', 'class_weights', 'augment', 'budget', 'scheduler', 'trials']) {
      expect(plan.choices.find((x) => x.choice === c)?.why.length, c).toBeGreaterThan(20);
    }
  });
});
