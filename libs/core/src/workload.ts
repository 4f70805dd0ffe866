import type { Budget, Params, WorkloadSpec } from '@segtune/space';
import type { MetricValues } from './trial';

export interface DeviceInfo {
  /** GPU index as the process sees it, or null on CPU. */
  gpu: number | null;
  /** Preferred tfjs backend, when forced (`--backend`). */
  backend?: string;
}

/** A trial that continues an earlier trial of the same configuration. */
export interface WorkloadResume {
  /** The trial whose checkpoint to load. */
  trialNumber: number;
  /** The step its checkpoint holds: report steps after it. */
  step: number;
  /** That trial's artifact folder, where its checkpoint is. */
  artifactDir?: string;
  /** The params differ from the checkpoint's (PBT): keep its weights, use the new hyperparameters. */
  transfer?: boolean;
}

export interface WorkloadContext {
  trialNumber: number;
  /** The study seed mixed with the trial number: use it for initialisation and data order. */
  seed: number;
  budget: Budget | undefined;
  /**
   * Reports intermediate values at a step (an epoch): a number for the first objective or a
   * record of named metrics. Resolves when the scheduler said continue; rejects with `Pruned`
   * when it said stop.
   */
  report(step: number, values: number | MetricValues): Promise<void>;
  signal: AbortSignal;
  device: DeviceInfo;
  /** Sets attributes stored with the trial (backend used, parameter count…). */
  setAttrs(attrs: Record<string, unknown>): void;
  /** A folder this trial may write into (checkpoints, models). */
  artifactDir?: string;
  /**
   * Set when the scheduler resumes a paused configuration (ASHA in promotion mode): load the
   * checkpoint from `resumeFrom.artifactDir` and go on after `resumeFrom.step`.
   */
  resumeFrom?: WorkloadResume;
  /**
   * Steps whose checkpoint a later trial may continue from (population-based training copies a
   * top trial's weights as they were at an interval step, after that trial has trained on, or
   * finished): after reporting such a step, keep a copy of the checkpoint in
   * `checkpointDirAt(artifactDir, step)`; a trial resuming at `resumeFrom.step` looks there
   * first (`checkpointDirAt(resumeFrom.artifactDir, resumeFrom.step)`), then at the latest
   * checkpoint in `resumeFrom.artifactDir`. Absent when no scheduler asks for it.
   */
  checkpointSteps?: readonly number[];
  /** The study's objective names, which a result must hold (a command's result line, say). */
  objectiveNames?: readonly string[];
}

/** A trial's body: returns the final metrics (objectives by name), or a number for one objective. */
export type Workload = (params: Params, ctx: WorkloadContext) => Promise<MetricValues | number> | MetricValues | number;

/** Turns a space file's `workload` block into a runnable function (in whatever thread runs it). */
export type WorkloadResolver = (spec: WorkloadSpec, options: { spaceDir: string }) => Promise<Workload>;

/** Normalises what a report or a workload returned into named metrics. */
export function toMetrics(value: number | MetricValues, objectiveNames: readonly string[]): MetricValues {
  if (typeof value === 'number') return { [objectiveNames[0]]: value };
  return value;
}

/** The folder of the checkpoint a trial keeps at `step` inside its artifact folder (see WorkloadContext.checkpointSteps). */
export function checkpointDirAt(artifactDir: string, step: number): string {
  return `${artifactDir}/step-${step}`;
}
