import { UserError, type Sampler } from '@segtune/core';
import { didYouMean, type StrategySpec } from '@segtune/space';
import { RandomSampler } from './random';
import { SobolSampler } from './sobol';
import { TPE_DEFAULTS, TpeSampler } from './tpe';
import { GpSampler } from './gp';
import { NSGA2_DEFAULTS, Nsga2Sampler, type Crossover } from './nsga2';
import { booleanOption, enumOption, numberOption } from './options';
import { CMAES_DEFAULTS, CmaEsSampler } from './cmaes';

type SamplerEntry = {
  /** Builds the sampler; throws UserError for options out of range. */
  create(options: Record<string, unknown>): Sampler;
  description: string;
};

const TPE_OPTIONS = ['n_startup_trials', 'n_ei_candidates', 'gamma', 'max_below', 'prior_weight', 'multivariate', 'bandwidth', 'constant_liar', 'consider_magic_clip', 'bandwidth_factor', 'startup'];

function tpe(kind: string, o: Record<string, unknown>): TpeSampler {
  rejectUnknownOptions(kind, o, TPE_OPTIONS);
  // Only options the space file sets are passed on: the rest keep the single- or
  // multi-objective defaults (TPE_DEFAULTS, MO_TPE_DEFAULTS).
  const D = TPE_DEFAULTS;
  const set = <T>(key: string, read: () => T): T | undefined => (o[key] === undefined ? undefined : read());
  return new TpeSampler({
    nStartupTrials: set('n_startup_trials', () => numberOption(kind, o, 'n_startup_trials', D.nStartupTrials, { min: 0, integer: true })),
    nEiCandidates: set('n_ei_candidates', () => numberOption(kind, o, 'n_ei_candidates', D.nEiCandidates, { min: 1, integer: true })),
    gamma: set('gamma', () => numberOption(kind, o, 'gamma', D.gamma, { min: 0, max: 1, exclusiveMin: true, exclusiveMax: true })),
    maxBelow: set('max_below', () => numberOption(kind, o, 'max_below', D.maxBelow, { min: 1, integer: true })),
    priorWeight: set('prior_weight', () => numberOption(kind, o, 'prior_weight', D.priorWeight, { min: 0, exclusiveMin: true })),
    multivariate: set('multivariate', () => booleanOption(kind, o, 'multivariate', D.multivariate)),
    bandwidth: set('bandwidth', () => enumOption<'neighbor' | 'scott'>(kind, o, 'bandwidth', D.bandwidth, ['neighbor', 'scott'])),
    constantLiar: set('constant_liar', () => booleanOption(kind, o, 'constant_liar', D.constantLiar)),
    magicClip: set('consider_magic_clip', () => booleanOption(kind, o, 'consider_magic_clip', D.magicClip)),
    bandwidthFactor: set('bandwidth_factor', () => numberOption(kind, o, 'bandwidth_factor', D.bandwidthFactor, { min: 0, exclusiveMin: true })),
    startup: set('startup', () => enumOption<'sobol' | 'random'>(kind, o, 'startup', D.startup, ['sobol', 'random'])),
  });
}

/** One line per sampler: adding one is a new file plus a line here. */
export const SAMPLERS: Record<string, SamplerEntry> = {
  random: { create: (o) => (rejectUnknownOptions('random', o, []), new RandomSampler()), description: 'independent uniform sampling' },
  sobol: { create: (o) => (rejectUnknownOptions('sobol', o, []), new SobolSampler()), description: 'scrambled Sobol quasi-random sequence (point = trial number)' },
  qmc: { create: (o) => (rejectUnknownOptions('qmc', o, []), new SobolSampler()), description: 'alias of sobol' },
  tpe: { create: (o) => tpe('tpe', o), description: 'tree-structured Parzen estimator; multi-objective (MOTPE) and constraints automatically' },
  motpe: { create: (o) => tpe('motpe', o), description: 'alias of tpe (which switches to MOTPE when the study has several objectives)' },
  gp: {
    create: (o) => {
      rejectUnknownOptions('gp', o, ['n_startup_trials', 'n_candidates', 'n_local_search', 'fit_restarts', 'deterministic_objective', 'kernel']);
      enumOption('gp', o, 'kernel', 'matern52', ['matern52']);
      return new GpSampler({
        nStartupTrials: numberOption('gp', o, 'n_startup_trials', 10, { min: 0, integer: true }),
        nCandidates: numberOption('gp', o, 'n_candidates', 1024, { min: 1, integer: true }),
        nLocalSearch: numberOption('gp', o, 'n_local_search', 6, { min: 0, integer: true }),
        fitRestarts: numberOption('gp', o, 'fit_restarts', 2, { min: 0, integer: true }),
        deterministic: booleanOption('gp', o, 'deterministic_objective', false),
      });
    },
    description: 'Gaussian-process BO (Matérn-5/2 ARD, log EI); several objectives by ParEGO',
  },
  cmaes: {
    create: (o) => {
      rejectUnknownOptions('cmaes', o, ['sigma0', 'popsize', 'restart_strategy', 'inc_popsize', 'with_margin', 'n_startup_trials']);
      return new CmaEsSampler({
        sigma0: numberOption('cmaes', o, 'sigma0', CMAES_DEFAULTS.sigma0, { min: 0, max: 1, exclusiveMin: true }),
        popsize: o.popsize === undefined ? undefined : numberOption('cmaes', o, 'popsize', 0, { min: 2, integer: true }),
        restartStrategy: enumOption<'ipop' | 'none'>('cmaes', o, 'restart_strategy', CMAES_DEFAULTS.restartStrategy, ['ipop', 'none']),
        incPopsize: numberOption('cmaes', o, 'inc_popsize', CMAES_DEFAULTS.incPopsize, { min: 1, exclusiveMin: true }),
        withMargin: booleanOption('cmaes', o, 'with_margin', CMAES_DEFAULTS.withMargin),
        nStartupTrials: numberOption('cmaes', o, 'n_startup_trials', CMAES_DEFAULTS.nStartupTrials, { min: 0, integer: true }),
      });
    },
    description: 'CMA-ES with margin for integer params and IPOP restarts (one objective; categorical and conditional params sampled at random)',
  },
  nsga2: {
    create: (o) => {
      rejectUnknownOptions('nsga2', o, ['population_size', 'crossover', 'crossover_prob', 'mutation_prob', 'eta_crossover', 'eta_mutation']);
      return new Nsga2Sampler({
        populationSize: numberOption('nsga2', o, 'population_size', 50, { min: 2, integer: true }),
        crossover: enumOption<Crossover>('nsga2', o, 'crossover', NSGA2_DEFAULTS.crossover, ['sbx', 'uniform', 'blx']),
        crossoverProb: numberOption('nsga2', o, 'crossover_prob', 0.9, { min: 0, max: 1 }),
        mutationProb: o.mutation_prob === undefined ? undefined : numberOption('nsga2', o, 'mutation_prob', 0, { min: 0, max: 1 }),
        etaCrossover: numberOption('nsga2', o, 'eta_crossover', 15, { min: 0, exclusiveMin: true }),
        etaMutation: numberOption('nsga2', o, 'eta_mutation', 20, { min: 0, exclusiveMin: true }),
      });
    },
    description: 'NSGA-II genetic algorithm with constraint domination (multi-objective)',
  },
};

/** The sampler a space file's `sampler:` block (or `--sampler`) names. */
export function createSampler(spec: StrategySpec | string | undefined, fallback = 'random'): Sampler {
  const { kind, ...options } = typeof spec === 'string' ? { kind: spec } : (spec ?? { kind: fallback });
  const entry = SAMPLERS[kind];
  if (!entry) {
    const names = Object.keys(SAMPLERS);
    throw new UserError(`unknown sampler "${kind}"${didYouMean(kind, names)}; allowed: ${names.join(', ')}`);
  }
  return entry.create(options);
}

/** Rejects option keys a sampler does not take, with a did-you-mean. */
export function rejectUnknownOptions(kind: string, options: Record<string, unknown>, allowed: readonly string[]): void {
  for (const key of Object.keys(options)) {
    if (!allowed.includes(key)) {
      throw new UserError(`sampler "${kind}": unknown option "${key}"${didYouMean(key, allowed)}${allowed.length ? `; allowed: ${allowed.join(', ')}` : '; it takes no options'}`);
    }
  }
}
