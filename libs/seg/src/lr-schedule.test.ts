import { describe, expect, it } from 'vitest';
import { checkSchedule, learningRate, type ScheduleConfig } from './lr-schedule';

const base: ScheduleConfig = { name: 'constant', lr: 0.1, stepSize: 2, stepFactor: 0.5, warmupEpochs: 0, minFactor: 0 };

describe('learning-rate schedules', () => {
  it('constant, step, cosine and warm-up give the expected rates', () => {
    expect(learningRate(base, 3.7, 10)).toBe(0.1);
    const step = { ...base, name: 'step' as const };
    expect(learningRate(step, 1.9, 10)).toBeCloseTo(0.1);
    expect(learningRate(step, 2, 10)).toBeCloseTo(0.05);
    expect(learningRate(step, 5, 10)).toBeCloseTo(0.025);
    const cos = { ...base, name: 'cosine' as const };
    expect(learningRate(cos, 0, 10)).toBeCloseTo(0.1);
    expect(learningRate(cos, 5, 10)).toBeCloseTo(0.05);
    expect(learningRate(cos, 10, 10)).toBeCloseTo(0);
    const warm = { ...base, name: 'warmup' as const, warmupEpochs: 2 };
    expect(learningRate(warm, 0, 10)).toBeCloseTo(0.005);
    expect(learningRate(warm, 1, 10)).toBeCloseTo(0.1 * (0.05 + 0.95 / 2));
    expect(learningRate(warm, 2, 10)).toBeCloseTo(0.1);
    // A warm-up in front of cosine delays the decay.
    const wc = { ...base, name: 'cosine' as const, warmupEpochs: 2 };
    expect(learningRate(wc, 2, 10)).toBeCloseTo(0.1);
    expect(learningRate(wc, 6, 10)).toBeCloseTo(0.05);
  });

  it('rejects bad settings with one line', () => {
    expect(() => checkSchedule({ ...base, name: 'exp' as never })).toThrow(/schedule "exp" is unknown; allowed: constant, step, cosine, warmup/);
    expect(() => checkSchedule({ ...base, lr: 0 })).toThrow(/lr must be a positive number/);
    expect(() => checkSchedule({ ...base, stepFactor: 2 })).toThrow(/step_factor must be in \(0, 1\]/);
  });
});
