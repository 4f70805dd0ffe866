import { readdirSync, readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { parseSpace, SpaceError } from './parse';
import { spaceJsonSchema } from './schema';
import { SAMPLER_OPTIONS, SCHEDULER_OPTIONS, parseSamplerSpec, parseSchedulerSpec, strategyProblem, type StrategyRole } from './strategies';

const parse = (role: StrategyRole, spec: unknown) => (role === 'sampler' ? parseSamplerSpec(spec) : parseSchedulerSpec(spec));
const message = (role: StrategyRole, spec: unknown) => {
  const problem = strategyProblem(role, spec);
  if (!problem) throw new Error(`expected a problem with ${JSON.stringify(spec)}`);
  expect(problem.message).not.toContain('\n');
  return problem.message;
};

describe('strategy option schemas', () => {
  it('fill in each kind\'s defaults and leave the study-dependent ones unset', () => {
    const defaults = (role: StrategyRole, kind: string) => {
      const r = parse(role, kind);
      if (!r.ok) throw new Error(r.problem.message);
      return r.spec;
    };
    const tpe = { n_startup_trials: 10, n_ei_candidates: 24, prior_weight: 1, bandwidth: 'neighbor', constant_liar: true, consider_magic_clip: true, bandwidth_factor: 1, startup: 'sobol' };
    expect(defaults('sampler', 'tpe')).toEqual({ kind: 'tpe', ...tpe });
    expect(defaults('sampler', 'motpe')).toEqual({ kind: 'motpe', ...tpe });
    expect(defaults('sampler', 'gp')).toEqual({ kind: 'gp', n_startup_trials: 10, n_candidates: 1024, n_local_search: 6, fit_restarts: 2, deterministic_objective: false, output_warping: 'yeo-johnson', kernel: 'matern52' });
    expect(defaults('sampler', 'cmaes')).toEqual({ kind: 'cmaes', sigma0: 1 / 6, restart_strategy: 'ipop', inc_popsize: 2, with_margin: true, n_startup_trials: 0 });
    expect(defaults('sampler', 'nsga2')).toEqual({ kind: 'nsga2', population_size: 50, crossover: 'blx', crossover_prob: 0.9, eta_crossover: 15, eta_mutation: 20 });
    for (const kind of ['random', 'sobol', 'qmc']) expect(defaults('sampler', kind)).toEqual({ kind });
    expect(defaults('scheduler', 'none')).toEqual({ kind: 'none' });
    expect(defaults('scheduler', 'median')).toEqual({ kind: 'median', min_trials: 5 });
    expect(defaults('scheduler', 'sha')).toEqual({ kind: 'sha', reduction_factor: 3 });
    expect(defaults('scheduler', 'asha')).toEqual({ kind: 'asha', reduction_factor: 3, brackets: 1, mode: 'stopping' });
    expect(defaults('scheduler', 'hyperband')).toEqual({ kind: 'hyperband', reduction_factor: 3, mode: 'stopping' });
    expect(defaults('scheduler', 'pbt')).toEqual({ kind: 'pbt', population_size: 8, quantile_fraction: 0.25, resample_probability: 0.25 });
    expect(defaults('scheduler', 'pb2')).toEqual({ kind: 'pb2', population_size: 8, quantile_fraction: 0.25 });
    expect(defaults('scheduler', 'moasha')).toEqual({ kind: 'moasha', reduction_factor: 3, brackets: 1, mode: 'stopping', selection: 'crowding' });
    expect(defaults('scheduler', 'bohb')).toEqual({
      kind: 'bohb', reduction_factor: 3, mode: 'stopping', top_n_percent: 15, random_fraction: 1 / 3, num_samples: 64, bandwidth_factor: 3, min_bandwidth: 1e-3, min_points: 0,
    });
    // Options the file sets are kept.
    expect(parseSamplerSpec({ kind: 'tpe', gamma: 0.3, multivariate: false })).toMatchObject({ ok: true, spec: { gamma: 0.3, multivariate: false, n_startup_trials: 10 } });
  });

  it('reject a bad value of every kind with one line in one wording', () => {
    const bad: Record<string, [Record<string, unknown>, string]> = {
      tpe: [{ gamma: 2 }, 'sampler "tpe": option "gamma" must be a number in (0, 1), got 2'],
      motpe: [{ n_startup_trials: 2.5 }, 'sampler "motpe": option "n_startup_trials" must be an integer >= 0, got 2.5'],
      gp: [{ kernel: 'rbf' }, 'sampler "gp": option "kernel" must be one of matern52, got "rbf"'],
      cmaes: [{ sigma0: 0 }, 'sampler "cmaes": option "sigma0" must be a number in (0, 1], got 0'],
      nsga2: [{ crossover: 'sbz' }, 'sampler "nsga2": option "crossover" must be one of sbx, uniform, blx, got "sbz" (did you mean "sbx"?)'],
      random: [{ seed: 1 }, 'sampler "random": unknown option "seed"; it takes no options'],
      sobol: [{ scramble: true }, 'sampler "sobol": unknown option "scramble"; it takes no options'],
      qmc: [{ scramble: true }, 'sampler "qmc": unknown option "scramble"; it takes no options'],
    };
    expect(Object.keys(bad).sort()).toEqual(Object.keys(SAMPLER_OPTIONS).sort());
    for (const [kind, [options, expected]] of Object.entries(bad)) expect(message('sampler', { kind, ...options })).toBe(expected);
    const badScheduler: Record<string, [Record<string, unknown>, string]> = {
      none: [{ grace_period: 1 }, 'scheduler "none": unknown option "grace_period"; it takes no options'],
      median: [{ min_trials: 0 }, 'scheduler "median": option "min_trials" must be an integer >= 1, got 0'],
      sha: [{ reduction_factor: 1 }, 'scheduler "sha": option "reduction_factor" must be a number > 1, got 1'],
      asha: [{ mode: 'pause' }, 'scheduler "asha": option "mode" must be one of stopping, promotion, got "pause"'],
      hyperband: [{ brackets: 0 }, 'scheduler "hyperband": option "brackets" must be an integer >= 1, got 0'],
      bohb: [{ random_fraction: 1.5 }, 'scheduler "bohb": option "random_fraction" must be a number in [0, 1], got 1.5'],
      moasha: [{ selection: 'hypervolum' }, 'scheduler "moasha": option "selection" must be one of crowding, hypervolume, got "hypervolum" (did you mean "hypervolume"?)'],
      pbt: [{ quantile_fraction: 0.75 }, 'scheduler "pbt": option "quantile_fraction" must be a number in (0, 0.5], got 0.75'],
      pb2: [{ resample_probability: 0.5 }, 'scheduler "pb2": unknown option "resample_probability"; allowed: population_size, perturbation_interval, quantile_fraction, mutable'],
    };
    expect(Object.keys(badScheduler).sort()).toEqual(Object.keys(SCHEDULER_OPTIONS).sort());
    for (const [kind, [options, expected]] of Object.entries(badScheduler)) expect(message('scheduler', { kind, ...options })).toBe(expected);
  });

  it('name unknown options and kinds with a did-you-mean, and wrong types with what came', () => {
    expect(message('sampler', { kind: 'tpe', multivariat: true })).toMatch(/^sampler "tpe": unknown option "multivariat" \(did you mean "multivariate"\?\); allowed: n_startup_trials, /);
    expect(message('sampler', 'tpee')).toBe('unknown sampler "tpee" (did you mean "tpe"?); allowed: random, sobol, qmc, tpe, motpe, gp, cmaes, nsga2');
    expect(message('scheduler', { kind: 'hyperbnd' })).toBe('unknown scheduler "hyperbnd" (did you mean "hyperband"?); allowed: none, median, sha, asha, hyperband, bohb, moasha, pbt, pb2');
    expect(message('scheduler', { reduction_factor: 3 })).toBe('scheduler: missing "kind"; allowed: none, median, sha, asha, hyperband, bohb, moasha, pbt, pb2');
    expect(message('sampler', { kind: 'tpe', multivariate: 'yes' })).toBe('sampler "tpe": option "multivariate" must be true or false, got "yes"');
    expect(message('sampler', { kind: 'tpe', n_ei_candidates: null })).toBe('sampler "tpe": option "n_ei_candidates" must be an integer >= 1, got null');
    expect(message('scheduler', { kind: 'asha', reduction_factor: [3] })).toBe('scheduler "asha": option "reduction_factor" must be a number > 1, got a list');
  });

  it('check a scheduler\'s resources against the budget when given one', () => {
    const budget = { name: 'epochs', min: 1, max: 27 };
    expect(parseSchedulerSpec({ kind: 'asha', min_resource: 30 }).ok).toBe(true);
    expect(strategyProblem('scheduler', { kind: 'asha', min_resource: 30 }, { budget })?.message).toBe('scheduler "asha": option "min_resource" must be at most the budget\'s max 27 (epochs), got 30');
    expect(strategyProblem('scheduler', { kind: 'median', grace_period: 28 }, { budget })?.message).toBe('scheduler "median": option "grace_period" must be at most the budget\'s max 27 (epochs), got 28');
    expect(strategyProblem('scheduler', { kind: 'moasha', brackets: 5 }, { budget })?.message).toBe(
      'scheduler "moasha": option "brackets" must be at most 4, the brackets this budget allows (min_resource 1, max 27, reduction_factor 3), got 5',
    );
    expect(strategyProblem('scheduler', { kind: 'asha', brackets: 4, min_resource: 1, grace_period: 27 }, { budget })).toBeUndefined();
  });
});

const base = `name: demo
objectives:
  - { name: value, direction: minimize }
params:
  x: { type: float, low: -5, high: 10 }
budget: { name: epochs, min: 1, max: 27 }
workload: { kind: benchmark, function: branin }
`;

function spaceError(text: string): string {
  try {
    parseSpace(text, 'space.yaml');
  } catch (e) {
    expect(e).toBeInstanceOf(SpaceError);
    expect((e as Error).message).not.toContain('\n');
    return (e as Error).message;
  }
  throw new Error('expected a SpaceError');
}

describe('strategy options in a space file', () => {
  it('are reported at the file:line:column of the offending key or value', () => {
    expect(spaceError(`${base}sampler:\n  kind: tpe\n  gamma: 2\n`)).toBe('space.yaml:10:10: sampler.gamma: must be a number in (0, 1), got 2');
    expect(spaceError(`${base}sampler: { kind: tpe, gama: 0.2 }\n`)).toMatch(/^space\.yaml:8:23: sampler\.gama: unknown option "gama" \(did you mean "gamma"\?\); allowed: /);
    expect(spaceError(`${base}sampler: { kind: tpee }\n`)).toBe('space.yaml:8:18: sampler.kind: unknown sampler "tpee" (did you mean "tpe"?); allowed: random, sobol, qmc, tpe, motpe, gp, cmaes, nsga2');
    expect(spaceError(`${base}scheduler: { reduction_factor: 3 }\n`)).toBe('space.yaml:8:12: scheduler: missing "kind"; allowed: none, median, sha, asha, hyperband, bohb, moasha, pbt, pb2');
    expect(spaceError(`${base}scheduler:\n  kind: asha\n  mode: promotin\n`)).toBe('space.yaml:10:9: scheduler.mode: must be one of stopping, promotion, got "promotin" (did you mean "promotion"?)');
    expect(spaceError(`${base}scheduler: { kind: asha, min_resource: 30 }\n`)).toBe('space.yaml:8:40: scheduler.min_resource: must be at most the budget\'s max 27 (epochs), got 30');
    expect(spaceError(`${base}scheduler: { kind: hyperband, brackets: 9 }\n`)).toMatch(/^space\.yaml:8:41: scheduler\.brackets: must be at most 4, the brackets this budget allows/);
    expect(spaceError(`${base}sampler: tpe\n`)).toMatch(/^space\.yaml:8:10: sampler: must be a mapping with a kind/);
  });

  it('keep the blocks as written: the registries fill in the defaults', () => {
    const { spec } = parseSpace(`${base}sampler: { kind: tpe, gamma: 0.3 }\nscheduler: { kind: asha }\n`, 'space.yaml');
    expect(spec.sampler).toEqual({ kind: 'tpe', gamma: 0.3 });
    expect(spec.scheduler).toEqual({ kind: 'asha' });
    expect('sampler' in parseSpace(base, 'space.yaml').spec).toBe(false);
  });
});

describe('the JSON Schema of strategy options', () => {
  const validate = new Ajv2020({ strict: false }).compile(spaceJsonSchema());
  const dir = new URL('../../../search-spaces/', import.meta.url);

  it('accepts every space file in search-spaces/', () => {
    const files = readdirSync(dir).filter((f) => f.endsWith('.yaml'));
    expect(files.length).toBeGreaterThan(5);
    for (const f of files) {
      const ok = validate(parseYaml(readFileSync(new URL(f, dir), 'utf8')));
      expect({ file: f, errors: ok ? null : validate.errors }).toEqual({ file: f, errors: null });
    }
  });

  it('rejects a bad option, an unknown option and an unknown kind, and completes options per kind', () => {
    const doc = parseYaml(base) as Record<string, unknown>;
    expect(validate({ ...doc, sampler: { kind: 'tpe', gamma: 0.3 }, scheduler: { kind: 'asha', mode: 'promotion' } })).toBe(true);
    expect(validate({ ...doc, sampler: { kind: 'tpe', gamma: 2 } })).toBe(false);
    expect(validate({ ...doc, sampler: { kind: 'tpe', gama: 0.2 } })).toBe(false);
    expect(validate({ ...doc, sampler: { kind: 'tpee' } })).toBe(false);
    expect(validate({ ...doc, scheduler: { kind: 'asha', reduction_factor: 1 } })).toBe(false);
    // An option of one kind is not allowed on another.
    expect(validate({ ...doc, sampler: { kind: 'gp', gamma: 0.3 } })).toBe(false);
    const sampler = (spaceJsonSchema().properties as Record<string, { oneOf: { properties: Record<string, { const?: string }> }[] }>).sampler;
    const tpe = sampler.oneOf.find((s) => s.properties.kind.const === 'tpe')!;
    expect(Object.keys(tpe.properties)).toEqual(['kind', ...Object.keys(SAMPLER_OPTIONS.tpe)]);
  });
});
