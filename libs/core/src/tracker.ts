import type { StudyRecord } from './storage';
import type { MetricValues, Trial } from './trial';

export type StudyEvent =
  | { kind: 'study-started'; study: StudyRecord; spaceFile?: string }
  | { kind: 'trial-started'; study: StudyRecord; trial: Trial }
  | { kind: 'trial-reported'; study: StudyRecord; trial: Trial; step: number; values: MetricValues }
  | { kind: 'trial-finished'; study: StudyRecord; trial: Trial }
  | { kind: 'study-finished'; study: StudyRecord; best: Trial[] };

/**
 * Observes a study. Never on a trial's hot path and never able to fail a search: the controller
 * calls `handle` without awaiting it and swallows its errors.
 */
export interface Tracker {
  readonly name: string;
  handle(event: StudyEvent): void;
  /** Waits until what was handled is delivered (or durably queued); called at the end. */
  flush?(timeoutMs?: number): Promise<void>;
  /** Where a user sees the study's run (MLflow's page), once the sink has answered. */
  runUrl?(timeoutMs?: number): Promise<string | undefined>;
  close?(): Promise<void>;
}
