import type { Budget, Params } from '@segtune/space';
import type { Objective } from './objectives';
import type { SamplerContext } from './sampler';
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

/** Where a trial continues from: an earlier trial of the same configuration, at its last step. */
export interface ResumePoint {
  /** The trial whose checkpoint is continued (the latest run of the configuration). */
  trialNumber: number;
  /** The step (epoch) its checkpoint holds; the new trial reports steps after it. */
  step: number;
  /** The first trial of the configuration: resumed runs keep its seed, so checkpoints match. */
  rootTrialNumber: number;
  /**
   * The new trial's params differ from the checkpoint's (population-based training exploiting a
   * better trial): load its weights and optimizer state, train on with the new hyperparameters.
   */
  transfer?: boolean;
}

/** What a scheduler that picks configurations itself answers at `ask`. */
export interface Suggestion {
  params: Params;
  resume?: ResumePoint;
  /** Attributes stored with the new trial (why the scheduler chose it). */
  attrs?: Record<string, unknown>;
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
  /** False for schedulers that decide without the study's other trials (skips a sync). */
  readonly needsHistory?: boolean;
  /**
   * Schedulers that own the choice of configuration (promotion-style ASHA resuming a paused
   * configuration, as Syne Tune's schedulers do): asked before the sampler; undefined leaves the
   * choice to the sampler.
   */
  suggest?(ctx: SamplerContext): Suggestion | undefined | Promise<Suggestion | undefined>;
  /**
   * For drivers that can pause trials (the simulator): true parks the reporting trial at an
   * undecided rung instead of deciding now (synchronous successive halving).
   */
  hold?(ctx: SchedulerContext): boolean;
  /** For drivers that can pause trials: false keeps `trialNumber` from starting yet. */
  canStart?(trialNumber: number, history: readonly Trial[]): boolean;
  /**
   * Steps at which the scheduler may later continue another trial from this one's checkpoint
   * (PBT's exploit): every trial keeps a copy of its checkpoint at each (WorkloadContext.checkpointSteps).
   */
  checkpointSteps?(): readonly number[];
  /**
   * Kept checkpoints (checkpointSteps) that no later decision can continue from, given that the
   * study holds at most `maxTrials` trials: the controller deletes their folders and records
   * each in its trial's attrs (`checkpoints_released`, the steps), which `suggest` then avoids.
   */
  releasableCheckpoints?(trials: readonly Trial[], maxTrials: number): { trialNumber: number; step: number }[];
}

export type SchedulerFactory = (options: Record<string, unknown>, budget: Budget, objectives: readonly Objective[]) => Scheduler;

/** Never stops a trial. */
export const noScheduler: Scheduler = {
  name: 'none',
  needsHistory: false,
  decide: () => 'continue',
};
