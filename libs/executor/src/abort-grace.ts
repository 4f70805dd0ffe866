import type { TrialTask } from '@segtune/core';
import type { AbortReason } from './failure';

/** The most a thread may outlive its trial's time limit while it honours the abort. */
export const TIMEOUT_GRACE_MS = 1_000;

/** How long an aborted trial may take to honour its signal before it is ended by force. */
export function abortGrace(reason: AbortReason, task: TrialTask, graceMs: number): number {
  if (reason !== 'timeout') return graceMs;
  // A command's own grace_seconds apply: its thread only waits for the command.
  return task.workload.kind === 'command' ? (task.workload.grace_seconds ?? 10) * 1000 + TIMEOUT_GRACE_MS : Math.min(graceMs, TIMEOUT_GRACE_MS);
}
