// The trackers a run logs to, one place for `search` and `worker` (through run-resources) and
// the library; apart from run-resources so that the library does not load the executor.
import { hostname } from 'node:os';
import type { Storage, Tracker } from '@segtune/core';

/** MLflow when `mlflow` or $MLFLOW_TRACKING_URI names a server (none otherwise), delivering through `storage`'s outbox. */
export async function openTrackers(o: { mlflow?: string; storage: Storage; onWarning(message: string): void; perMachineSink?: boolean }): Promise<{ trackers: Tracker[]; mlflowUri?: string }> {
  if (!o.mlflow && !process.env.MLFLOW_TRACKING_URI) return { trackers: [] };
  const tracking = await import('@segtune/tracking');
  const mlflowUri = tracking.resolveTrackingUri(o.mlflow);
  if (!mlflowUri) return { trackers: [] };
  return { trackers: [tracking.createMlflowTracker({ uri: mlflowUri, storage: o.storage, onWarning: o.onWarning, ...(o.perMachineSink ? { sink: `mlflow:${hostname()}` } : {}) })], mlflowUri };
}
