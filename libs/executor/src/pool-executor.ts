import { availableParallelism } from 'node:os';
import { pathToFileURL } from 'node:url';
import { MessageChannel } from 'node:worker_threads';
import { Piscina } from 'piscina';
import type { DeviceInfo, Executor, RunOptions, TrialAttrs, TrialOutcome, TrialTask } from '@segtune/core';
import { describeError, formatMs, oneLine, type AbortReason } from './failure';
import { abortGrace } from './abort-grace';
import { bundledEntry } from './paths';
import { resolverModuleUrl } from './resolver-module';
import { killProcessGroup } from './process-group';
import type { PoolMessage, WorkerMessage, WorkerPayload } from './worker-protocol';

export interface PoolExecutorOptions {
  /** Absolute path or file URL of the workload resolver module (see ResolverModule). */
  resolverModule: string;
  /** Worker threads, i.e. trials at once; default: the number of cores. */
  workers?: number;
  /** Old-generation heap limit of each worker thread, in MB: a trial that exceeds it fails alone (`oom`). */
  heapLimitMb?: number;
  /** Per-trial time limit when the task names none. */
  timeoutMs?: number;
  /**
   * After an interrupt, how long a trial may take to honour `ctx.signal` before its thread is
   * terminated. Default 5000 ms. After a timeout it is at most TIMEOUT_GRACE_MS (a command gets
   * its own `grace_seconds` between SIGTERM and SIGKILL instead), so that a trial never
   * outlives `--trial-timeout` by more than a second.
   */
  abortGraceMs?: number;
  /** Physical GPU index recorded in attrs (a GPU process's pool), or null. */
  gpu?: number | null;
  /** What `ctx.device.gpu` says: the index as this process sees it. */
  deviceGpu?: number | null;
  /** Prefix of worker ids, e.g. `gpu0/`. */
  workerPrefix?: string;
  /** The bundled worker entry; default: this package's dist/worker.mjs. */
  workerFile?: string;
  /**
   * Called when a trial's thread was terminated or died (piscina starts another). A trial
   * process uses it to exit and be replaced rather than load a native library a second time
   * beside what the torn-down thread left of it.
   */
  onThreadLost?: () => void;
}

/**
 * Runs each trial in a piscina worker thread. Reports stream over a MessagePort per trial; a
 * timeout or an interrupt first aborts `ctx.signal`, then terminates the thread; a thread that
 * ran out of heap, crashed or called `process.exit` is replaced by piscina and its trial fails.
 */
export class PoolExecutor implements Executor {
  readonly capacity: number;
  private readonly pool: Piscina;
  private readonly resolverModule: string;
  private readonly options: PoolExecutorOptions;
  /** Process groups of commands that trials started, killed if their trial's thread dies. */
  private readonly commandPids = new Set<number>();
  private closed = false;
  /** Errors piscina reported outside any task (a stray exception after a trial ended). */
  readonly strayErrors: string[] = [];

  constructor(options: PoolExecutorOptions) {
    this.options = options;
    this.capacity = options.workers ?? availableParallelism();
    this.resolverModule = resolverModuleUrl(options.resolverModule);
    const file = options.workerFile ?? bundledEntry('worker.mjs');
    this.pool = new Piscina({
      filename: pathToFileURL(file).href,
      minThreads: this.capacity,
      maxThreads: this.capacity,
      concurrentTasksPerWorker: 1,
      idleTimeout: 2 ** 31 - 1,
      // Between trials a thread's event loop stays free (no Atomics.wait), so that the abort and
      // decision messages of its port are always handled.
      atomics: 'disabled',
      // The parent's loader flags (tsx, vitest) are neither needed nor wanted in the workers.
      execArgv: [],
      resourceLimits: options.heapLimitMb ? { maxOldGenerationSizeMb: options.heapLimitMb } : undefined,
    });
    this.pool.on('error', (e: Error) => {
      if (this.strayErrors.length < 100) this.strayErrors.push(describeError(e));
    });
  }

  /** Live worker threads (0 after close). */
  get threadCount(): number {
    return this.pool.threads.length;
  }

  async run(task: TrialTask, options: RunOptions): Promise<TrialOutcome> {
    const attrs: TrialAttrs = { gpu: this.options.gpu ?? null };
    if (task.backend) attrs.backend = task.backend;
    if (this.closed) return { state: 'failed', reason: 'interrupted', error: 'the executor is closed', attrs };
    if (options.signal?.aborted) return { state: 'failed', reason: 'interrupted', error: 'interrupted before the trial started', attrs };

    const timeoutMs = task.timeoutMs ?? this.options.timeoutMs;
    const grace = this.options.abortGraceMs ?? 5_000;
    const { port1, port2 } = new MessageChannel();
    const hard = new AbortController();
    let aborted: { reason: AbortReason; message: string } | undefined;
    let started = false;
    let timeout: NodeJS.Timeout | undefined;
    let graceTimer: NodeJS.Timeout | undefined;
    let commandPid: number | undefined;

    const post = (m: PoolMessage) => {
      try {
        port1.postMessage(m);
      } catch {
        // The port closed with the trial: nothing left to tell.
      }
    };
    const softAbort = (reason: AbortReason, message: string) => {
      if (aborted) return;
      aborted = { reason, message };
      if (!started) {
        hard.abort(); // still queued: piscina just drops it
        return;
      }
      post({ t: 'abort', reason, message });
      graceTimer = setTimeout(() => hard.abort(), abortGrace(reason, task, grace));
    };
    const onInterrupt = () => softAbort('interrupted', 'interrupted');
    options.signal?.addEventListener('abort', onInterrupt, { once: true });

    port1.on('message', (m: WorkerMessage) => {
      if (m.t === 'start') {
        started = true;
        Object.assign(attrs, m.attrs);
        if (timeoutMs !== undefined && timeoutMs > 0) {
          timeout = setTimeout(() => softAbort('timeout', `trial timed out after ${formatMs(timeoutMs)}`), timeoutMs);
        }
        if (aborted) {
          post({ t: 'abort', reason: aborted.reason, message: aborted.message });
          graceTimer ??= setTimeout(() => hard.abort(), abortGrace(aborted.reason, task, grace));
        }
        try {
          options.onStart?.({ ...attrs });
        } catch {
          // An observer cannot fail a trial.
        }
      } else if (m.t === 'attrs') {
        Object.assign(attrs, m.attrs);
        try {
          options.onAttrs?.({ ...m.attrs });
        } catch {
          // An observer cannot fail a trial.
        }
        if (typeof m.attrs.command_pid === 'number') {
          commandPid = m.attrs.command_pid;
          this.commandPids.add(commandPid);
        }
      } else if (m.t === 'report') {
        options.onReport(m.step, m.values).then(
          (decision) => post({ t: 'decision', id: m.id, decision }),
          (e: unknown) => post({ t: 'decision', id: m.id, error: describeError(e) }),
        );
      }
    });

    const payload: WorkerPayload = {
      task,
      resolverModule: this.resolverModule,
      port: port2,
      device: this.device(task),
      gpu: this.options.gpu ?? null,
      workerPrefix: this.options.workerPrefix ?? '',
    };
    try {
      const outcome = (await this.pool.run(payload, { transferList: [port2] as never, signal: hard.signal })) as TrialOutcome;
      return { ...outcome, attrs: { ...attrs, ...outcome.attrs } } as TrialOutcome;
    } catch (e) {
      // Let the messages the thread sent before it died (start, attrs) arrive first; on a loaded
      // machine that can take longer than one turn of the event loop.
      await new Promise((r) => setImmediate(r));
      for (let i = 0; i < 50 && !started && !(hard.signal.aborted && aborted); i++) await new Promise((r) => setTimeout(r, 10));
      if (commandPid !== undefined) killProcessGroup(commandPid, 'SIGKILL');
      // A trial dropped from the queue never had a thread.
      if (started || !(hard.signal.aborted && aborted)) this.options.onThreadLost?.();
      if (hard.signal.aborted && aborted) {
        const note = started ? ' (the workload ignored the abort; its thread was terminated)' : '';
        return { state: 'failed', reason: aborted.reason, error: `${aborted.message}${note}`, attrs };
      }
      return { state: 'failed', ...this.threadDeath(e), attrs };
    } finally {
      clearTimeout(timeout);
      clearTimeout(graceTimer);
      options.signal?.removeEventListener('abort', onInterrupt);
      port1.close();
      if (commandPid !== undefined) this.commandPids.delete(commandPid);
    }
  }

  private device(task: TrialTask): DeviceInfo {
    const d: DeviceInfo = { gpu: this.options.deviceGpu ?? null };
    if (task.backend) d.backend = task.backend;
    return d;
  }

  private threadDeath(e: unknown): { reason: string; error: string } {
    const err = e as { code?: string; message?: string };
    if (err?.code === 'ERR_WORKER_OUT_OF_MEMORY') {
      const limit = this.options.heapLimitMb ? ` of ${this.options.heapLimitMb} MB` : '';
      return { reason: 'oom', error: `the trial's worker thread ran out of memory (heap limit${limit})` };
    }
    const exited = /worker exited with code: (-?\d+)/.exec(err?.message ?? '');
    if (exited) return { reason: 'crash', error: `the trial's worker thread exited with code ${exited[1]} (process.exit or a crash)` };
    if (err?.code === 'ERR_WORKER_INIT_FAILED') return { reason: 'crash', error: oneLine(`the worker thread failed to start: ${describeError(e)}`) };
    return { reason: 'crash', error: oneLine(`the trial's worker thread failed: ${describeError(e)}`) };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const pid of this.commandPids) killProcessGroup(pid, 'SIGKILL');
    this.commandPids.clear();
    await this.pool.destroy();
  }
}
