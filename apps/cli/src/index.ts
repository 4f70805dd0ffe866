export { buildProgram, main } from './main';
export { runSearch, type SearchOptions } from './commands/search';
export { resolverModulePath } from './executor';
export { runStatus } from './commands/status';
export { resolveWorkload, loadModuleWorkload } from './workloads';
export { parseDuration, formatDuration } from './duration';
export { studyDocument, summaryText } from './study-report';
export { VERSION } from './version';
export { runAsk, type AskOptions } from './commands/ask';
export { runTell, type TellOptions } from './commands/tell';

// The library: define-by-run studies over the same storages, samplers and schedulers as the CLI.
export {
  createStudy,
  loadStudy,
  Study,
  type CreateStudyOptions,
  type LoadStudyOptions,
  type OptimizeOptions,
  type ObjectiveFunction,
  type ObjectiveValue,
  type TellValue,
  type FinishedTrial,
  type Direction,
  type Strategy,
} from './library/study';
export { Trial, type SuggestFloatOptions, type SuggestIntOptions } from './library/trial';
export { DistributionError, type Choice } from './library/distributions';
export { StorageError, UsageError, SpaceError, UserError, Pruned, isPruned, isUserError } from './library/errors';
// For a module workload that keeps the checkpoints population-based training resumes (ctx.checkpointSteps).
export { checkpointDirAt } from '@segtune/core';
export type { Objective, MetricValues, TrialState, TrialAttrs, WorkloadContext } from '@segtune/core';
export type { Budget, Params, ParamValue, ParamDef, StrategySpec } from '@segtune/space';
