import { z } from 'zod';
import { nameSchema } from './names';
import { samplerSpecSchema, schedulerSpecSchema } from './strategies';

// The one definition of a space file: TypeScript types and search-spaces/space.schema.json are
// both derived from it.

const name = nameSchema;

const whenValue = z.union([z.string(), z.number(), z.boolean()]);

/** `when: { param: value }` or `when: { param: [v1, v2] }`: active only when every listed param has one of the values. */
export const whenSchema = z.record(z.string(), z.union([whenValue, z.array(whenValue).min(1)]));

export const floatParamSchema = z.strictObject({
  type: z.literal('float'),
  low: z.number(),
  high: z.number(),
  log: z.boolean().optional(),
  step: z.number().positive().optional(),
  when: whenSchema.optional(),
  default: z.number().optional(),
});

export const intParamSchema = z.strictObject({
  type: z.literal('int'),
  low: z.number().int(),
  high: z.number().int(),
  log: z.boolean().optional(),
  step: z.number().int().positive().optional(),
  when: whenSchema.optional(),
  default: z.number().int().optional(),
});

export const categoricalParamSchema = z.strictObject({
  type: z.literal('categorical'),
  choices: z.array(whenValue),
  when: whenSchema.optional(),
  default: whenValue.optional(),
});

export const paramSchema = z.discriminatedUnion('type', [floatParamSchema, intParamSchema, categoricalParamSchema]);

export const directionSchema = z.enum(['minimize', 'maximize']);

export const objectiveSchema = z.strictObject({
  name,
  direction: directionSchema,
});

/** A constraint on a reported metric, e.g. `latency_ms <= 8`. */
export const constraintSchema = z.string().regex(/^\s*[A-Za-z_][A-Za-z0-9_.\-]*\s*(<=|>=|<|>)\s*-?[0-9.]+(e-?[0-9]+)?\s*$/i, 'a constraint like "latency_ms <= 8"');

export const budgetSchema = z.strictObject({
  name: name.default('epochs'),
  min: z.number().positive(),
  max: z.number().positive(),
});

/**
 * A sampler or scheduler block as stored and passed around: its kind and the options the file
 * set. The space file checks each kind's options with its own schema (./strategies).
 */
export const strategySchema = z.looseObject({ kind: z.string().min(1) });

export const workloadSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('benchmark'),
    function: z.string().min(1),
    noise: z.number().min(0).optional(),
    /** Seconds each step of a simulated curve sleeps (real time); 0 by default. */
    step_seconds: z.number().min(0).optional(),
  }),
  z.strictObject({
    kind: z.literal('simulator'),
    curve: z.string().optional(),
    noise: z.number().min(0).optional(),
    step_seconds: z.number().min(0).optional(),
  }),
  z.strictObject({
    kind: z.literal('module'),
    path: z.string().min(1),
    export: z.string().optional(),
  }),
  z.strictObject({
    kind: z.literal('command'),
    argv: z.array(z.string()).min(1),
    cwd: z.string().optional(),
    env: z.record(z.string(), z.string()).optional(),
    grace_seconds: z.number().positive().optional(),
  }),
  // The segmentation workload validates the rest of its block itself (libs/seg parseSegSpec).
  z.looseObject({
    kind: z.literal('segmentation'),
    /** What the budget buys: full-size epochs, or early epochs down-scaled (resolution as a fidelity). */
    fidelity: z.enum(['epochs', 'epochs_resolution']).optional(),
    /** epochs_resolution: the scheduler's reduction factor (default 3). */
    reduction_factor: z.number().gt(1).optional(),
    /** epochs_resolution: halvings below full size (default 2). */
    resolution_levels: z.number().int().min(1).max(4).optional(),
    /** epochs_resolution: smallest side in pixels (default 8). */
    min_resolution: z.number().int().positive().optional(),
  }),
]);

export const spaceFileSchema = z.strictObject({
  $schema: z.string().optional(),
  name,
  description: z.string().optional(),
  objectives: z.array(objectiveSchema).min(1, 'at least one objective'),
  constraints: z.array(constraintSchema).optional(),
  params: z.record(z.string(), paramSchema),
  budget: budgetSchema.optional(),
  sampler: samplerSpecSchema.optional(),
  scheduler: schedulerSpecSchema.optional(),
  workload: workloadSchema,
  /** Defaults for the run; CLI flags override them. */
  trials: z.number().int().positive().optional(),
  timeout: z.string().optional(),
  workers: z.number().int().positive().optional(),
  seed: z.number().int().min(0).optional(),
  /** Configurations tried first, in order (Optuna's enqueue_trial). */
  enqueue: z.array(z.record(z.string(), whenValue)).optional(),
});

export type FloatParam = z.infer<typeof floatParamSchema>;
export type IntParam = z.infer<typeof intParamSchema>;
export type CategoricalParam = z.infer<typeof categoricalParamSchema>;
export type ParamSpec = z.infer<typeof paramSchema>;
export type Direction = z.infer<typeof directionSchema>;
export type Objective = z.infer<typeof objectiveSchema>;
export type Budget = z.infer<typeof budgetSchema>;
export type StrategySpec = z.infer<typeof strategySchema>;
export type WorkloadSpec = z.infer<typeof workloadSchema>;
/** A parsed space file. Its sampler and scheduler blocks are kept as written (the registries fill in the defaults when they build). */
export type SpaceFile = Omit<z.infer<typeof spaceFileSchema>, 'sampler' | 'scheduler'> & { sampler?: StrategySpec; scheduler?: StrategySpec };
export type ParamValue = string | number | boolean;
export type Params = Record<string, ParamValue>;
export type When = z.infer<typeof whenSchema>;

/** The published JSON Schema, for editor completion in space files. */
export function spaceJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(spaceFileSchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  return {
    ...schema,
    $id: 'https://segtune.dev/space.schema.json',
    title: 'segtune search space',
  };
}
