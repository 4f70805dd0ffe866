import { UserError, noScheduler, type Objective, type Sampler, type Scheduler } from '@segtune/core';
import { parseSchedulerSpec, type Budget, type SchedulerKind, type SchedulerSpec, type StrategySpec } from '@segtune/space';
import { AshaScheduler } from './asha';
import { createBohb } from './bohb';
import { HyperbandScheduler } from './hyperband';
import { MedianStoppingScheduler } from './median';
import { MoAshaScheduler } from './moasha';
import { PbtScheduler } from './pbt';
import { Pb2Scheduler } from './pb2';
import { SuccessiveHalvingScheduler } from './successive-halving';

interface Built {
  scheduler: Scheduler;
  /** The sampler the scheduler needs instead of (or around) the study's own, if any. */
  sampler?: (base: Sampler) => Sampler;
}

type Entry<K extends SchedulerKind> = {
  /** Builds the scheduler from its parsed block (@segtune/space's schedulerSchemas: checked, defaults filled in). */
  build(o: SchedulerSpec<K>, budget: Budget | undefined, objectives: readonly Objective[]): Built;
};

function rung(o: { reduction_factor: number; min_resource?: number; grace_period?: number }) {
  return { reductionFactor: o.reduction_factor, minResource: o.min_resource, gracePeriod: o.grace_period };
}

function population(o: { population_size: number; perturbation_interval?: number; quantile_fraction: number; mutable?: string[] }) {
  return { populationSize: o.population_size, perturbationInterval: o.perturbation_interval, quantileFraction: o.quantile_fraction, mutable: o.mutable };
}

// Promotion mode needs no sampler of its own: the scheduler answers `suggest` with the paused
// configuration to resume before the study's sampler is asked.
function withPromotion(s: AshaScheduler): Built {
  return { scheduler: s };
}

/**
 * One line per scheduler kind: adding one is a new file, its options' schema in @segtune/space
 * (strategies.ts: the space file, its JSON Schema and this registry all read it) and an entry here.
 */
export const SCHEDULERS: { [K in SchedulerKind]: Entry<K> } = {
  none: { build: () => ({ scheduler: noScheduler }) },
  median: {
    build: (o, budget, objectives) => ({ scheduler: new MedianStoppingScheduler(budget, objectives, { gracePeriod: o.grace_period, minTrials: o.min_trials }) }),
  },
  sha: {
    build: (o, budget, objectives) => ({ scheduler: new SuccessiveHalvingScheduler(budget, objectives, { ...rung(o), cohortSize: o.cohort_size }) }),
  },
  asha: {
    build: (o, budget, objectives) => withPromotion(new AshaScheduler(budget, objectives, { ...rung(o), brackets: o.brackets, mode: o.mode })),
  },
  hyperband: {
    build: (o, budget, objectives) => withPromotion(new HyperbandScheduler(budget, objectives, { ...rung(o), brackets: o.brackets, mode: o.mode })),
  },
  bohb: {
    build: (o, budget, objectives) => {
      const { scheduler, sampler } = createBohb(budget, objectives, {
        ...rung(o),
        brackets: o.brackets,
        mode: o.mode,
        topNPercent: o.top_n_percent,
        randomFraction: o.random_fraction,
        numSamples: o.num_samples,
        bandwidthFactor: o.bandwidth_factor,
        minBandwidth: o.min_bandwidth,
        minPoints: o.min_points,
      });
      return { scheduler, sampler: () => sampler };
    },
  },
  moasha: {
    build: (o, budget, objectives) =>
      withPromotion(new MoAshaScheduler(budget, objectives, { ...rung(o), brackets: o.brackets, mode: o.mode, selection: o.selection })),
  },
  pbt: {
    build: (o, budget, objectives) => ({ scheduler: new PbtScheduler(budget, objectives, { ...population(o), resampleProbability: o.resample_probability }) }),
  },
  pb2: {
    build: (o, budget, objectives) => ({ scheduler: new Pb2Scheduler(budget, objectives, population(o)) }),
  },
};

function build(spec: StrategySpec | string | undefined, budget: Budget | undefined, objectives: readonly Objective[]): Built {
  const parsed = parseSchedulerSpec(spec ?? 'none', budget);
  if (!parsed.ok) throw new UserError(parsed.problem.message);
  const entry = SCHEDULERS[parsed.spec.kind] as Entry<SchedulerKind>;
  return entry.build(parsed.spec, budget, objectives);
}

/**
 * The scheduler a space file's `scheduler:` block (or `--scheduler KIND`) names, for the space's
 * budget and objectives. Bad settings are one UserError line.
 */
export function createScheduler(spec: StrategySpec | string | undefined, budget: Budget | undefined, objectives: readonly Objective[]): Scheduler {
  return build(spec, budget, objectives).scheduler;
}

/**
 * The scheduler plus the sampler the study must use with it: BOHB's own model sampler for
 * `bohb`, else `base` itself (promotion mode resumes configurations through the scheduler's
 * `suggest`).
 */
export function createSchedulerAndSampler(
  spec: StrategySpec | string | undefined,
  budget: Budget | undefined,
  objectives: readonly Objective[],
  base: Sampler,
): { scheduler: Scheduler; sampler: Sampler } {
  const built = build(spec, budget, objectives);
  return { scheduler: built.scheduler, sampler: built.sampler ? built.sampler(base) : base };
}
