// GPU process entry (bundled to dist/gpu-child.mjs). The parent forks one per GPU with
// CUDA_VISIBLE_DEVICES set, since CUDA reads it once per process; this process hosts a thread
// pool of `trialsPerGpu` workers and relays reports and decisions over IPC.
import type { Decision } from '@segtune/core';
import { describeError } from './failure';
import type { ChildMessage, ParentMessage } from './gpu-protocol';
import { PoolExecutor } from './pool-executor';

let executor: PoolExecutor | undefined;
const running = new Map<number, AbortController>();
const waiting = new Map<number, { resolve(d: Decision): void; reject(e: Error): void }>();
let nextRid = 0;
let closing = false;

function send(m: ChildMessage): void {
  if (process.connected) process.send!(m);
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
          workers: m.config.trialsPerGpu,
          heapLimitMb: m.config.heapLimitMb,
          timeoutMs: m.config.timeoutMs,
          abortGraceMs: m.config.abortGraceMs,
          gpu: m.config.gpu,
          // CUDA_VISIBLE_DEVICES leaves this process exactly one device, numbered 0.
          deviceGpu: 0,
          workerPrefix: `gpu${m.config.gpu}/`,
        });
        send({ t: 'ready', pid: process.pid });
      } catch (e) {
        send({ t: 'fatal', error: describeError(e) });
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
          onStart: (attrs) => send({ t: 'start', id, attrs }),
          onAttrs: (attrs) => send({ t: 'attrs', id, attrs }),
          onReport: (step, values) =>
            new Promise<Decision>((resolve, reject) => {
              const rid = nextRid++;
              waiting.set(rid, { resolve, reject });
              send({ t: 'report', id, rid, step, values });
            }),
        })
        .then((outcome) => send({ t: 'outcome', id, outcome }))
        .finally(() => running.delete(id));
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
