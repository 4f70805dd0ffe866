import { z } from 'zod';
import { didYouMean } from './did-you-mean';

// The options of every sampler and scheduler kind, declared once. The registries
// (@segtune/samplers, @segtune/schedulers) parse with these schemas and take their option types
// from them; the space file schema uses them for `sampler:` and `scheduler:`, so the loader
// reports a bad option at its file:line:column and search-spaces/space.schema.json lets editors
// complete the options of each kind. They live here, not in the strategy packages, because the
// space package may import none of ours. Keys are snake_case as in space files; a default given
// here is the one the strategy uses (a default that depends on the study, such as TPE's gamma
// with several objectives or a rung setting taken from the budget, is left unset and described).

export type StrategyRole = 'sampler' | 'scheduler';

interface NumberRule {
  min?: number;
  max?: number;
  /** Open interval ends. */
  exclusiveMin?: boolean;
  exclusiveMax?: boolean;
  integer?: boolean;
}

/** "an integer >= 0", "a number in (0, 1)": the wording every option message uses. */
function numberRule(rule: NumberRule): string {
  const what = rule.integer ? 'an integer' : 'a number';
  const { min, max } = rule;
  if (min !== undefined && max !== undefined) return `${what} in ${rule.exclusiveMin ? '(' : '['}${min}, ${max}${rule.exclusiveMax ? ')' : ']'}`;
  if (min !== undefined) return `${what} ${rule.exclusiveMin ? '>' : '>='} ${min}`;
  if (max !== undefined) return `${what} ${rule.exclusiveMax ? '<' : '<='} ${max}`;
  return what;
}

function number(rule: NumberRule, description?: string) {
  const error = `must be ${numberRule(rule)}`;
  let s = z.number({ error });
  if (rule.integer) s = s.int({ error });
  if (rule.min !== undefined) s = rule.exclusiveMin ? s.gt(rule.min, { error }) : s.gte(rule.min, { error });
  if (rule.max !== undefined) s = rule.exclusiveMax ? s.lt(rule.max, { error }) : s.lte(rule.max, { error });
  return description ? s.describe(description) : s;
}

const integer = (min: number, description?: string) => number({ min, integer: true }, description);
const positive = (description?: string) => number({ min: 0, exclusiveMin: true }, description);
const flag = (description?: string) => {
  const s = z.boolean({ error: 'must be true or false' });
  return description ? s.describe(description) : s;
};
function choice<const T extends readonly [string, ...string[]]>(values: T, description?: string) {
  const s = z.enum(values, { error: `must be one of ${values.join(', ')}` });
  return description ? s.describe(description) : s;
}

// ---- samplers ------------------------------------------------------------------------------

const tpe = {
  n_startup_trials: integer(0, 'trials sampled by `startup` before the model is used').default(10),
  n_ei_candidates: integer(1, 'candidates drawn from l(x) per suggestion').default(24),
  gamma: number({ min: 0, max: 1, exclusiveMin: true, exclusiveMax: true }, 'fraction of trials in the good group; default 0.2 (one objective), 0.1 (several)').optional(),
  max_below: integer(1, 'most trials in the good group; default 25 (one objective), unlimited (several)').optional(),
  prior_weight: positive('weight of the prior kernel').default(1),
  multivariate: flag('one joint estimator instead of one per param; default true (one objective), false (several)').optional(),
  bandwidth: choice(['neighbor', 'scott'], 'kernel bandwidth rule').default('neighbor'),
  constant_liar: flag('running trials count as bad, so parallel workers spread out').default(true),
  consider_magic_clip: flag("clip bandwidths from below (Optuna's magic clip)").default(true),
  bandwidth_factor: positive('multiplies every kernel bandwidth').default(1),
  startup: choice(['sobol', 'random'], 'how the startup trials are sampled').default('sobol'),
};

const gp = {
  n_startup_trials: integer(0, 'trials sampled at random before the model is used').default(10),
  n_candidates: integer(1, 'random candidates scored by the acquisition function').default(1024),
  n_local_search: integer(0, 'best candidates refined by L-BFGS').default(6),
  fit_restarts: integer(0, 'extra random starts of the hyperparameter fit').default(2),
  deterministic_objective: flag('the objective has no noise').default(false),
  output_warping: choice(['yeo-johnson', 'none'], 'transform of the standardised losses before the GP sees them: a Yeo-Johnson power transform (λ in [0, 1], fitted) that compresses a long tail of bad values, or none').default('yeo-johnson'),
  kernel: choice(['matern52'], 'covariance function').default('matern52'),
};

const cmaes = {
  sigma0: number({ min: 0, max: 1, exclusiveMin: true }, 'initial step size, as a fraction of each range').default(1 / 6),
  popsize: integer(2, 'population size; default 4 + ⌊3 ln n⌋').optional(),
  restart_strategy: choice(['ipop', 'none'], 'restart with a larger population when a run stalls').default('ipop'),
  inc_popsize: number({ min: 1, exclusiveMin: true }, 'population growth factor of each IPOP restart').default(2),
  with_margin: flag('keep integer params from collapsing onto one value (CMA-ES with margin)').default(true),
  n_startup_trials: integer(0, 'trials sampled at random first').default(0),
};

const nsga2 = {
  population_size: integer(2, 'trials per generation').default(50),
  crossover: choice(['sbx', 'uniform', 'blx'], 'crossover operator').default('blx'),
  crossover_prob: number({ min: 0, max: 1 }, 'probability of crossover (else a copy of one parent)').default(0.9),
  mutation_prob: number({ min: 0, max: 1 }, 'probability of mutating each param; default 1 / number of params').optional(),
  eta_crossover: positive('distribution index of SBX').default(15),
  eta_mutation: positive('distribution index of polynomial mutation').default(20),
};

/** The options of each sampler kind (aliases share their target's options). */
export const SAMPLER_OPTIONS = { random: {}, sobol: {}, qmc: {}, tpe, motpe: tpe, gp, cmaes, nsga2 };

/** One line per sampler kind, shown by editors beside `kind:`. */
export const SAMPLER_DESCRIPTIONS: Record<keyof typeof SAMPLER_OPTIONS, string> = {
  random: 'independent uniform sampling',
  sobol: 'scrambled Sobol quasi-random sequence (point = trial number)',
  qmc: 'alias of sobol',
  tpe: 'tree-structured Parzen estimator; multi-objective (MOTPE) and constraints automatically',
  motpe: 'alias of tpe (which switches to MOTPE when the study has several objectives)',
  gp: 'Gaussian-process BO (Matérn-5/2 ARD, log EI); several objectives by ParEGO',
  cmaes: 'CMA-ES with margin for integer params and IPOP restarts (one objective; categorical and conditional params sampled at random)',
  nsga2: 'NSGA-II genetic algorithm with constraint domination (multi-objective)',
};

// ---- schedulers ----------------------------------------------------------------------------

const rungs = {
  reduction_factor: number({ min: 1, exclusiveMin: true }, 'η: the best 1/η of each rung go on').default(3),
  min_resource: positive("resource of the first rung; default the budget's min").optional(),
  grace_period: number({ min: 0 }, 'no trial is stopped before this resource; default min_resource').optional(),
};
const mode = choice(['stopping', 'promotion'], 'stop trials at rungs, or pause them and resume the best from checkpoints').default('stopping');
const brackets = integer(1, 'brackets (early-stopping rates 0 … brackets-1)');
/** What PBT and PB2 share: the population and its exploit schedule. */
const population = {
  population_size: integer(2, 'trials sampled fresh before any is replaced').default(8),
  perturbation_interval: positive("steps between exploit/explore decisions; default ⌈budget max / 8⌉, at least the budget's min").optional(),
  quantile_fraction: number({ min: 0, max: 0.5, exclusiveMin: true }, 'bottom fraction replaced at each interval, top fraction copied from').default(0.25),
};

/** The options of each scheduler kind. */
export const SCHEDULER_OPTIONS = {
  none: {},
  median: {
    grace_period: number({ min: 0 }, "no trial is stopped before this resource; default the budget's min").optional(),
    min_trials: integer(1, 'trials that must have reached a step before its median is used').default(5),
  },
  sha: {
    ...rungs,
    cohort_size: integer(1, 'trials per cohort; default η^(number of rungs)').optional(),
  },
  asha: { ...rungs, brackets: brackets.default(1), mode },
  hyperband: { ...rungs, brackets: brackets.describe('brackets, the most aggressive first; default every bracket the budget allows').optional(), mode },
  bohb: {
    ...rungs,
    brackets: brackets.describe('brackets, the most aggressive first; default every bracket the budget allows').optional(),
    mode,
    top_n_percent: number({ min: 0, max: 100, exclusiveMin: true, exclusiveMax: true }, 'percentage of observations in the good KDE').default(15),
    random_fraction: number({ min: 0, max: 1 }, 'fraction of configurations sampled at random').default(1 / 3),
    num_samples: integer(1, 'candidates drawn from the good KDE').default(64),
    bandwidth_factor: positive('widening of the KDE when candidates are drawn').default(3),
    min_bandwidth: positive('smallest KDE bandwidth').default(1e-3),
    min_points: integer(0, 'observations a rung needs before its model is used; 0 means number of params + 1').default(0),
  },
  moasha: {
    ...rungs,
    brackets: brackets.default(1),
    mode,
    selection: choice(['crowding', 'hypervolume'], 'tie-break within a non-dominated rank').default('crowding'),
  },
  pbt: {
    ...population,
    resample_probability: number({ min: 0, max: 1 }, 'chance a mutable param is drawn afresh instead of scaled by 0.8 or 1.2').default(0.25),
    mutable: z
      .array(z.string({ error: 'must be a list of param names' }), { error: 'must be a list of param names' })
      .describe('params perturbed on exploit; default every float param')
      .optional(),
  },
  pb2: {
    ...population,
    mutable: z
      .array(z.string({ error: 'must be a list of param names' }), { error: 'must be a list of param names' })
      .describe('params the model chooses on exploit (categorical ones are shifted to a neighbouring choice); default every float param')
      .optional(),
  },
};

/** One line per scheduler kind. */
export const SCHEDULER_DESCRIPTIONS: Record<keyof typeof SCHEDULER_OPTIONS, string> = {
  none: 'never stops a trial',
  median: 'median stopping rule',
  sha: 'synchronous successive halving',
  asha: 'asynchronous successive halving',
  hyperband: 'Hyperband as asynchronous brackets',
  bohb: 'Hyperband with a KDE model proposing configurations',
  moasha: 'multi-objective ASHA (non-dominated rank, then crowding or hypervolume contribution)',
  pbt: "population-based training: the bottom quarter copies a top trial's checkpoint and perturbs its hyperparameters",
  pb2: "population-based bandits: PBT's exploit, with the new hyperparameters chosen by a GP's upper confidence bound on the improvement they bring",
};

// ---- the schemas ---------------------------------------------------------------------------

type Shapes = Record<string, z.ZodRawShape>;
type KindSchemas<T extends Shapes> = { [K in keyof T & string]: z.ZodObject<{ kind: z.ZodLiteral<K> } & T[K], z.core.$strict> };

function kindSchemas<T extends Shapes>(shapes: T, descriptions: Record<keyof T, string>): KindSchemas<T> {
  return Object.fromEntries(
    Object.entries(shapes).map(([kind, shape]) => [kind, z.strictObject({ kind: z.literal(kind).describe(descriptions[kind]), ...shape })]),
  ) as KindSchemas<T>;
}

/** One strict schema per sampler kind: `{ kind: 'tpe', gamma?: … }`. */
export const samplerSchemas = kindSchemas(SAMPLER_OPTIONS, SAMPLER_DESCRIPTIONS);
/** One strict schema per scheduler kind. */
export const schedulerSchemas = kindSchemas(SCHEDULER_OPTIONS, SCHEDULER_DESCRIPTIONS);

type Union<T extends Shapes> = z.ZodDiscriminatedUnion<KindSchemas<T>[keyof T & string][]>;
const union = <T extends Shapes>(schemas: KindSchemas<T>) => z.discriminatedUnion('kind', Object.values(schemas) as [KindSchemas<T>[keyof T & string]]) as unknown as Union<T>;

/** A `sampler:` block, discriminated on `kind` (the JSON Schema's part for editors). */
export const samplerSpecSchema = union(samplerSchemas);
/** A `scheduler:` block, discriminated on `kind`. */
export const schedulerSpecSchema = union(schedulerSchemas);

export type SamplerKind = keyof typeof SAMPLER_OPTIONS;
export type SchedulerKind = keyof typeof SCHEDULER_OPTIONS;
/** A sampler block after parsing: every option with a default is set. */
export type SamplerSpec<K extends SamplerKind = SamplerKind> = z.output<(typeof samplerSchemas)[K]>;
export type SchedulerSpec<K extends SchedulerKind = SchedulerKind> = z.output<(typeof schedulerSchemas)[K]>;

// ---- parsing, with one wording for every problem --------------------------------------------

/** What is wrong with a strategy block, in both the forms its callers need. */
export interface StrategyProblem {
  /** The key path inside the block, e.g. `['gamma']` (`['kind']` for an unknown kind, `[]` for the block). */
  path: string[];
  /** The path names a key that should not be there: point at the key rather than its value. */
  key: boolean;
  /** After the key path in a space file error: `must be a number in (0, 1), got 2`. */
  detail: string;
  /** On its own (CLI flags, library callers): `sampler "tpe": option "gamma" must be a number in (0, 1), got 2`. */
  message: string;
}

export type StrategyResult<S> = { ok: true; spec: S } | { ok: false; problem: StrategyProblem };

/** Parses a sampler block (or a bare kind), filling in the defaults. */
export function parseSamplerSpec(spec: unknown): StrategyResult<SamplerSpec> {
  return parseStrategy('sampler', samplerSchemas, spec) as StrategyResult<SamplerSpec>;
}

/**
 * Parses a scheduler block (or a bare kind), filling in the defaults. With the space's budget it
 * also checks the resources the block names against it (a rung beyond the budget never comes).
 */
export function parseSchedulerSpec(spec: unknown, budget?: StrategyBudget): StrategyResult<SchedulerSpec> {
  const result = parseStrategy('scheduler', schedulerSchemas, spec) as StrategyResult<SchedulerSpec>;
  if (!result.ok || !budget) return result;
  const o = result.spec as Record<string, unknown>;
  const fail = (key: string, detail: string): StrategyResult<SchedulerSpec> => ({
    ok: false,
    problem: { path: [key], key: false, detail, message: `scheduler "${result.spec.kind}": option "${key}" ${detail}` },
  });
  for (const key of ['min_resource', 'grace_period']) {
    const v = o[key];
    if (typeof v === 'number' && v > budget.max) return fail(key, `${budgetRule(budget)}, got ${v}`);
  }
  if (typeof o.brackets === 'number' && typeof o.reduction_factor === 'number') {
    const minResource = typeof o.min_resource === 'number' ? o.min_resource : budget.min;
    // The schedulers' maxBrackets: ⌊log_η(max / min_resource)⌋ + 1.
    const most = Math.floor(Math.log(budget.max / minResource) / Math.log(o.reduction_factor) + 1e-9) + 1;
    if (o.brackets > most) return fail('brackets', `${bracketsRule(most, minResource, budget.max, o.reduction_factor)}, got ${o.brackets}`);
  }
  return result;
}

/** The budget a scheduler block is checked against (the space file's `budget:`). */
export interface StrategyBudget {
  name: string;
  min: number;
  max: number;
}

/** The wording of a resource beyond the budget, shared with the schedulers' own checks. */
export function budgetRule(budget: { name: string; max: number }): string {
  return `must be at most the budget's max ${budget.max} (${budget.name})`;
}

/** The wording of too many brackets, shared with the schedulers' own checks. */
export function bracketsRule(most: number, minResource: number, max: number, eta: number): string {
  return `must be at most ${most}, the brackets this budget allows (min_resource ${minResource}, max ${max}, reduction_factor ${eta})`;
}

/**
 * The first problem of a sampler or scheduler block, if any: a scheduler's against the budget
 * too, when given; `inFile` for a space file's block, which must be a mapping (a bare kind is
 * the CLI's and the library's shorthand).
 */
export function strategyProblem(role: StrategyRole, spec: unknown, options: { budget?: StrategyBudget; inFile?: boolean } = {}): StrategyProblem | undefined {
  if (options.inFile && typeof spec === 'string') {
    const detail = `must be a mapping with a kind, e.g. { kind: ${spec} }`;
    return { path: [], key: false, detail, message: `${role} ${detail}` };
  }
  const result = role === 'sampler' ? parseSamplerSpec(spec) : parseSchedulerSpec(spec, options.budget);
  return result.ok ? undefined : result.problem;
}

function parseStrategy(role: StrategyRole, schemas: Record<string, z.ZodObject>, spec: unknown): StrategyResult<unknown> {
  const block = typeof spec === 'string' ? { kind: spec } : spec;
  const kinds = Object.keys(schemas);
  const problem = (path: string[], key: boolean, detail: string, message = `${role} ${detail}`): StrategyResult<unknown> => ({ ok: false, problem: { path, key, detail, message } });
  if (block === null || typeof block !== 'object' || Array.isArray(block)) {
    return problem([], false, `must be a mapping with a kind, e.g. { kind: ${kinds[0]} }; allowed kinds: ${kinds.join(', ')}`);
  }
  const kind = (block as { kind?: unknown }).kind;
  if (kind === undefined) return problem([], false, `missing "kind"; allowed: ${kinds.join(', ')}`, `${role}: missing "kind"; allowed: ${kinds.join(', ')}`);
  const schema = typeof kind === 'string' && Object.hasOwn(schemas, kind) ? schemas[kind] : undefined;
  if (!schema) {
    const detail = `unknown ${role} ${JSON.stringify(kind)}${typeof kind === 'string' ? didYouMean(kind, kinds) : ''}; allowed: ${kinds.join(', ')}`;
    return problem(['kind'], false, detail, detail);
  }
  const parsed = schema.safeParse(block);
  if (parsed.success) return { ok: true, spec: parsed.data };
  const issue = parsed.error.issues[0];
  const options = Object.keys(schema.shape).filter((k) => k !== 'kind');
  const prefix = `${role} "${kind}": `;
  if (issue.code === 'unrecognized_keys') {
    const key = issue.keys[0];
    const detail = `unknown option "${key}"${didYouMean(key, options)}${options.length ? `; allowed: ${options.join(', ')}` : '; it takes no options'}`;
    return problem([key], true, detail, prefix + detail);
  }
  const key = String(issue.path[0]);
  const got = (block as Record<string, unknown>)[key];
  const hint = issue.code === 'invalid_value' && typeof got === 'string' ? didYouMean(got, issue.values.map(String)) : '';
  const detail = `${issue.message}, got ${show(got)}${hint}`;
  return problem([key], false, detail, `${prefix}option "${key}" ${detail}`);
}

function show(v: unknown): string {
  if (typeof v === 'number' && !Number.isFinite(v)) return String(v);
  if (v === undefined) return 'nothing';
  if (Array.isArray(v)) return 'a list';
  if (v !== null && typeof v === 'object') return 'a mapping';
  return JSON.stringify(v);
}
