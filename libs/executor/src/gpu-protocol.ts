import type { Decision, MetricValues, TrialAttrs, TrialOutcome, TrialTask } from '@segtune/core';

export interface GpuChildConfig {
  gpu: number;
  trialsPerGpu: number;
  resolverModule: string;
  heapLimitMb?: number;
  timeoutMs?: number;
  abortGraceMs?: number;
}

/** Parent → GPU process. */
export type ParentMessage =
  | { t: 'init'; config: GpuChildConfig }
  | { t: 'run'; id: number; task: TrialTask }
  | { t: 'decision'; rid: number; decision?: Decision; error?: string }
  | { t: 'abort'; id: number }
  | { t: 'close' };

/** GPU process → parent. */
export type ChildMessage =
  | { t: 'ready'; pid: number }
  | { t: 'start'; id: number; attrs: TrialAttrs }
  | { t: 'attrs'; id: number; attrs: TrialAttrs }
  | { t: 'report'; id: number; rid: number; step: number; values: MetricValues }
  | { t: 'outcome'; id: number; outcome: TrialOutcome }
  | { t: 'fatal'; error: string };
