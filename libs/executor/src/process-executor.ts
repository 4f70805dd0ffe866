import { fork, type ChildProcess } from 'node:child_process';
import type { Executor, RunOptions, TrialAttrs, TrialOutcome, TrialTask } from '@segtune/core';
import type { Params, WorkloadSpec } from '@segtune/space';
import { describeError, oneLine } from './failure';
import { freeBytes, type GpuInfo } from './gpu-inventory';
import type { ChildMessage, ProcessChildConfig, ParentMessage } from './process-protocol';
import { bundledEntry } from './paths';
import { resolverModuleUrl } from './resolver-module';

export interface ProcessExecutorOptions {
  /**
   * One process per entry, each running one trial at a time: a GPU (the process sees only it,
   * through CUDA_VISIBLE_DEVICES) or null (a process on the CPUs). A GPU listed twice holds two
   * trials at once, each in its own process.
   */
  devices: (GpuInfo | null)[];
  resolverModule: string;
  heapLimitMb?: number;
  timeoutMs?: number;
  abortGraceMs?: number;
  /** Device memory a trial needs, when the workload can tell: enables memory-aware packing on GPUs. */
  estimateMemoryBytes?(spec: WorkloadSpec, params: Params): number | undefined | Promise<number | undefined>;
  /** The bundled process entry; default: this package's dist/process-child.mjs. */
  childFile?: string;
  /** How long a process may take to start; default 60 s. */
  startTimeoutMs?: number;
  /** Added to each process's environment (variables already set in this one win). */
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
  gpu: GpuInfo | null;
  child?: ChildProcess;
  pid?: number;
  ready: boolean;
  /** It said it will exit after its trial (the trial's thread was torn down). */
  recycling: boolean;
  job?: Job;
  bootFailures: number;
  dead: boolean;
  lastError?: string;
  onReady: (() => void)[];
}

const MAX_BOOT_FAILURES = 3;

function mib(bytes: number): string {
  return `${Math.ceil(bytes / 2 ** 20)} MiB`;
}

function name(slot: Slot): string {
  return slot.gpu ? `the process of GPU ${slot.gpu.index}` : "the trial's process";
}

/**
 * Runs each trial in a child process of its own, one trial per process at a time: on a GPU
 * (CUDA_VISIBLE_DEVICES=i, as CUDA reads it once per process), or on the CPUs for workloads
 * that must not share a process with another trial (native TensorFlow: two TensorFlow runtimes
 * in threads of one process crashed whole searches now and then). The parent queues trials and places
 * each on a free process; on GPUs, where the workload estimates its memory, only where the card
 * has room for it (free memory at start minus what its running trials reserved), and otherwise
 * on the least-loaded GPU. A process that dies fails only its own trial and is started again,
 * and so is one whose trial's thread had to be terminated, so that every trial starts in a
 * process that nothing was torn out of.
 */
export class ProcessExecutor implements Executor {
  readonly capacity: number;
  private readonly slots: Slot[];
  private readonly queue: Job[] = [];
  private readonly childFile: string;
  private readonly resolverModule: string;
  private readonly peak = new Map<number, number>();
  /** Some process is on a GPU: memory estimates matter. */
  private readonly onGpus: boolean;
  private nextId = 0;
  private closed = false;

  private constructor(private readonly options: ProcessExecutorOptions) {
    if (!options.devices.length) throw new Error('ProcessExecutor needs at least one process');
    this.capacity = options.devices.length;
    this.resolverModule = resolverModuleUrl(options.resolverModule);
    this.childFile = options.childFile ?? bundledEntry('process-child.mjs');
    this.slots = options.devices.map((gpu) => ({ gpu, ready: false, recycling: false, bootFailures: 0, dead: false, onReady: [] }));
    for (const s of this.slots) if (s.gpu) this.peak.set(s.gpu.index, 0);
    this.onGpus = this.peak.size > 0;
  }

  /** Starts every process and waits until all are ready. */
  static async start(options: ProcessExecutorOptions): Promise<ProcessExecutor> {
    const exec = new ProcessExecutor(options);
    const limit = options.startTimeoutMs ?? 60_000;
    try {
      await Promise.all(
        exec.slots.map((slot) => {
          exec.spawn(slot);
          return new Promise<void>((resolve, reject) => {
            const timer = setTimeout(() => reject(new Error(`${name(slot)} did not start within ${limit} ms`)), limit);
            slot.onReady.push(() => {
              clearTimeout(timer);
              if (slot.dead) reject(new Error(`${name(slot)} failed to start: ${slot.lastError ?? 'unknown error'}`));
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

  /** Resolves once every process that is not given up on is ready (after a restart, say). */
  whenReady(): Promise<void> {
    return Promise.all(this.slots.filter((s) => !s.ready && !s.dead).map((s) => new Promise<void>((r) => s.onReady.push(r)))).then(() => undefined);
  }

  /** Process ids of the live processes, in slot order. */
  get pids(): number[] {
    return this.slots.filter((s) => s.child && s.pid !== undefined).map((s) => s.pid!);
  }

  /** The most trials each GPU ran at once, by GPU index (no entry for CPU processes). */
  peakRunning(): Record<number, number> {
    return Object.fromEntries(this.peak);
  }

  async run(task: TrialTask, options: RunOptions): Promise<TrialOutcome> {
    const attrs: TrialAttrs = { gpu: null };
    if (task.backend) attrs.backend = task.backend;
    if (this.closed) return { state: 'failed', reason: 'interrupted', error: 'the executor is closed', attrs };
    if (options.signal?.aborted) return { state: 'failed', reason: 'interrupted', error: 'interrupted before the trial started', attrs };

    let estimate: number | undefined;
    if (this.options.estimateMemoryBytes && this.onGpus) {
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

  /** Trials running on a GPU and the bytes they reserved there. */
  private load(gpu: GpuInfo): { running: number; reserved: number } {
    let running = 0;
    let reserved = 0;
    for (const s of this.slots) {
      if (s.gpu?.index !== gpu.index || !s.job) continue;
      running++;
      reserved += s.job.estimate ?? 0;
    }
    return { running, reserved };
  }

  /** Why no live GPU could ever hold a trial of this size, or undefined when one could (or no process is on a GPU). */
  private tooBig(estimate: number | undefined): string | undefined {
    if (estimate === undefined) return undefined;
    const live = this.slots.filter((s) => !s.dead);
    if (live.some((s) => !s.gpu || freeBytes(s.gpu) >= estimate)) return undefined;
    const gpus = [...new Map(live.map((s) => [s.gpu!.index, s.gpu!])).values()];
    const free = gpus.map((g) => `GPU ${g.index}: ${mib(freeBytes(g))}`).join(', ');
    return `the trial needs about ${mib(estimate)} of GPU memory, more than any GPU has free (${free || 'no GPU left'})`;
  }

  private pick(estimate: number | undefined): Slot | undefined {
    let best: Slot | undefined;
    let bestLoad = { running: 0, room: 0 };
    for (const s of this.slots) {
      if (!s.ready || s.dead || s.job) continue;
      if (!s.gpu) return s;
      const { running, reserved } = this.load(s.gpu);
      const room = freeBytes(s.gpu) - reserved;
      if (estimate !== undefined && room < estimate) continue;
      if (!best || running < bestLoad.running || (running === bestLoad.running && room > bestLoad.room)) {
        best = s;
        bestLoad = { running, room };
      }
    }
    return best;
  }

  private pump(): void {
    if (this.slots.every((s) => s.dead)) {
      const why = [...new Set(this.slots.map((s) => `${s.gpu ? `GPU ${s.gpu.index}` : 'CPU'}: ${s.lastError ?? 'failed'}`))].join('; ');
      for (const job of this.queue.splice(0)) job.settle({ state: 'failed', reason: 'crash', error: oneLine(`no trial process is left (${why})`), attrs: { gpu: null } });
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
      slot.job = job;
      if (slot.gpu) this.peak.set(slot.gpu.index, Math.max(this.peak.get(slot.gpu.index) ?? 0, this.load(slot.gpu).running));
      this.send(slot, { t: 'run', id: job.id, task: job.task });
    }
  }

  private finish(slot: Slot, id: number, outcome: TrialOutcome): void {
    const job = slot.job;
    if (!job || job.id !== id) return;
    slot.job = undefined;
    const attrs: TrialAttrs = { ...outcome.attrs, gpu: slot.gpu?.index ?? null };
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
    const config: ProcessChildConfig = {
      gpu: slot.gpu?.index ?? null,
      resolverModule: this.resolverModule,
      heapLimitMb: this.options.heapLimitMb,
      timeoutMs: this.options.timeoutMs,
      abortGraceMs: this.options.abortGraceMs,
    };
    const env: NodeJS.ProcessEnv = { ...this.options.env, ...process.env };
    if (slot.gpu) env.CUDA_VISIBLE_DEVICES = String(slot.gpu.index);
    const child = fork(this.childFile, [], {
      env,
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
    const gpu = slot.gpu?.index ?? null;
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
      case 'recycle':
        // The process is about to exit on its own (its trial's thread was torn down): no new
        // trial goes to it; onExit starts its successor.
        slot.ready = false;
        slot.recycling = true;
        return;
      case 'start': {
        try {
          if (slot.job?.id === m.id) slot.job.options.onStart?.({ ...m.attrs, gpu });
        } catch {
          // An observer cannot fail a trial.
        }
        return;
      }
      case 'attrs': {
        try {
          if (slot.job?.id === m.id) slot.job.options.onAttrs?.(m.attrs);
        } catch {
          // An observer cannot fail a trial.
        }
        return;
      }
      case 'report': {
        const job = slot.job;
        if (!job || job.id !== m.id) return;
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
    const wasReady = slot.ready || slot.recycling;
    slot.child = undefined;
    slot.ready = false;
    slot.recycling = false;
    const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
    if (slot.job) this.finish(slot, slot.job.id, { state: 'failed', reason: 'crash', error: `${name(slot)} (pid ${child.pid}) ${how} during the trial`, attrs: {} });
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
