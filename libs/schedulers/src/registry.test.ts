import { describe, expect, it } from 'vitest';
import { UserError, noScheduler } from '@segtune/core';
import { RandomSampler } from '@segtune/samplers';
import { SCHEDULERS, createScheduler, createSchedulerAndSampler } from './registry';
import { AshaScheduler } from './asha';
import { HyperbandScheduler } from './hyperband';
import { SuccessiveHalvingScheduler } from './successive-halving';
import { MedianStoppingScheduler } from './median';
import { MoAshaScheduler } from './moasha';
import { createBohb } from './bohb';
import { PbtScheduler } from './pbt';
import { Pb2Scheduler } from './pb2';

const budget = { name: 'epochs', min: 1, max: 27 };
const objectives = [{ name: 'acc', direction: 'maximize' as const }];

function message(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(UserError);
    const m = (e as Error).message;
    expect(m).not.toContain('\n');
    return m;
  }
  throw new Error('expected a UserError');
}

describe('scheduler registry', () => {
  it('builds every kind, from a string or a block with snake_case options', () => {
    expect(Object.keys(SCHEDULERS).sort()).toEqual(['asha', 'bohb', 'hyperband', 'median', 'moasha', 'none', 'pb2', 'pbt', 'sha']);
    expect(createScheduler(undefined, budget, objectives)).toBe(noScheduler);
    for (const kind of Object.keys(SCHEDULERS)) expect(createScheduler(kind, budget, objectives).name).toBe(kind);
    const a = createScheduler({ kind: 'asha', reduction_factor: 3, grace_period: 1, min_resource: 1, brackets: 2 }, budget, objectives) as AshaScheduler;
    expect(a.ladders).toEqual([[1, 3, 9], [3, 9]]);
    const hb = createScheduler({ kind: 'hyperband', reduction_factor: 2, min_resource: 3 }, budget, objectives) as HyperbandScheduler;
    expect(hb.ladders[0]).toEqual([3, 6, 12, 24]);
  });

  it("a block without options builds what the constructors build (the schemas' defaults are theirs)", () => {
    const two = [...objectives, { name: 'ms', direction: 'minimize' as const }];
    expect(createScheduler('median', budget, objectives)).toEqual(new MedianStoppingScheduler(budget, objectives));
    expect(createScheduler('sha', budget, objectives)).toEqual(new SuccessiveHalvingScheduler(budget, objectives));
    expect(createScheduler('asha', budget, objectives)).toEqual(new AshaScheduler(budget, objectives));
    expect(createScheduler('hyperband', budget, objectives)).toEqual(new HyperbandScheduler(budget, objectives));
    expect(createScheduler('moasha', budget, two)).toEqual(new MoAshaScheduler(budget, two));
    // PBT and PB2 keep their options as given: compare what the options set.
    const settings = (s: PbtScheduler) => ({ name: s.name, populationSize: s.populationSize, interval: s.interval, quantile: s.quantile, resample: s.resample });
    expect(settings(createScheduler('pbt', budget, objectives) as PbtScheduler)).toEqual(settings(new PbtScheduler(budget, objectives)));
    expect(settings(createScheduler('pb2', budget, objectives) as Pb2Scheduler)).toEqual({ ...settings(new Pb2Scheduler(budget, objectives)), name: 'pb2', resample: 0 });
    const bohb = createBohb(budget, objectives, {});
    const built = createSchedulerAndSampler('bohb', budget, objectives, new RandomSampler());
    expect(built.scheduler).toEqual(bohb.scheduler);
    expect(built.sampler).toEqual(bohb.sampler);
  });

  it('bad settings are one-line UserErrors naming the key and what is allowed', () => {
    expect(message(() => createScheduler({ kind: 'asha', reduction_factor: 1 }, budget, objectives))).toBe('scheduler "asha": option "reduction_factor" must be a number > 1, got 1');
    expect(message(() => createScheduler({ kind: 'hyperband', reduction_factor: 0.5 }, budget, objectives))).toBe('scheduler "hyperband": option "reduction_factor" must be a number > 1, got 0.5');
    expect(message(() => createScheduler({ kind: 'asha', min_resource: 30 }, budget, objectives))).toBe('scheduler "asha": option "min_resource" must be at most the budget\'s max 27 (epochs), got 30');
    expect(message(() => createScheduler({ kind: 'sha', grace_period: 28 }, budget, objectives))).toBe('scheduler "sha": option "grace_period" must be at most the budget\'s max 27 (epochs), got 28');
    expect(message(() => createScheduler({ kind: 'median', grace_period: 40 }, budget, objectives))).toBe('scheduler "median": option "grace_period" must be at most the budget\'s max 27 (epochs), got 40');
    expect(message(() => createScheduler({ kind: 'asha', reducton_factor: 3 }, budget, objectives))).toBe('scheduler "asha": unknown option "reducton_factor" (did you mean "reduction_factor"?); allowed: reduction_factor, min_resource, grace_period, brackets, mode');
    expect(message(() => createScheduler('hyperbnd', budget, objectives))).toBe('unknown scheduler "hyperbnd" (did you mean "hyperband"?); allowed: none, median, sha, asha, hyperband, bohb, moasha, pbt, pb2');
    expect(message(() => createScheduler({ kind: 'asha', brackets: 9 }, budget, objectives))).toBe('scheduler "asha": option "brackets" must be at most 4, the brackets this budget allows (min_resource 1, max 27, reduction_factor 3), got 9');
    expect(message(() => createScheduler({ kind: 'asha', mode: 'promotin' }, budget, objectives))).toBe('scheduler "asha": option "mode" must be one of stopping, promotion, got "promotin" (did you mean "promotion"?)');
    expect(message(() => createScheduler({ kind: 'asha', reduction_factor: 'three' }, budget, objectives))).toBe('scheduler "asha": option "reduction_factor" must be a number > 1, got "three"');
    expect(message(() => createScheduler({ kind: 'bohb', top_n_percent: 100 }, budget, objectives))).toBe('scheduler "bohb": option "top_n_percent" must be a number in (0, 100), got 100');
    expect(message(() => createScheduler('asha', undefined, objectives))).toContain('needs a budget block');
    expect(message(() => createScheduler({ kind: 'none', grace_period: 1 }, budget, objectives))).toBe('scheduler "none": unknown option "grace_period"; it takes no options');
  });

  it('every rung-based kind rejects the same bad rung settings, through the registry and the constructors', () => {
    const b9 = { name: 'epochs', min: 1, max: 9 };
    for (const kind of ['sha', 'asha', 'hyperband', 'bohb', 'moasha']) {
      for (const eta of [1, 0.5, 0, -2]) {
        expect(message(() => createScheduler({ kind, reduction_factor: eta }, b9, objectives))).toBe(`scheduler "${kind}": option "reduction_factor" must be a number > 1, got ${eta}`);
      }
      expect(message(() => createScheduler({ kind, min_resource: 10 }, b9, objectives))).toBe(`scheduler "${kind}": option "min_resource" must be at most the budget's max 9 (epochs), got 10`);
      expect(message(() => createScheduler({ kind, min_resource: 0 }, b9, objectives))).toBe(`scheduler "${kind}": option "min_resource" must be a number > 0, got 0`);
      expect(message(() => createScheduler({ kind, grace_period: 9.5 }, b9, objectives))).toBe(`scheduler "${kind}": option "grace_period" must be at most the budget's max 9 (epochs), got 9.5`);
      expect(message(() => createScheduler({ kind, grace_period: -1 }, b9, objectives))).toBe(`scheduler "${kind}": option "grace_period" must be a number >= 0, got -1`);
      // The edges are allowed: min_resource and grace_period equal to the budget (nothing is ever stopped).
      expect(() => createScheduler({ kind, min_resource: 9, grace_period: 9 }, b9, objectives)).not.toThrow();
    }
    // Constructed directly (as the CLI's flags and library users do), the same one-line errors.
    expect(message(() => new AshaScheduler(b9, objectives, { reductionFactor: 1 }))).toBe('scheduler "asha": option "reduction_factor" must be a number > 1, got 1');
    expect(message(() => new HyperbandScheduler(b9, objectives, { minResource: 27 }))).toBe('scheduler "hyperband": option "min_resource" must be at most the budget\'s max 9 (epochs), got 27');
    expect(message(() => new AshaScheduler(b9, objectives, { gracePeriod: 10 }))).toBe('scheduler "asha": option "grace_period" must be at most the budget\'s max 9 (epochs), got 10');
    expect(message(() => new AshaScheduler(b9, objectives, { brackets: 0 }))).toBe('scheduler "asha": option "brackets" must be an integer >= 1, got 0');
    expect(message(() => createScheduler({ kind: 'sha', cohort_size: 0 }, b9, objectives))).toBe('scheduler "sha": option "cohort_size" must be an integer >= 1, got 0');
  });

  it('pairs bohb with its own sampler; promotion mode resumes through the scheduler', () => {
    const base = new RandomSampler();
    expect(createSchedulerAndSampler('asha', budget, objectives, base).sampler).toBe(base);
    expect(createSchedulerAndSampler('bohb', budget, objectives, base).sampler.name).toBe('bohb');
    // Promotion mode keeps the study's sampler; the scheduler itself answers with resumes.
    const promo = createSchedulerAndSampler({ kind: 'asha', mode: 'promotion' }, budget, objectives, base);
    expect(promo.sampler).toBe(base);
    expect(promo.scheduler.suggest).toBeTypeOf('function');
  });
});
