// What `search` and `worker` open before a session and close after it, in the order that keeps
// bad input from leaving anything behind: the executor (bad GPU flags fail first), then the
// storage, then the trackers.
import type { Executor, Storage, Tracker } from '@segtune/core';
import { openStorage } from '@segtune/storage';
import { createCliExecutor, type CliExecutorOptions } from './executor';
import { openTrackers } from './trackers';

export interface RunResources {
  executor: Executor;
  storage: Storage;
  trackers: Tracker[];
  /** The MLflow server, when tracking is on (`--mlflow` or MLFLOW_TRACKING_URI). */
  mlflowUri?: string;
  close(): Promise<void>;
}

export async function openRunResources(o: {
  executor: CliExecutorOptions | (() => Promise<Executor> | Executor);
  storage?: string;
  mlflow?: string;
  /** A worker drains its own outbox sink (one per machine), so no event is sent twice. */
  perMachineSink?: boolean;
  onWarning(message: string): void;
}): Promise<RunResources> {
  const executor = typeof o.executor === 'function' ? await o.executor() : await createCliExecutor(o.executor);
  const storage = await openStorage(o.storage).catch(async (e: unknown) => {
    await executor.close().catch(() => undefined);
    throw e;
  });
  const { trackers, mlflowUri } = await openTrackers({ mlflow: o.mlflow, storage, onWarning: o.onWarning, perMachineSink: o.perMachineSink });
  return {
    executor,
    storage,
    trackers,
    mlflowUri,
    async close() {
      await executor.close().catch(() => undefined);
      for (const t of trackers) await t.close?.().catch(() => undefined);
      await storage.close();
    },
  };
}
