export * from './schema';
export { Space, encodeValue, decodeValue, valueProblem, type ParamDef } from './space';
export { parseSpace, loadSpaceFile, SpaceError, type LoadedSpace, type SourceLocation } from './parse';
export { NAME_PATTERN, NAME_RULE, NAME_MAX_LENGTH, nameSchema, nameProblem } from './names';
export { didYouMean, editDistance } from './did-you-mean';
export {
  SAMPLER_OPTIONS,
  SCHEDULER_OPTIONS,
  SAMPLER_DESCRIPTIONS,
  SCHEDULER_DESCRIPTIONS,
  samplerSchemas,
  schedulerSchemas,
  samplerSpecSchema,
  schedulerSpecSchema,
  parseSamplerSpec,
  parseSchedulerSpec,
  strategyProblem,
  budgetRule,
  bracketsRule,
  type StrategyBudget,
  type StrategyRole,
  type StrategyProblem,
  type StrategyResult,
  type SamplerKind,
  type SchedulerKind,
  type SamplerSpec,
  type SchedulerSpec,
} from './strategies';
