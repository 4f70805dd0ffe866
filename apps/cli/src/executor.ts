// The executor a CLI command runs trials on: @segtune/executor's thread pool (or one process
// per GPU), loading the CLI's bundled workload resolver in each worker.
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UserError, type Executor } from '@segtune/core';
import type { GpuInfo } from '@segtune/executor';
import type { WorkloadSpec } from '@segtune/space';
// The light entry: the main process need not load tfjs to share out the cores.
import { nativeBackendEnv } from '@segtune/seg/native-env';

/** The CLI's bundled workload resolver, loaded by executor threads and GPU processes. */
export function resolverModulePath(): string {
  // Works from the TypeScript sources (apps/cli/src) and from the bundle (apps/cli/dist).
  const here = dirname(fileURLToPath(import.meta.url));
  const root = here.endsWith('dist') ? resolve(here, '..') : here.includes('/src') ? here.slice(0, here.lastIndexOf('/src')) : resolve(here, '..');
  return resolve(root, 'dist', 'workloads.mjs');
}

export interface CliExecutorOptions {
  kind?: 'inline' | 'pool' | 'process' | 'gpu' | 'auto';
  workers: number;
  gpus?: string;
  trialsPerGpu?: number;
  heapLimitMb?: number;
  trialTimeoutMs?: number;
  /** The study's workload and `--backend`, when known before the executor starts (see createExecutor). */
  workload?: { spec: WorkloadSpec; backend?: string };
  /** The GPUs found, when the caller has already looked (default: createExecutor looks). */
  inventory?: GpuInfo[];
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
    workload: options.workload,
    inventory: options.inventory,
    // Native TensorFlow's share of the cores or GPU for each trial (a no-op for other backends).
    trialEnv: (share) => nativeBackendEnv({ ...share, verbose: process.argv.includes('--verbose') }),
  });
}

/**
 * Checks the space file's workload before any trial starts (a module that does not exist or
 * exports no function, a command not on PATH or with an unknown placeholder, a benchmark whose
 * params or objectives do not fit the function): a UserError.
 */
export async function validateCliWorkload(spec: Parameters<typeof import('@segtune/executor').validateWorkload>[1], spaceDir: string, paramNames: readonly string[], objectiveNames?: readonly string[]): Promise<void> {
  const { validateWorkload } = await import('@segtune/executor');
  await validateWorkload(resolverModulePath(), spec, spaceDir, paramNames);
  if (spec.kind === 'benchmark' && objectiveNames) {
    const { benchmarkSpaceProblems } = await import('@segtune/benchmarks');
    const problems = benchmarkSpaceProblems({ objectives: objectiveNames.map((name) => ({ name })), params: Object.fromEntries(paramNames.map((n) => [n, true])), workload: spec });
    if (problems.length) throw new UserError(`workload.function: ${problems[0]}`);
  }
}

/** A forced `--backend` that is unknown or not set up: one line, exit 2, before anything is written. */
export async function checkBackendFlag(backend: string | undefined): Promise<void> {
  if (backend === undefined || backend === 'auto' || backend === 'wasm' || backend === 'cpu') return;
  const { assertBackendAvailable } = await import('@segtune/seg');
  assertBackendAvailable(backend);
}
