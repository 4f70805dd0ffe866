import type { Decision, DeviceInfo, MetricValues, TrialAttrs, TrialTask } from '@segtune/core';
import type { MessagePort } from 'node:worker_threads';
import type { AbortReason } from './failure';

/** What the pool hands a worker thread for one trial (structured-cloned; the port transferred). */
export interface WorkerPayload {
  task: TrialTask;
  resolverModule: string;
  port: MessagePort;
  device: DeviceInfo;
  /** Recorded in attrs: the physical GPU index, or null. */
  gpu: number | null;
  /** Prefix of the worker id, e.g. `gpu1/`. */
  workerPrefix: string;
}

/** Worker thread → pool, over the trial's port. */
export type WorkerMessage =
  | { t: 'start'; attrs: TrialAttrs }
  | { t: 'attrs'; attrs: Record<string, unknown> }
  | { t: 'report'; id: number; step: number; values: MetricValues };

/** Pool → worker thread, over the trial's port. */
export type PoolMessage =
  | { t: 'decision'; id: number; decision: Decision; error?: undefined }
  | { t: 'decision'; id: number; decision?: undefined; error: string }
  | { t: 'abort'; reason: AbortReason; message: string };
