// The JSON shapes the dashboard's API serves and its page reads. Types only, so the browser
// bundle and the server share one definition. Field names follow the CLI's `--json` documents
// (apps/cli/src/study-report.ts): snake_case times, `values` keyed by objective name.
import type { Objective, TrialDocument, TrialState } from '@segtune/core';

export type ParamValueJson = number | string | boolean;

/** One trial, as the CLI's `--json` writes it (core's trialDocument). */
export type { TrialDocument };

/** A row of the trials table: the trial document without its intermediate values (those are in `intermediate`). */
export type TrialRowDocument = Omit<TrialDocument, 'intermediate'> & { last_step: number | null };

export type StateCounts = Record<TrialState, number>;

export interface StudySummary {
  name: string;
  objectives: Objective[];
  constraints: string[];
  budget: { name: string; min: number; max: number } | null;
  sampler: { kind: string; [k: string]: unknown } | null;
  scheduler: { kind: string; [k: string]: unknown } | null;
  seed: number;
  created_at: string;
  counts: StateCounts;
  n_trials: number;
  /** Change counter of the newest trial change seen; the page refetches when it moves. */
  version: number;
}

export interface ParamAxis {
  name: string;
  /** `param` for a search parameter, `objective` for an objective value. */
  kind: 'param' | 'objective';
  scale: 'linear' | 'log' | 'categorical';
  /** Numeric range seen (or declared in the space); categorical axes have `categories` instead. */
  min?: number;
  max?: number;
  categories?: string[];
  /** Objectives: which way is better. */
  direction?: Objective['direction'];
}

export interface HistoryData {
  /** Complete trials, ascending by number. */
  numbers: number[];
  /** Per objective name: that objective's value for each trial in `numbers`. */
  values: Record<string, number[]>;
  /** Per objective name: the best value so far at each trial in `numbers`. */
  best: Record<string, number[]>;
}

export interface IntermediateCurve {
  number: number;
  state: TrialState;
  steps: number[];
  /** Per metric: the value at each step (null where that step did not report the metric). */
  values: Record<string, (number | null)[]>;
}

export interface IntermediateData {
  /** Metric names reported at any step, objectives first. */
  metrics: string[];
  curves: IntermediateCurve[];
}

export interface ParallelData {
  axes: ParamAxis[];
  /** One row per complete trial: [trial number, value per axis] (null: param inactive). */
  rows: (number | string | boolean | null)[][];
}

export interface ParetoData {
  objectives: Objective[];
  /** Every point on the plot: [trial number, ...objective values]. */
  points: number[][];
  /** Trial numbers of the Pareto-optimal points, ascending by the first objective. */
  front: number[];
  /** Reference point in objective space (maximised objectives as stated, not negated). */
  reference: number[];
  hypervolume: number;
  /** Trial number of the knee point; null when there are no points. */
  knee: number | null;
  /** True when the study has constraints and only feasible trials are plotted. */
  feasible_only: boolean;
}

/** A selection rule's result: the trial it picks and why, or a one-line error. */
export type PickedDocument = { rule: string; trial: number; reason: string; values: Record<string, number> };
export type PickDocument = PickedDocument | { rule: string; error: string };

export interface StudyPageData {
  study: StudySummary;
  params: ParamAxis[];
  trials: TrialRowDocument[];
  history: HistoryData;
  intermediate: IntermediateData;
  parallel: ParallelData;
  pareto: ParetoData;
  /** The standard rules: `best` (or `best:OBJ` for each objective) and `knee`. */
  picks: PickDocument[];
  /** The rule given as `?pick=`, when given. */
  pick?: PickDocument;
}

export interface TrialPageData {
  study: string;
  trial: TrialDocument;
  /** The export snippet (YAML, as `segtune export --format yaml` writes it) for this trial. */
  export_yaml: string;
}

/** Pushed over `/api/studies/:name/events` when the study changes. */
export interface UpdateEvent {
  study: string;
  version: number;
  counts: StateCounts;
  n_trials: number;
  /** Numbers of the trials that changed since the previous event. */
  changed: number[];
}

/** The importance panel: each param's importance for one target, and slices and a contour of the two most important. */
export interface ImportanceView {
  method: 'ped-anova' | 'fanova';
  /** What the page can ask for: each objective, and `pareto` with several. */
  targets: string[];
  target: string;
  /** What the target values are: the objective's name, or the non-dominated rank. */
  label: string;
  /** Null (with `error`) when the study has too few complete trials. */
  result: { trials: number; coverage: number; params: { name: string; importance: number; low: number; high: number }[] } | null;
  error?: string;
  /** One per most-important param (two at most): [param value, target value] per complete trial where it is active. */
  slices: { param: string; points: [number | string | boolean, number][] }[];
  /** The target's mean over the two most important params, binned on their unit-cube coordinates; row 0 at the bottom. */
  contour: { x: string; y: string; bins: number; cells: (number | null)[][] } | null;
}
