import { UserError, type Sampler } from '@segtune/core';
import { parseSamplerSpec, type SamplerKind, type SamplerSpec, type StrategySpec } from '@segtune/space';
import { RandomSampler } from './random';
import { SobolSampler } from './sobol';
import { TpeSampler } from './tpe';
import { GpSampler } from './gp';
import { Nsga2Sampler } from './nsga2';
import { CmaEsSampler } from './cmaes';

type SamplerEntry<K extends SamplerKind> = {
  /** Builds the sampler from its parsed block (@segtune/space's samplerSchemas: checked, defaults filled in). */
  create(options: SamplerSpec<K>): Sampler;
};

function tpe(o: SamplerSpec<'tpe' | 'motpe'>): TpeSampler {
  // gamma, max_below and multivariate have no schema default: left unset they keep the single-
  // or multi-objective defaults (TPE_DEFAULTS, MO_TPE_DEFAULTS).
  return new TpeSampler({
    nStartupTrials: o.n_startup_trials,
    nEiCandidates: o.n_ei_candidates,
    gamma: o.gamma,
    maxBelow: o.max_below,
    priorWeight: o.prior_weight,
    multivariate: o.multivariate,
    bandwidth: o.bandwidth,
    constantLiar: o.constant_liar,
    magicClip: o.consider_magic_clip,
    bandwidthFactor: o.bandwidth_factor,
    startup: o.startup,
  });
}

/**
 * One line per sampler: adding one is a new file, its options' schema in @segtune/space
 * (strategies.ts: the space file, its JSON Schema and this registry all read it) and a line here.
 */
export const SAMPLERS: { [K in SamplerKind]: SamplerEntry<K> } = {
  random: { create: () => new RandomSampler() },
  sobol: { create: () => new SobolSampler() },
  qmc: { create: () => new SobolSampler() },
  tpe: { create: tpe },
  motpe: { create: tpe },
  gp: {
    create: (o) =>
      new GpSampler({
        nStartupTrials: o.n_startup_trials,
        nCandidates: o.n_candidates,
        nLocalSearch: o.n_local_search,
        fitRestarts: o.fit_restarts,
        deterministic: o.deterministic_objective,
        outputWarping: o.output_warping,
      }),
  },
  cmaes: {
    create: (o) =>
      new CmaEsSampler({
        sigma0: o.sigma0,
        popsize: o.popsize,
        restartStrategy: o.restart_strategy,
        incPopsize: o.inc_popsize,
        withMargin: o.with_margin,
        nStartupTrials: o.n_startup_trials,
      }),
  },
  nsga2: {
    create: (o) =>
      new Nsga2Sampler({
        populationSize: o.population_size,
        crossover: o.crossover,
        crossoverProb: o.crossover_prob,
        mutationProb: o.mutation_prob,
        etaCrossover: o.eta_crossover,
        etaMutation: o.eta_mutation,
      }),
  },
};

/** The sampler a space file's `sampler:` block (or `--sampler`) names. Bad options are one UserError line. */
export function createSampler(spec: StrategySpec | string | undefined, fallback = 'random'): Sampler {
  const parsed = parseSamplerSpec(spec ?? fallback);
  if (!parsed.ok) throw new UserError(parsed.problem.message);
  const entry = SAMPLERS[parsed.spec.kind] as SamplerEntry<SamplerKind>;
  return entry.create(parsed.spec);
}
