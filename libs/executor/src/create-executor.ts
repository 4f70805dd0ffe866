import { availableParallelism } from 'node:os';
import { isUserError, UserError, type Executor } from '@segtune/core';
import type { WorkloadSpec } from '@segtune/space';
import { validateCommand } from './command-workload';
import { describeError, oneLine } from './failure';
import { detectGpus, parseGpuFlag, type GpuInfo } from './gpu-inventory';
import { InlineExecutor } from './inline-executor';
import { moduleWorkload } from './module-workload';
import { bundledEntry } from './paths';
import { PoolExecutor } from './pool-executor';
import { ProcessExecutor } from './process-executor';
import { loadResolverModule } from './resolver-module';
import { RoutingExecutor } from './routing-executor';

export type ExecutorKind = 'inline' | 'pool' | 'process' | 'gpu' | 'auto';

export interface CreateExecutorOptions {
  /**
   * `auto` (default): processes on the selected GPUs; else a worker-thread pool, or a process
   * per trial for workloads whose resolver asks for one (native TensorFlow), or this thread
   * for those it says only await (the built-in benchmark functions). `pool` and
   * `process` force threads or processes on the CPUs, `gpu` processes on GPUs, `inline` this
   * thread.
   */
  kind?: ExecutorKind;
  /** Trials at once on the CPUs (`--workers`): threads or processes; default: the number of cores. Ignored on GPUs. */
  workers?: number;
  /** `--gpus all|none|0,1`; default `all` (every detected GPU, maybe none). */
  gpus?: string;
  /** `--trials-per-gpu`; default 1. */
  trialsPerGpu?: number;
  /** Absolute path or file URL of the workload resolver module. */
  resolverModule: string;
  /** Heap limit of each worker thread, MB. */
  heapLimitMb?: number;
  /** Default per-trial time limit (a task's own `timeoutMs` wins). */
  timeoutMs?: number;
  /** How long an aborted trial may take to stop before its thread is terminated; default 5000 ms. */
  abortGraceMs?: number;
  /** The GPU inventory; default: `detectGpus()` (nvidia-smi, or SEGTUNE_FAKE_GPUS). */
  inventory?: GpuInfo[];
  /**
   * Environment the trials need, given how many run at once (a native backend's share of the
   * cores, say). Set in this process before the pool's threads start (threads share the
   * process's real environment), and passed to each trial process.
   */
  trialEnv?: (share: { trialsAtOnce: number; gpu: boolean }) => Record<string, string>;
  /**
   * The study's workload, when known: with `auto` and no `gpus` given, one that the resolver
   * runs on this thread (a built-in function, which never uses a GPU) leaves the GPUs alone and
   * runs `workers` at once, instead of in the GPU processes at `trialsPerGpu` per GPU.
   */
  workload?: { spec: WorkloadSpec; backend?: string };
}

function applyEnv(env: Record<string, string>): void {
  for (const [k, v] of Object.entries(env)) process.env[k] ??= v;
}

function wholeNumber(value: number | undefined, flag: string, min: number): void {
  if (value === undefined) return;
  if (!Number.isInteger(value) || value < min) throw new UserError(`${flag} must be a whole number of at least ${min}, got ${value}`);
}

/** Checks the options a user controls; UserError (exit 2) before anything starts. */
export function validateExecutorOptions(o: CreateExecutorOptions): void {
  const kinds: ExecutorKind[] = ['inline', 'pool', 'process', 'gpu', 'auto'];
  if (o.kind !== undefined && !kinds.includes(o.kind)) throw new UserError(`--executor must be one of ${kinds.join(', ')}, got "${o.kind}"`);
  wholeNumber(o.workers, '--workers', 1);
  wholeNumber(o.trialsPerGpu, '--trials-per-gpu', 1);
  wholeNumber(o.heapLimitMb, '--heap-limit-mb', 16);
  if (o.timeoutMs !== undefined && !(o.timeoutMs > 0)) throw new UserError(`the trial timeout must be positive, got ${o.timeoutMs} ms`);
}

/**
 * Builds the executor a search runs on: trial processes on GPUs when GPUs are selected (and
 * `kind` is `auto` or `gpu`), else worker threads, or a process per trial where the workload
 * needs one, or the main thread where the workload may run there or `kind` is `inline`. Bad
 * options and a missing or malformed resolver module are UserErrors.
 */
export async function createExecutor(options: CreateExecutorOptions): Promise<Executor> {
  validateExecutorOptions(options);
  const resolver = await loadResolverModule(options.resolverModule);
  const kind = options.kind ?? 'auto';
  const inline = (capacity: number) => new InlineExecutor({ resolve: resolver.resolveWorkload, capacity, timeoutMs: options.timeoutMs, abortGraceMs: options.abortGraceMs });
  if (kind === 'inline') {
    applyEnv(options.trialEnv?.({ trialsAtOnce: options.workers ?? 1, gpu: false }) ?? {});
    return inline(options.workers ?? 1);
  }
  let gpus: GpuInfo[] = [];
  if (kind === 'gpu' || kind === 'auto') {
    const inventory = options.inventory ?? detectGpus();
    gpus = parseGpuFlag(options.gpus, inventory);
    if (kind === 'gpu' && !gpus.length) throw new UserError(`--executor gpu: no GPU selected (--gpus ${options.gpus ?? 'all'} found none)`);
    const w = options.workload;
    if (kind === 'auto' && options.gpus === undefined && gpus.length && w && resolver.isolation && (await resolver.isolation(w.spec, { backend: w.backend })) === 'main') gpus = [];
  }
  const common = { resolverModule: options.resolverModule, heapLimitMb: options.heapLimitMb, timeoutMs: options.timeoutMs, abortGraceMs: options.abortGraceMs };
  const childFile = bundledEntry('process-child.mjs');
  if (gpus.length) {
    const trialsPerGpu = options.trialsPerGpu ?? 1;
    return ProcessExecutor.start({
      ...common,
      // One process per trial slot: a GPU with two slots runs two processes.
      devices: gpus.flatMap((g) => Array<GpuInfo>(trialsPerGpu).fill(g)),
      env: options.trialEnv?.({ trialsAtOnce: gpus.length * trialsPerGpu, gpu: true }),
      estimateMemoryBytes: resolver.estimateMemoryBytes ? (spec, params) => resolver.estimateMemoryBytes!(spec, params) : undefined,
      childFile,
    });
  }
  const workers = options.workers ?? availableParallelism();
  const env = options.trialEnv?.({ trialsAtOnce: workers, gpu: false }) ?? {};
  applyEnv(env);
  const workerFile = bundledEntry('worker.mjs');
  const processes = () => ProcessExecutor.start({ ...common, devices: Array<null>(workers).fill(null), env, childFile });
  const threads = () => new PoolExecutor({ ...common, workers, workerFile });
  if (kind === 'process') return processes();
  if (kind === 'pool' || !resolver.isolation) return threads();
  const isolation = resolver.isolation.bind(resolver);
  return new RoutingExecutor({ capacity: workers, isolation: (task) => isolation(task.workload, { backend: task.backend }), main: () => inline(workers), threads, processes });
}

/**
 * Checks a space file's workload before any trial starts: a command exists (and its
 * placeholders name params, when `paramNames` is given), a module exists and exports the
 * function, and the resolver can build the workload. UserError otherwise.
 */
export async function validateWorkload(resolverModule: string, spec: WorkloadSpec, spaceDir: string, paramNames?: readonly string[]): Promise<void> {
  if (spec.kind === 'command') validateCommand(spec, spaceDir, paramNames);
  if (spec.kind === 'module') await moduleWorkload(spec, { spaceDir });
  const resolver = await loadResolverModule(resolverModule);
  let workload: unknown;
  try {
    workload = await resolver.resolveWorkload(spec, { spaceDir });
  } catch (e) {
    if (isUserError(e)) throw e;
    throw new UserError(oneLine(`workload (${spec.kind}): ${describeError(e)}`));
  }
  if (typeof workload !== 'function') throw new UserError(`workload (${spec.kind}): the resolver returned ${typeof workload}, not a function`);
}
