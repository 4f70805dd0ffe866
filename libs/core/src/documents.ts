// Studies and trials as JSON, the shapes the CLI's `--json` documents and the dashboard's API
// both serve: `values` keyed by objective name, snake_case ISO times.
import { parseConstraint, type Constraint } from './objectives';
import type { StudyRecord } from './storage';
import type { Trial, TrialAttrs, TrialState } from './trial';

export interface TrialDocument {
  number: number;
  state: TrialState;
  params: Record<string, number | string | boolean>;
  values: Record<string, number> | null;
  metrics: Record<string, number> | null;
  intermediate: Record<string, Record<string, number>>;
  attrs: TrialAttrs;
  started_at: string | null;
  finished_at: string | null;
  duration_s: number | null;
}

export function trialDocument(record: StudyRecord, t: Trial): TrialDocument {
  return {
    number: t.number,
    state: t.state,
    params: t.params,
    values: t.values ? Object.fromEntries(record.objectives.map((o, i) => [o.name, t.values![i]])) : null,
    metrics: t.metrics ?? null,
    intermediate: Object.fromEntries(Object.entries(t.intermediate).map(([k, v]) => [String(k), v])),
    attrs: t.attrs,
    started_at: t.startedAt ? new Date(t.startedAt).toISOString() : null,
    finished_at: t.finishedAt ? new Date(t.finishedAt).toISOString() : null,
    duration_s: t.startedAt && t.finishedAt ? (t.finishedAt - t.startedAt) / 1000 : null,
  };
}

/** The study's own fields, as every study document starts. */
export function studyHeaderDocument(record: StudyRecord) {
  return {
    name: record.name,
    objectives: record.objectives,
    constraints: record.constraints ?? [],
    budget: record.budget ?? null,
    sampler: record.sampler ?? null,
    scheduler: record.scheduler ?? null,
    seed: record.seed,
    created_at: new Date(record.createdAt).toISOString(),
  };
}

/** The study's constraints, parsed (malformed ones were refused when the study was created). */
export function constraintsOf(record: StudyRecord): Constraint[] {
  return (record.constraints ?? []).map((c) => parseConstraint(c)).filter((c): c is Constraint => c !== undefined);
}
