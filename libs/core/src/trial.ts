import type { Params } from '@segtune/space';

export type TrialState = 'waiting' | 'running' | 'complete' | 'pruned' | 'failed';

export const FINISHED_STATES: readonly TrialState[] = ['complete', 'pruned', 'failed'];

/** Values reported at one step, keyed by metric name (objectives and any extra metrics). */
export type MetricValues = Record<string, number>;

/** Why a trial failed, machine-readable; `error` in attrs holds the sentence. */
export type FailReason = 'error' | 'timeout' | 'oom' | 'crash' | 'stale' | 'interrupted' | 'non-finite' | 'infeasible' | string;

export interface TrialAttrs {
  worker?: string;
  gpu?: number | null;
  backend?: string;
  /** Failure reason code, for failed trials. */
  reason?: FailReason;
  /** Failure message, one line. */
  error?: string;
  /** Hyperband bracket, when a bracketed scheduler assigned one. */
  bracket?: number;
  /** Set when the trial came from `enqueue`. */
  enqueued?: boolean;
  /** The params an enqueued partial configuration gave; the sampler chose the others. */
  fixed_params?: string[];
  /** How many times this configuration was retried after a stale/failed run. */
  retry_of?: number;
  retries?: number;
  [key: string]: unknown;
}

export interface Trial {
  /** Storage-wide id. */
  id: number;
  studyId: number;
  /** Dense per study, from 0. */
  number: number;
  state: TrialState;
  params: Params;
  /** One per objective, in the study's objective order; set when complete. */
  values?: number[];
  /** Every final metric the workload returned (objectives included), keyed by name. */
  metrics?: MetricValues;
  /** step → values reported at that step. */
  intermediate: Record<number, MetricValues>;
  attrs: TrialAttrs;
  createdAt: number;
  startedAt?: number;
  finishedAt?: number;
  heartbeatAt?: number;
  /** Monotonic change counter, used to sync history snapshots incrementally. */
  seq: number;
}

const ALLOWED: Record<TrialState, readonly TrialState[]> = {
  waiting: ['running', 'failed'],
  running: ['complete', 'pruned', 'failed'],
  complete: [],
  pruned: [],
  failed: [],
};

export function canTransition(from: TrialState, to: TrialState): boolean {
  return ALLOWED[from].includes(to);
}

export class TrialStateError extends Error {
  constructor(
    readonly trialNumber: number,
    readonly from: TrialState,
    readonly to: TrialState,
  ) {
    super(`trial ${trialNumber}: cannot go from ${from} to ${to}`);
    this.name = 'TrialStateError';
  }
}

export function isFinished(t: Pick<Trial, 'state'>): boolean {
  return t.state === 'complete' || t.state === 'pruned' || t.state === 'failed';
}

/** The steps a trial reported, ascending. */
export function reportedSteps(t: Pick<Trial, 'intermediate'>): number[] {
  return Object.keys(t.intermediate)
    .map(Number)
    .sort((a, b) => a - b);
}
