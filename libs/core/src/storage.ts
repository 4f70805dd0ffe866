import type { Budget, Objective, StrategySpec } from '@segtune/space';
import type { FailReason, MetricValues, Trial, TrialAttrs, TrialState } from './trial';

export interface StudySpec {
  name: string;
  objectives: Objective[];
  /** Constraint texts such as `latency_ms <= 8`. */
  constraints?: string[];
  budget?: Budget;
  sampler?: StrategySpec;
  scheduler?: StrategySpec;
  seed: number;
  /** The space file's text, so that workers and exports can rebuild the space. */
  spaceSource?: string;
  /** Limits that every worker honours. */
  limits?: { trials?: number; timeoutMs?: number };
  attrs?: Record<string, unknown>;
}

export interface StudyRecord extends StudySpec {
  id: number;
  createdAt: number;
  attrs: Record<string, unknown>;
}

export interface NewTrial {
  state: 'waiting' | 'running';
  params: Trial['params'];
  attrs?: TrialAttrs;
}

export interface TrialLimit {
  maxTrials?: number;
}

export interface FinishTrial {
  state: 'complete' | 'pruned' | 'failed';
  values?: number[];
  metrics?: MetricValues;
  /** Merged into the trial's attrs (reason and error for failures). */
  attrs?: TrialAttrs;
}

export interface TrialQuery {
  states?: readonly TrialState[];
  /** Only trials changed after this sequence number (incremental sync). */
  sinceSeq?: number;
}

/** A tracking event waiting in the durable outbox. */
export interface OutboxEvent {
  id: number;
  studyId: number;
  /** Which tracker it is for, e.g. `mlflow`. */
  sink: string;
  kind: string;
  payload: unknown;
  createdAt: number;
  attempts: number;
}

export class StudyExistsError extends Error {
  constructor(readonly studyName: string) {
    super(`a study named "${studyName}" already exists (use --resume to continue it, or --study to pick another name)`);
    this.name = 'StudyExistsError';
  }
}

export class TrialNotFoundError extends Error {
  constructor(what: string) {
    super(`trial not found: ${what}`);
    this.name = 'TrialNotFoundError';
  }
}

/**
 * Where studies live. Every method is atomic on its own; trial numbers are dense per study and
 * unique under concurrency; state transitions that `canTransition` rejects throw
 * TrialStateError and change nothing.
 */
export interface Storage {
  readonly kind: 'memory' | 'sqlite' | 'postgresql';
  /** A printable description (passwords masked). */
  readonly description: string;

  createStudy(spec: StudySpec): Promise<StudyRecord>;
  getStudy(name: string): Promise<StudyRecord | undefined>;
  listStudies(): Promise<StudyRecord[]>;
  setStudyAttrs(studyId: number, attrs: Record<string, unknown>): Promise<void>;

  /**
   * Creates a trial with the next number of the study. With `maxTrials`, creation of a running
   * trial is refused (undefined) once the study holds that many trials that are not waiting,
   * checked in the same transaction, so that many workers never overshoot a trial limit.
   */
  createTrial(studyId: number, init: NewTrial, limit?: TrialLimit): Promise<Trial | undefined>;
  /** Takes the oldest waiting trial, if any, and makes it running; exactly one caller gets it. */
  claimWaitingTrial(studyId: number, attrs?: TrialAttrs, limit?: TrialLimit): Promise<Trial | undefined>;
  /**
   * Sets the params of a running trial that was created before its sampler ran, and merges
   * `attrs` (if given) into its attrs in the same write: one round trip where a scheduler adds
   * attrs to every trial it places (a bracket), instead of two.
   */
  setTrialParams(trialId: number, params: Trial['params'], attrs?: TrialAttrs): Promise<void>;
  reportIntermediate(trialId: number, step: number, values: MetricValues): Promise<void>;
  finishTrial(trialId: number, finish: FinishTrial): Promise<Trial>;
  updateTrialAttrs(trialId: number, attrs: TrialAttrs): Promise<void>;
  heartbeat(trialIds: readonly number[]): Promise<void>;
  /** Marks running trials whose heartbeat (or start) is older than `graceMs` as failed. */
  failStaleTrials(studyId: number, graceMs: number, reason: FailReason, message: string): Promise<Trial[]>;

  getTrial(trialId: number): Promise<Trial>;
  getTrials(studyId: number, query?: TrialQuery): Promise<Trial[]>;
  countTrials(studyId: number, states?: readonly TrialState[]): Promise<number>;

  outboxAppend(studyId: number, sink: string, events: { kind: string; payload: unknown }[]): Promise<void>;
  /** Oldest first. */
  outboxPeek(sink: string, limit: number): Promise<OutboxEvent[]>;
  outboxAck(ids: readonly number[]): Promise<void>;
  outboxCount(sink: string): Promise<number>;

  close(): Promise<void>;
}
