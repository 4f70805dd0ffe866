import { describe, expect, it } from 'vitest';
import { UserError } from '@segtune/core';
import { createSampler, SAMPLERS } from './registry';
import { TPE_DEFAULTS, TpeSampler } from './tpe';
import { GP_DEFAULTS, GpSampler } from './gp';
import { CMAES_DEFAULTS, CmaEsSampler } from './cmaes';
import { NSGA2_DEFAULTS, Nsga2Sampler } from './nsga2';

function error(spec: Record<string, unknown>): string {
  try {
    createSampler(spec as { kind: string });
  } catch (e) {
    expect(e).toBeInstanceOf(UserError);
    expect((e as Error).message).not.toContain('\n');
    return (e as Error).message;
  }
  throw new Error('expected a UserError');
}

describe('sampler registry', () => {
  it('names every sampler', () => {
    expect(Object.keys(SAMPLERS).sort()).toEqual(['cmaes', 'gp', 'motpe', 'nsga2', 'qmc', 'random', 'sobol', 'tpe']);
    for (const kind of Object.keys(SAMPLERS)) expect(createSampler(kind).suggest).toBeTypeOf('function');
  });

  it('passes snake_case options through', () => {
    const s = createSampler({ kind: 'tpe', n_startup_trials: 3, multivariate: false, gamma: 0.3 }) as TpeSampler;
    expect(s.options.nStartupTrials).toBe(3);
    expect(s.options.multivariate).toBe(false);
    expect(s.options.gamma).toBe(0.3);
    // Options not set keep the defaults of the study's kind: several objectives switch to
    // independent estimators and a 10% good group, unless the space file says otherwise.
    const d = createSampler({ kind: 'motpe' }) as TpeSampler;
    expect(d.optionsFor(1).multivariate).toBe(true);
    expect(d.optionsFor(1).gamma).toBe(0.2);
    expect(d.optionsFor(2).multivariate).toBe(false);
    expect(d.optionsFor(2).gamma).toBe(0.1);
    expect(s.optionsFor(3).multivariate).toBe(false);
    expect(s.optionsFor(3).gamma).toBe(0.3);
    const m = createSampler({ kind: 'tpe', multivariate: true }) as TpeSampler;
    expect(m.optionsFor(2).multivariate).toBe(true);
  });

  it("builds each kind with the samplers' own defaults (the schemas' defaults are the same)", () => {
    // Seeded benchmarks keep their figures only if a block without options builds exactly what
    // the constructor builds without options.
    expect((createSampler('tpe') as TpeSampler).options).toEqual(TPE_DEFAULTS);
    expect(createSampler('tpe')).toEqual(new TpeSampler());
    expect(createSampler('motpe')).toEqual(new TpeSampler());
    expect((createSampler('gp') as GpSampler).options).toEqual(GP_DEFAULTS);
    expect((createSampler('cmaes') as CmaEsSampler).options).toEqual(CMAES_DEFAULTS);
    expect(createSampler('cmaes')).toEqual(new CmaEsSampler());
    expect((createSampler('nsga2') as Nsga2Sampler).options).toEqual(NSGA2_DEFAULTS);
    expect(createSampler('nsga2')).toEqual(new Nsga2Sampler());
    expect(createSampler(undefined).name).toBe('random');
    expect(createSampler(undefined, 'sobol').name).toBe('sobol');
  });

  it('rejects bad options with one clear line', () => {
    expect(error({ kind: 'tpe', gamma: 1.5 })).toBe('sampler "tpe": option "gamma" must be a number in (0, 1), got 1.5');
    expect(error({ kind: 'tpe', gamma: 0 })).toContain('in (0, 1)');
    expect(error({ kind: 'tpe', n_startup_trials: -1 })).toBe('sampler "tpe": option "n_startup_trials" must be an integer >= 0, got -1');
    expect(error({ kind: 'gp', n_startup_trials: 2.5 })).toContain('must be an integer');
    expect(error({ kind: 'gp', kernel: 'rbf' })).toBe('sampler "gp": option "kernel" must be one of matern52, got "rbf"');
    expect(error({ kind: 'tpe', multivariat: true })).toMatch(/^sampler "tpe": unknown option "multivariat" \(did you mean "multivariate"\?\)|^sampler "tpe": unknown option "multivariat".*multivariate/);
    expect(error({ kind: 'tpe', multivariate: 'yes' })).toBe('sampler "tpe": option "multivariate" must be true or false, got "yes"');
    expect(error({ kind: 'nsga2', crossover: 'pmx' })).toBe('sampler "nsga2": option "crossover" must be one of sbx, uniform, blx, got "pmx"');
    expect(error({ kind: 'nsga2', population_size: 1 })).toContain('must be an integer >= 2');
    expect(error({ kind: 'sobol', scramble: true })).toContain('it takes no options');
    expect(error({ kind: 'tpee' })).toMatch(/^unknown sampler "tpee".*allowed: /);
    expect(error({ kind: 'cmaes', popsize: 1 })).toBe('sampler "cmaes": option "popsize" must be an integer >= 2, got 1');
    expect(error({ kind: 'nsga2', mutation_prob: 'high' })).toBe('sampler "nsga2": option "mutation_prob" must be a number in [0, 1], got "high"');
  });
});
