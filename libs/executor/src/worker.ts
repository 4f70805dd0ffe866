// Worker-thread entry (bundled to dist/worker.mjs): runs one trial per task that piscina hands
// it, talking to the pool over the trial's own MessagePort.
import { threadId } from 'node:worker_threads';
import type { Decision, MetricValues, TrialAttrs, TrialOutcome } from '@segtune/core';
import { describeError, oneLine, TrialAbort } from './failure';
import { loadResolverModule, WorkloadCache } from './resolver-module';
import { runTrial } from './trial-runner';
import type { PoolMessage, WorkerMessage, WorkerPayload } from './worker-protocol';

const caches = new Map<string, WorkloadCache>();

export default async function runTask(payload: WorkerPayload): Promise<TrialOutcome> {
  const { task, port, device } = payload;
  const attrs: TrialAttrs = { worker: `${payload.workerPrefix}pid${process.pid}/t${threadId}`, gpu: payload.gpu };
  if (device.backend) attrs.backend = device.backend;
  const send = (m: WorkerMessage) => port.postMessage(m);
  send({ t: 'start', attrs });

  const abort = new AbortController();
  const waiting = new Map<number, { resolve(d: Decision): void; reject(e: Error): void }>();
  let nextId = 0;
  port.on('message', (m: PoolMessage) => {
    if (m.t === 'decision') {
      const w = waiting.get(m.id);
      waiting.delete(m.id);
      if (m.error !== undefined) w?.reject(new Error(`reporting failed: ${m.error}`));
      else w?.resolve(m.decision);
    } else if (m.t === 'abort') {
      abort.abort(new TrialAbort(m.reason, m.message));
    }
  });

  try {
    let workload;
    try {
      let cache = caches.get(payload.resolverModule);
      if (!cache) {
        const mod = await loadResolverModule(payload.resolverModule);
        cache = new WorkloadCache(mod.resolveWorkload);
        caches.set(payload.resolverModule, cache);
      }
      workload = await cache.get(task.workload, task.spaceDir);
    } catch (e) {
      return { state: 'failed', reason: 'error', error: oneLine(`could not load the ${task.workload.kind} workload: ${describeError(e)}`), attrs };
    }
    return await runTrial(workload, task, {
      device,
      signal: abort.signal,
      attrs,
      channel: {
        report(step: number, values: MetricValues) {
          const id = nextId++;
          return new Promise<Decision>((resolve, reject) => {
            waiting.set(id, { resolve, reject });
            send({ t: 'report', id, step, values });
          });
        },
        setAttrs(more) {
          send({ t: 'attrs', attrs: more });
        },
      },
    });
  } finally {
    port.close();
  }
}
