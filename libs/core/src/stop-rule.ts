import type { Space } from '@segtune/space';
import type { Constraint, Objective } from './objectives';
import type { Trial } from './trial';

/** What a stop rule sees after each finished trial: the study's trials so far, oldest first. */
export interface StopRuleContext {
  space: Space;
  objectives: readonly Objective[];
  constraints: readonly Constraint[];
  trials: readonly Trial[];
}

/**
 * `--stop-when RULE`: asked after each finished trial whether the study has learned enough
 * (Optuna's Terminator, Ray Tune's stoppers). Pure, like a sampler: a function of the trials.
 */
export interface StopRule {
  /** As the user wrote it, e.g. `patience:50`. */
  readonly name: string;
  /** A one-line reason to stop now, or undefined to go on. */
  check(ctx: StopRuleContext): string | undefined | Promise<string | undefined>;
}

/** Why a study stopped on a rule, as stored in the study's `stopped_by` attr. */
export interface StopDetail {
  rule: string;
  reason: string;
  /** The trial after which the rule fired. */
  trial: number;
}
