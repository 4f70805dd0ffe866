import type { StudyRecord, StudySpec, Trial } from '@segtune/core';

/** The columns both SQL backends store for a trial; JSON columns as text. */
export interface TrialRow {
  id: number;
  study_id: number;
  number: number;
  state: string;
  params: string;
  vals: string | null;
  metrics: string | null;
  intermediate: string;
  attrs: string;
  created_at: number | string;
  started_at: number | string | null;
  finished_at: number | string | null;
  heartbeat_at: number | string | null;
  seq: number | string;
}

export interface StudyRow {
  id: number;
  name: string;
  spec: string;
  attrs: string;
  created_at: number | string;
}

const num = (v: number | string | null): number | undefined => (v === null || v === undefined ? undefined : Number(v));

const parse = <T>(v: unknown, fallback: T): T => {
  if (v === null || v === undefined) return fallback;
  return typeof v === 'string' ? (JSON.parse(v) as T) : (v as T);
};

export function rowToTrial(r: TrialRow): Trial {
  const t: Trial = {
    id: Number(r.id),
    studyId: Number(r.study_id),
    number: Number(r.number),
    state: r.state as Trial['state'],
    params: parse(r.params, {}),
    intermediate: parse(r.intermediate, {}),
    attrs: parse(r.attrs, {}),
    createdAt: Number(r.created_at),
    seq: Number(r.seq),
  };
  const values = parse<number[] | null>(r.vals, null);
  if (values) t.values = values;
  const metrics = parse<Record<string, number> | null>(r.metrics, null);
  if (metrics) t.metrics = metrics;
  const started = num(r.started_at);
  if (started !== undefined) t.startedAt = started;
  const finished = num(r.finished_at);
  if (finished !== undefined) t.finishedAt = finished;
  const hb = num(r.heartbeat_at);
  if (hb !== undefined) t.heartbeatAt = hb;
  return t;
}

export function rowToStudy(r: StudyRow): StudyRecord {
  const spec = parse<StudySpec>(r.spec, {} as StudySpec);
  return { ...spec, id: Number(r.id), name: r.name, createdAt: Number(r.created_at), attrs: parse(r.attrs, {}) };
}

/** The spec as stored: everything but the name (a column of its own) and attrs. */
export function specToJson(spec: StudySpec): string {
  const { name: _name, attrs: _attrs, ...rest } = spec;
  return JSON.stringify(rest);
}
