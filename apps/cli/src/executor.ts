// The executor a CLI command runs trials on: @segtune/executor's thread pool (or one process
// per GPU), loading the CLI's bundled workload resolver in each worker.
import type { Executor } from '@segtune/core';
import { resolverModulePath } from './commands/search';

export interface CliExecutorOptions {
  kind?: 'inline' | 'pool' | 'gpu' | 'auto';
  workers: number;
  gpus?: string;
  trialsPerGpu?: number;
  heapLimitMb?: number;
  trialTimeoutMs?: number;
}

export async function createCliExecutor(options: CliExecutorOptions): Promise<Executor> {
  const { createExecutor } = await import('@segtune/executor');
  return createExecutor({
    kind: options.kind,
    workers: options.workers,
    gpus: options.gpus,
    trialsPerGpu: options.trialsPerGpu,
    heapLimitMb: options.heapLimitMb,
    timeoutMs: options.trialTimeoutMs,
    resolverModule: resolverModulePath(),
  });
}
