import { UserError, noScheduler, type Objective, type Sampler, type Scheduler } from '@segtune/core';
import { didYouMean, type Budget, type StrategySpec } from '@segtune/space';
import { AshaScheduler, type AshaMode } from './asha';
import { createBohb, type BohbOptions } from './bohb';
import { HyperbandScheduler } from './hyperband';
import { MedianStoppingScheduler } from './median';
import { MoAshaScheduler, type MoSelection } from './moasha';
import { OptionReader } from './options';
import { SuccessiveHalvingScheduler } from './successive-halving';

const RUNG = ['reduction_factor', 'min_resource', 'grace_period'] as const;
const MODES: readonly AshaMode[] = ['stopping', 'promotion'];
const BOHB_MODEL = ['top_n_percent', 'random_fraction', 'num_samples', 'bandwidth_factor', 'min_bandwidth', 'min_points'] as const;

interface Built {
  scheduler: Scheduler;
  /** The sampler the scheduler needs instead of (or around) the study's own, if any. */
  sampler?: (base: Sampler) => Sampler;
}

type Entry = {
  options: readonly string[];
  description: string;
  build(o: OptionReader, budget: Budget | undefined, objectives: readonly Objective[]): Built;
};

function rung(o: OptionReader) {
  return {
    reductionFactor: o.optionalNumber('reduction_factor'),
    minResource: o.optionalNumber('min_resource'),
    gracePeriod: o.optionalNumber('grace_period', { min: 0 }),
  };
}

// Promotion mode needs no sampler of its own: the scheduler answers `suggest` with the paused
// configuration to resume before the study's sampler is asked.
function withPromotion(s: AshaScheduler): Built {
  return { scheduler: s };
}

/** One line per scheduler kind: adding one is a new file plus an entry here. */
export const SCHEDULERS: Record<string, Entry> = {
  none: { options: [], description: 'never stops a trial', build: () => ({ scheduler: noScheduler }) },
  median: {
    options: ['grace_period', 'min_trials'],
    description: 'median stopping rule',
    build: (o, budget, objectives) => ({
      scheduler: new MedianStoppingScheduler(budget, objectives, { gracePeriod: o.optionalNumber('grace_period', { min: 0 }), minTrials: o.optionalNumber('min_trials', { min: 1, integer: true }) }),
    }),
  },
  sha: {
    options: [...RUNG, 'cohort_size'],
    description: 'synchronous successive halving',
    build: (o, budget, objectives) => ({
      scheduler: new SuccessiveHalvingScheduler(budget, objectives, { ...rung(o), cohortSize: o.optionalNumber('cohort_size', { min: 1, integer: true }) }),
    }),
  },
  asha: {
    options: [...RUNG, 'brackets', 'mode'],
    description: 'asynchronous successive halving',
    build: (o, budget, objectives) =>
      withPromotion(new AshaScheduler(budget, objectives, { ...rung(o), brackets: o.optionalNumber('brackets', { min: 1, integer: true }), mode: o.choice('mode', MODES, 'stopping') })),
  },
  hyperband: {
    options: [...RUNG, 'brackets', 'mode'],
    description: 'Hyperband as asynchronous brackets',
    build: (o, budget, objectives) =>
      withPromotion(new HyperbandScheduler(budget, objectives, { ...rung(o), brackets: o.optionalNumber('brackets', { min: 1, integer: true }), mode: o.choice('mode', MODES, 'stopping') })),
  },
  bohb: {
    options: [...RUNG, 'brackets', 'mode', ...BOHB_MODEL],
    description: 'Hyperband with a KDE model proposing configurations',
    build: (o, budget, objectives) => {
      const options: BohbOptions = {
        ...rung(o),
        brackets: o.optionalNumber('brackets', { min: 1, integer: true }),
        mode: o.choice('mode', MODES, 'stopping'),
        topNPercent: o.optionalNumber('top_n_percent'),
        randomFraction: o.optionalNumber('random_fraction'),
        numSamples: o.optionalNumber('num_samples', { min: 1, integer: true }),
        bandwidthFactor: o.optionalNumber('bandwidth_factor'),
        minBandwidth: o.optionalNumber('min_bandwidth'),
        minPoints: o.optionalNumber('min_points', { min: 0, integer: true }),
      };
      const { scheduler, sampler } = createBohb(budget, objectives, options);
      return { scheduler, sampler: () => sampler };
    },
  },
  moasha: {
    options: [...RUNG, 'brackets', 'mode', 'selection'],
    description: 'multi-objective ASHA (non-dominated rank, then crowding or hypervolume contribution)',
    build: (o, budget, objectives) =>
      withPromotion(
        new MoAshaScheduler(budget, objectives, {
          ...rung(o),
          brackets: o.optionalNumber('brackets', { min: 1, integer: true }),
          mode: o.choice('mode', MODES, 'stopping'),
          selection: o.choice<MoSelection>('selection', ['crowding', 'hypervolume'], 'crowding'),
        }),
      ),
  },
};

function build(spec: StrategySpec | string | undefined, budget: Budget | undefined, objectives: readonly Objective[]): Built {
  const { kind, ...options } = typeof spec === 'string' ? { kind: spec } : (spec ?? { kind: 'none' });
  const entry = SCHEDULERS[kind];
  if (!entry) {
    const names = Object.keys(SCHEDULERS);
    throw new UserError(`unknown scheduler "${kind}"${didYouMean(kind, names)}; allowed: ${names.join(', ')}`);
  }
  return entry.build(new OptionReader(kind, options, entry.options), budget, objectives);
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

/** BOHB's sampler for a `scheduler: { kind: bohb, … }` block (the same options as its scheduler). */
export function createBohbSampler(spec: StrategySpec | string, budget: Budget | undefined, objectives: readonly Objective[]): Sampler {
  const built = build(spec, budget, objectives);
  if (built.scheduler.name !== 'bohb' || !built.sampler) throw new UserError(`createBohbSampler: scheduler kind must be "bohb"`);
  return built.sampler(undefined as unknown as Sampler);
}
