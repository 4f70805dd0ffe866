import type { Budget, Params, WorkloadSpec } from '@segtune/space';
import type { Decision } from './scheduler';
import type { WorkloadResume } from './workload';
import type { MetricValues, TrialAttrs } from './trial';

/** Everything a worker needs to run one trial; structured-cloneable. */
export interface TrialTask {
  trialId: number;
  trialNumber: number;
  params: Params;
  workload: WorkloadSpec;
  /** Folder of the space file, for relative paths in the workload. */
  spaceDir: string;
  objectiveNames: string[];
  budget?: Budget;
  seed: number;
  timeoutMs?: number;
  backend?: string;
  artifactDir?: string;
  /** Set when the trial continues an earlier trial's checkpoint (promotion mode). */
  resumeFrom?: WorkloadResume;
  /** Steps whose checkpoint the trial keeps a copy of (WorkloadContext.checkpointSteps). */
  checkpointSteps?: readonly number[];
}

export type TrialOutcome =
  | { state: 'complete'; metrics: MetricValues; attrs: TrialAttrs }
  | { state: 'pruned'; step?: number; attrs: TrialAttrs }
  | { state: 'failed'; reason: string; error: string; attrs: TrialAttrs };

export interface RunOptions {
  /** Called for each report; its answer decides whether the trial goes on. */
  onReport(step: number, values: MetricValues): Promise<Decision>;
  /** Aborting fails the running trial with reason `interrupted`. */
  signal?: AbortSignal;
  /** Attributes the worker reports as soon as the trial starts (worker, gpu, backend). */
  onStart?(attrs: TrialAttrs): void;
  /**
   * Attributes the workload sets while it runs (a command's process group), to be stored at
   * once: a later run needs them should this process die.
   */
  onAttrs?(attrs: TrialAttrs): void;
}

/**
 * Runs trials off the controller's hot path. `run` never throws for a trial's own failure: it
 * resolves with a failed outcome, so one trial cannot take the study down.
 */
export interface Executor {
  /** How many trials it can run at once. */
  readonly capacity: number;
  run(task: TrialTask, options: RunOptions): Promise<TrialOutcome>;
  close(): Promise<void>;
}
