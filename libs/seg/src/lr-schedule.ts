import { UserError } from '@segtune/core';

export const SCHEDULES = ['constant', 'step', 'cosine', 'warmup'] as const;
export type ScheduleName = (typeof SCHEDULES)[number];

export interface ScheduleConfig {
  name: ScheduleName;
  lr: number;
  /** step: multiply by `stepFactor` every `stepSize` epochs. */
  stepSize: number;
  stepFactor: number;
  /** Linear warm-up from lr/20 over this many epochs; applies to every schedule (`warmup` = constant after it). */
  warmupEpochs: number;
  /** cosine: the floor as a fraction of lr. */
  minFactor: number;
}

export function checkSchedule(c: ScheduleConfig): void {
  if (!(SCHEDULES as readonly string[]).includes(c.name)) throw new UserError(`schedule "${c.name}" is unknown; allowed: ${SCHEDULES.join(', ')}`);
  if (!(c.lr > 0 && Number.isFinite(c.lr))) throw new UserError(`lr must be a positive number, got ${c.lr}`);
  if (!(c.stepSize >= 1)) throw new UserError(`step_size must be >= 1 epoch, got ${c.stepSize}`);
  if (!(c.stepFactor > 0 && c.stepFactor <= 1)) throw new UserError(`step_factor must be in (0, 1], got ${c.stepFactor}`);
  if (!(c.warmupEpochs >= 0)) throw new UserError(`warmup_epochs must be >= 0, got ${c.warmupEpochs}`);
}

/**
 * Learning rate at a fractional epoch `e` (epochs done plus the share of the current one) of a
 * run of `totalEpochs` (the budget's maximum, so a trial stopped early saw the same rates as a
 * full one up to that point).
 */
export function learningRate(c: ScheduleConfig, e: number, totalEpochs: number): number {
  let lr = c.lr;
  if (c.name === 'step') lr *= c.stepFactor ** Math.floor(e / c.stepSize);
  if (c.name === 'cosine') {
    const start = c.warmupEpochs;
    const frac = totalEpochs > start ? Math.min(1, Math.max(0, (e - start) / (totalEpochs - start))) : 0;
    lr *= c.minFactor + (1 - c.minFactor) * 0.5 * (1 + Math.cos(Math.PI * frac));
  }
  const warm = c.name === 'warmup' && c.warmupEpochs === 0 ? 1 : c.warmupEpochs;
  if (warm > 0 && e < warm) lr *= 0.05 + 0.95 * (e / warm);
  return lr;
}
