export { InlineExecutor, type InlineExecutorOptions } from './inline-executor';
export { PoolExecutor, type PoolExecutorOptions } from './pool-executor';
export { ProcessExecutor, type ProcessExecutorOptions } from './process-executor';
export { detectGpus, parseGpuFlag, parseNvidiaSmi, parseFakeGpus, freeBytes, NVIDIA_SMI_ARGS, type GpuInfo } from './gpu-inventory';
export {
  commandWorkload,
  validateCommand,
  substituteArgv,
  findExecutable,
  placeholdersOf,
  COMMAND_PLACEHOLDERS,
  type CommandSpec,
} from './command-workload';
export { moduleWorkload, type ModuleSpec } from './module-workload';
export { createExecutor, validateWorkload, validateExecutorOptions, type CreateExecutorOptions, type ExecutorKind } from './create-executor';
export { loadResolverModule, WorkloadCache, type ResolverModule } from './resolver-module';
export { TrialAbort, TrialFailure, isOomMessage, classifyFailure, type AbortReason } from './failure';
export { runTrial, type TrialChannel } from './trial-runner';
export { parseResultLine, parsePythonJson } from './result-line';
export { executorDistDir } from './paths';
