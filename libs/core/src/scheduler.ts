import type { Budget } from '@segtune/space';
import type { Objective } from './objectives';
import type { MetricValues, Trial } from './trial';

export type Decision = 'continue' | 'stop';

export interface SchedulerContext {
  /** The reporting trial, with this report already included in its intermediate values. */
  trial: Trial;
  step: number;
  values: MetricValues;
  /** Every trial of the study (running ones included), from storage. */
  history: readonly Trial[];
  objectives: readonly Objective[];
  budget: Budget;
}

/**
 * Answers one question for each report: go on, or stop. Computed from stored intermediate
 * values only, so every worker of a distributed study reaches the same decision.
 */
export interface Scheduler {
  readonly name: string;
  decide(ctx: SchedulerContext): Decision;
  /** Hyperband families: the bracket a trial number belongs to (deterministic). */
  bracketFor?(trialNumber: number): number;
  /**
   * The budget a trial should train to before its next report matters (promotion-style
   * schedulers use it to resume from a checkpoint); defaults to the whole budget.
   */
  readonly needsHistory?: boolean;
}

export type SchedulerFactory = (options: Record<string, unknown>, budget: Budget, objectives: readonly Objective[]) => Scheduler;

/** Never stops a trial. */
export const noScheduler: Scheduler = {
  name: 'none',
  needsHistory: false,
  decide: () => 'continue',
};
