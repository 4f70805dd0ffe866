import type { Decision, MetricValues, TrialAttrs, TrialOutcome, TrialTask } from '@segtune/core';

export interface ProcessChildConfig {
  /** The GPU this process is bound to (CUDA_VISIBLE_DEVICES holds it), or null on the CPUs. */
  gpu: number | null;
  resolverModule: string;
  heapLimitMb?: number;
  timeoutMs?: number;
  abortGraceMs?: number;
}

/** Parent → trial process. */
export type ParentMessage =
  | { t: 'init'; config: ProcessChildConfig }
  | { t: 'run'; id: number; task: TrialTask }
  | { t: 'decision'; rid: number; decision?: Decision; error?: string }
  | { t: 'abort'; id: number }
  | { t: 'close' };

/** Trial process → parent. */
export type ChildMessage =
  | { t: 'ready'; pid: number }
  | { t: 'start'; id: number; attrs: TrialAttrs }
  | { t: 'attrs'; id: number; attrs: TrialAttrs }
  | { t: 'report'; id: number; rid: number; step: number; values: MetricValues }
  /** Sent before the outcome of a trial whose thread was torn down: the process exits next. */
  | { t: 'recycle' }
  | { t: 'outcome'; id: number; outcome: TrialOutcome }
  | { t: 'fatal'; error: string };
