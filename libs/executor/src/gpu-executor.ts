import { fork, type ChildProcess } from 'node:child_process';
import type { Executor, RunOptions, TrialAttrs, TrialOutcome, TrialTask } from '@segtune/core';
import type { Params, WorkloadSpec } from '@segtune/space';
import { describeError, oneLine } from './failure';
import { freeBytes, type GpuInfo } from './gpu-inventory';
import type { ChildMessage, GpuChildConfig, ParentMessage } from './gpu-protocol';
import { bundledEntry } from './paths';
import { resolverModuleUrl } from './resolver-module';

export interface GpuExecutorOptions {
  /** The GPUs to use (from `parseGpuFlag`); one process each. */
  gpus: GpuInfo[];
  /** Trials at once on each GPU (threads of its process); default 1. */
  trialsPerGpu?: number;
  resolverModule: string;
  heapLimitMb?: number;
  timeoutMs?: number;
  abortGraceMs?: number;
  /** Device memory a trial needs, when the workload can tell: enables memory-aware packing. */
  estimateMemoryBytes?(spec: WorkloadSpec, params: Params): number | undefined | Promise<number | undefined>;
  /** The bundled GPU-process entry; default: this package's dist/gpu-child.mjs. */
  childFile?: string;
  /** How long a GPU process may take to start; default 60 s. */
  startTimeoutMs?: number;
  /** Added to each GPU process's environment (variables already set in this one win). */
  env?: Record<string, string>;
}

interface Job {
  id: number;
  task: TrialTask;
  options: RunOptions;
  estimate?: number;
  slot?: Slot;
  settle(outcome: TrialOutcome): void;
}

interface Slot {
  gpu: GpuInfo;
  child?: ChildProcess;
  pid?: number;
  ready: boolean;
  running: Map<number, Job>;
  /** Bytes its running trials are expected to use. */
  reserved: number;
  peak: number;
  bootFailures: number;
  dead: boolean;
  lastError?: string;
  onReady: (() => void)[];
}

const MAX_BOOT_FAILURES = 3;

function mib(bytes: number): string {
  return `${Math.ceil(bytes / 2 ** 20)} MiB`;
}

/**
 * One child process per GPU (CUDA_VISIBLE_DEVICES=i), each with a thread pool of
 * `trialsPerGpu` workers. The parent queues trials and places each on a GPU with a free slot
 * and, where the workload estimates its memory, with room for it (free memory at start minus
 * what its running trials reserved); otherwise on the least-loaded GPU. A GPU process that
 * dies fails only its own running trials and is started again.
 */
export class GpuExecutor implements Executor {
  readonly capacity: number;
  private readonly trialsPerGpu: number;
  private readonly slots: Slot[];
  private readonly queue: Job[] = [];
  private readonly childFile: string;
  private readonly resolverModule: string;
  private nextId = 0;
  private closed = false;

  private constructor(private readonly options: GpuExecutorOptions) {
    if (!options.gpus.length) throw new Error('GpuExecutor needs at least one GPU');
    this.trialsPerGpu = options.trialsPerGpu ?? 1;
    this.capacity = options.gpus.length * this.trialsPerGpu;
    this.resolverModule = resolverModuleUrl(options.resolverModule);
    this.childFile = options.childFile ?? bundledEntry('gpu-child.mjs');
    this.slots = options.gpus.map((gpu) => ({ gpu, ready: false, running: new Map(), reserved: 0, peak: 0, bootFailures: 0, dead: false, onReady: [] }));
  }

  /** Starts one process per GPU and waits until all are ready. */
  static async start(options: GpuExecutorOptions): Promise<GpuExecutor> {
    const exec = new GpuExecutor(options);
    const limit = options.startTimeoutMs ?? 60_000;
    try {
      await Promise.all(
        exec.slots.map((slot) => {
          exec.spawn(slot);
          return new Promise<void>((resolve, reject) => {
            const timer = setTimeout(() => reject(new Error(`the process for GPU ${slot.gpu.index} did not start within ${limit} ms`)), limit);
            slot.onReady.push(() => {
              clearTimeout(timer);
              if (slot.dead) reject(new Error(`the process for GPU ${slot.gpu.index} failed to start: ${slot.lastError ?? 'unknown error'}`));
              else resolve();
            });
          });
        }),
      );
    } catch (e) {
      await exec.close();
      throw e;
    }
    return exec;
  }

  /** Resolves once every GPU process that is not given up on is ready (after a restart, say). */
  whenReady(): Promise<void> {
    return Promise.all(this.slots.filter((s) => !s.ready && !s.dead).map((s) => new Promise<void>((r) => s.onReady.push(r)))).then(() => undefined);
  }

  /** Process ids of the live GPU processes. */
  get pids(): number[] {
    return this.slots.filter((s) => s.child && s.pid !== undefined).map((s) => s.pid!);
  }

  /** The most trials each GPU ran at once, by GPU index. */
  peakRunning(): Record<number, number> {
    return Object.fromEntries(this.slots.map((s) => [s.gpu.index, s.peak]));
  }

  async run(task: TrialTask, options: RunOptions): Promise<TrialOutcome> {
    const attrs: TrialAttrs = { gpu: null };
    if (task.backend) attrs.backend = task.backend;
    if (this.closed) return { state: 'failed', reason: 'interrupted', error: 'the executor is closed', attrs };
    if (options.signal?.aborted) return { state: 'failed', reason: 'interrupted', error: 'interrupted before the trial started', attrs };

    let estimate: number | undefined;
    if (this.options.estimateMemoryBytes) {
      try {
        const e = await this.options.estimateMemoryBytes(task.workload, task.params);
        if (typeof e === 'number' && Number.isFinite(e) && e > 0) estimate = e;
      } catch {
        // No estimate: least-loaded placement.
      }
    }
    const tooBig = this.tooBig(estimate);
    if (tooBig) return { state: 'failed', reason: 'oom', error: tooBig, attrs: { ...attrs, memory_estimate_bytes: estimate } };

    return new Promise<TrialOutcome>((resolve) => {
      const job: Job = {
        id: this.nextId++,
        task,
        options,
        estimate,
        settle: (outcome) => {
          options.signal?.removeEventListener('abort', onAbort);
          resolve(outcome);
        },
      };
      const onAbort = () => {
        const queued = this.queue.indexOf(job);
        if (queued >= 0) {
          this.queue.splice(queued, 1);
          job.settle({ state: 'failed', reason: 'interrupted', error: 'interrupted before the trial started', attrs });
        } else if (job.slot) {
          this.send(job.slot, { t: 'abort', id: job.id });
        }
      };
      options.signal?.addEventListener('abort', onAbort, { once: true });
      this.queue.push(job);
      this.pump();
    });
  }

  /** Why no live GPU could ever hold a trial of this size, or undefined when one could. */
  private tooBig(estimate: number | undefined): string | undefined {
    if (estimate === undefined) return undefined;
    const live = this.slots.filter((s) => !s.dead);
    if (live.some((s) => freeBytes(s.gpu) >= estimate)) return undefined;
    const free = live.map((s) => `GPU ${s.gpu.index}: ${mib(freeBytes(s.gpu))}`).join(', ');
    return `the trial needs about ${mib(estimate)} of GPU memory, more than any GPU has free (${free || 'no GPU left'})`;
  }

  private pick(estimate: number | undefined): Slot | undefined {
    let best: Slot | undefined;
    for (const s of this.slots) {
      if (!s.ready || s.dead || s.running.size >= this.trialsPerGpu) continue;
      const room = freeBytes(s.gpu) - s.reserved;
      if (estimate !== undefined && room < estimate) continue;
      if (!best || s.running.size < best.running.size || (s.running.size === best.running.size && room > freeBytes(best.gpu) - best.reserved)) best = s;
    }
    return best;
  }

  private pump(): void {
    if (this.slots.every((s) => s.dead)) {
      const why = this.slots.map((s) => `GPU ${s.gpu.index}: ${s.lastError ?? 'failed'}`).join('; ');
      for (const job of this.queue.splice(0)) job.settle({ state: 'failed', reason: 'crash', error: oneLine(`no GPU process is left (${why})`), attrs: { gpu: null } });
      return;
    }
    for (let i = 0; i < this.queue.length; ) {
      const job = this.queue[i];
      const tooBig = this.tooBig(job.estimate);
      if (tooBig) {
        this.queue.splice(i, 1);
        job.settle({ state: 'failed', reason: 'oom', error: tooBig, attrs: { gpu: null, memory_estimate_bytes: job.estimate } });
        continue;
      }
      const slot = this.pick(job.estimate);
      if (!slot) {
        i++;
        continue;
      }
      this.queue.splice(i, 1);
      job.slot = slot;
      slot.running.set(job.id, job);
      slot.reserved += job.estimate ?? 0;
      slot.peak = Math.max(slot.peak, slot.running.size);
      this.send(slot, { t: 'run', id: job.id, task: job.task });
    }
  }

  private finish(slot: Slot, id: number, outcome: TrialOutcome): void {
    const job = slot.running.get(id);
    if (!job) return;
    slot.running.delete(id);
    slot.reserved -= job.estimate ?? 0;
    const attrs: TrialAttrs = { ...outcome.attrs, gpu: slot.gpu.index };
    if (job.estimate !== undefined) attrs.memory_estimate_bytes = job.estimate;
    job.settle({ ...outcome, attrs } as TrialOutcome);
    this.pump();
  }

  private send(slot: Slot, m: ParentMessage): void {
    const child = slot.child;
    if (!child?.connected) return;
    try {
      child.send(m, (e) => {
        if (e) slot.lastError = describeError(e);
      });
    } catch (e) {
      slot.lastError = describeError(e);
    }
  }

  private spawn(slot: Slot): void {
    const config: GpuChildConfig = {
      gpu: slot.gpu.index,
      trialsPerGpu: this.trialsPerGpu,
      resolverModule: this.resolverModule,
      heapLimitMb: this.options.heapLimitMb,
      timeoutMs: this.options.timeoutMs,
      abortGraceMs: this.options.abortGraceMs,
    };
    const child = fork(this.childFile, [], {
      env: { ...this.options.env, ...process.env, CUDA_VISIBLE_DEVICES: String(slot.gpu.index) },
      execArgv: [],
      serialization: 'advanced',
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      // Its own process group: Ctrl-C in a terminal reaches the parent only, which aborts the
      // trials and closes this process in order (it also quits when the parent disappears).
      detached: true,
    });
    slot.child = child;
    slot.pid = child.pid;
    child.on('message', (m: ChildMessage) => this.onMessage(slot, child, m));
    child.on('error', (e) => {
      slot.lastError = describeError(e);
    });
    child.on('exit', (code, signal) => this.onExit(slot, child, code, signal));
    this.send(slot, { t: 'init', config });
  }

  private onMessage(slot: Slot, child: ChildProcess, m: ChildMessage): void {
    if (slot.child !== child) return;
    switch (m.t) {
      case 'ready':
        slot.ready = true;
        slot.bootFailures = 0;
        slot.pid = m.pid;
        for (const f of slot.onReady.splice(0)) f();
        this.pump();
        return;
      case 'fatal':
        slot.lastError = m.error;
        return;
      case 'start': {
        const job = slot.running.get(m.id);
        try {
          job?.options.onStart?.({ ...m.attrs, gpu: slot.gpu.index });
        } catch {
          // An observer cannot fail a trial.
        }
        return;
      }
      case 'attrs': {
        try {
          slot.running.get(m.id)?.options.onAttrs?.(m.attrs);
        } catch {
          // An observer cannot fail a trial.
        }
        return;
      }
      case 'report': {
        const job = slot.running.get(m.id);
        if (!job) return;
        job.options.onReport(m.step, m.values).then(
          (decision) => this.send(slot, { t: 'decision', rid: m.rid, decision }),
          (e: unknown) => this.send(slot, { t: 'decision', rid: m.rid, error: describeError(e) }),
        );
        return;
      }
      case 'outcome':
        this.finish(slot, m.id, m.outcome);
        return;
    }
  }

  private onExit(slot: Slot, child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (slot.child !== child) return;
    const wasReady = slot.ready;
    slot.child = undefined;
    slot.ready = false;
    const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
    for (const id of [...slot.running.keys()]) {
      this.finish(slot, id, { state: 'failed', reason: 'crash', error: `the process of GPU ${slot.gpu.index} ${how} during the trial`, attrs: {} });
    }
    if (this.closed) return;
    if (!wasReady) {
      slot.lastError ??= `it ${how}`;
      if (++slot.bootFailures >= MAX_BOOT_FAILURES) {
        slot.dead = true;
        for (const f of slot.onReady.splice(0)) f();
        this.pump();
        return;
      }
    }
    // A short pause, longer after each failed start, so a broken setup does not spin.
    setTimeout(() => !this.closed && this.spawn(slot), 50 * 2 ** slot.bootFailures).unref();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const job of this.queue.splice(0)) job.settle({ state: 'failed', reason: 'interrupted', error: 'the executor closed before the trial started', attrs: { gpu: null } });
    await Promise.all(
      this.slots.map(async (slot) => {
        const child = slot.child;
        if (!child || child.exitCode !== null || child.signalCode !== null) return;
        const exited = new Promise<void>((r) => child.once('exit', () => r()));
        this.send(slot, { t: 'close' });
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(timer);
      }),
    );
  }
}
