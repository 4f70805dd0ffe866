// Trial-process entry (bundled to dist/process-child.mjs). The parent forks one per trial slot:
// on a GPU with CUDA_VISIBLE_DEVICES set (CUDA reads it once per process), or on the CPUs for
// workloads whose native library must not serve two trials in one process. It runs one trial at a
// time on a single worker thread and relays reports and decisions over IPC. When that thread
// had to be terminated (a timeout, an interrupt the trial ignored) or died, the process exits
// after the outcome and the parent starts a fresh one.
import type { Decision } from '@segtune/core';
import { describeError } from './failure';
import type { ChildMessage, ParentMessage } from './process-protocol';
import { PoolExecutor } from './pool-executor';

let executor: PoolExecutor | undefined;
const running = new Map<number, AbortController>();
const waiting = new Map<number, { resolve(d: Decision): void; reject(e: Error): void }>();
let nextRid = 0;
let closing = false;
let threadLost = false;

function send(m: ChildMessage): Promise<void> {
  return new Promise((resolve) => {
    if (!process.connected) return resolve();
    process.send!(m, undefined, {}, () => resolve());
  });
}

async function shutdown(code: number): Promise<never> {
  closing = true;
  for (const c of running.values()) c.abort();
  await executor?.close().catch(() => undefined);
  if (process.connected) process.disconnect();
  process.exit(code);
}

process.on('message', (m: ParentMessage) => {
  switch (m.t) {
    case 'init':
      try {
        executor = new PoolExecutor({
          resolverModule: m.config.resolverModule,
          workers: 1,
          heapLimitMb: m.config.heapLimitMb,
          timeoutMs: m.config.timeoutMs,
          abortGraceMs: m.config.abortGraceMs,
          gpu: m.config.gpu,
          // CUDA_VISIBLE_DEVICES leaves a GPU process exactly one device, numbered 0.
          deviceGpu: m.config.gpu === null ? null : 0,
          workerPrefix: m.config.gpu === null ? '' : `gpu${m.config.gpu}/`,
          onThreadLost: () => {
            threadLost = true;
          },
        });
        void send({ t: 'ready', pid: process.pid });
      } catch (e) {
        void send({ t: 'fatal', error: describeError(e) });
        void shutdown(1);
      }
      return;
    case 'run': {
      if (!executor || closing) return;
      const { id, task } = m;
      const abort = new AbortController();
      running.set(id, abort);
      executor
        .run(task, {
          signal: abort.signal,
          onStart: (attrs) => void send({ t: 'start', id, attrs }),
          onAttrs: (attrs) => void send({ t: 'attrs', id, attrs }),
          onReport: (step, values) =>
            new Promise<Decision>((resolve, reject) => {
              const rid = nextRid++;
              waiting.set(rid, { resolve, reject });
              void send({ t: 'report', id, rid, step, values });
            }),
        })
        .then(async (outcome) => {
          running.delete(id);
          // Tell the parent first, so that it sends this process no further trial.
          if (threadLost) await send({ t: 'recycle' });
          await send({ t: 'outcome', id, outcome });
          if (threadLost) await shutdown(0);
        });
      return;
    }
    case 'decision': {
      const w = waiting.get(m.rid);
      waiting.delete(m.rid);
      if (m.error !== undefined || m.decision === undefined) w?.reject(new Error(m.error ?? 'no decision'));
      else w?.resolve(m.decision);
      return;
    }
    case 'abort':
      running.get(m.id)?.abort();
      return;
    case 'close':
      void shutdown(0);
      return;
  }
});

// The parent decides what an interrupt means (it aborts the trials, then closes this process):
// a SIGINT sent here directly (the parent forks it in its own process group) is ignored.
process.on('SIGINT', () => undefined);

// The parent is gone (killed, crashed): leave no orphaned process behind.
process.on('disconnect', () => {
  if (!closing) void shutdown(0);
});
