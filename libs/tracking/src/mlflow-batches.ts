import type { OutboxEvent } from '@segtune/core';
import type { KeyValue, LogBatch, MlflowMetric, RunStatus } from './mlflow-client';
import { mapKey, mapKeys, MAX_PARAM_VALUE_LENGTH, MAX_TAG_VALUE_LENGTH, paramValue, truncateValue } from './mlflow-keys';
import type { Attrs, StudyFinishedPayload, StudyInfo, StudyRef, StudyStartedPayload, TrialFinishedPayload, TrialReportedPayload, TrialStartedPayload } from './mlflow-payloads';
import type { RunState, StudyState } from './mlflow-runs';

// Pure: outbox events → what each MLflow run gets (log-batch bodies within MLflow's limits,
// artifacts, a status update). No I/O; the runs come from MlflowRuns.

/** MLflow's per-request limits for log-batch (mlflow/utils/validation.py). */
export const BATCH_LIMITS = {
  metrics: 1000,
  params: 100,
  tags: 100,
  entities: 1000,
  bytes: 1_000_000,
} as const;

/** What one run gets from a batch of events, in the order it is sent. */
export interface RunBatch {
  run: RunState;
  /** Params MLflow does not hold yet for the run. */
  params: KeyValue[];
  metrics: MlflowMetric[];
  tags: KeyValue[];
  artifacts: { path: string; body: string; type: string }[];
  update?: { status: RunStatus; endTime?: number };
  /** The run's key map with this batch's names added, when it changed: commit it once sent. */
  keyMap?: Record<string, string>;
}

/** The runs of prepared studies and trials (MlflowRuns). */
export interface RunLookup {
  study(ref: StudyRef): StudyState;
  trial(ref: StudyRef, number: number): RunState;
}

const TERMINAL_STATUS: Record<TrialFinishedPayload['state'], RunStatus> = { complete: 'FINISHED', pruned: 'FINISHED', failed: 'FAILED' };
const KNOWN_ATTRS = ['worker', 'gpu', 'backend', 'reason', 'error', 'bracket', 'enqueued', 'fixed_params', 'retry_of', 'retries'];

interface Draft {
  run: RunState;
  metrics: MlflowMetric[];
  params: KeyValue[];
  tags: KeyValue[];
  keyMap: Record<string, string>;
  keyMapChanged: boolean;
  update?: { status: RunStatus; endTime?: number };
  artifacts: { path: string; body: string; type: string }[];
}

/**
 * One batch per run touched by `events`, in the order the runs first appear. Replays are harmless:
 * params MLflow holds already are left out (a changed value becomes a `segtune.param_changed.*`
 * tag), metrics carry the timestamp of the original event, tags and artifacts overwrite. Neither
 * the events nor the runs are changed.
 */
export function buildBatches(events: OutboxEvent[], runs: RunLookup): RunBatch[] {
  const drafts = new Map<string, Draft>();
  const draftFor = (run: RunState): Draft => {
    let b = drafts.get(run.runId);
    if (!b) {
      b = { run, metrics: [], params: [], tags: [], keyMap: { ...run.keyMap }, keyMapChanged: false, artifacts: [] };
      drafts.set(run.runId, b);
    }
    return b;
  };

  for (const ev of events) {
    switch (ev.kind) {
      case 'study-started': {
        const p = ev.payload as StudyStartedPayload;
        const b = draftFor(runs.study(p.study).parent);
        addParams(b, studyParams(p.study));
        b.tags.push({ key: 'segtune.state', value: 'running' });
        b.update = { status: 'RUNNING' };
        if (p.spaceSource !== undefined) b.artifacts.push({ path: p.spaceName, body: p.spaceSource, type: 'application/yaml' });
        break;
      }
      case 'trial-started': {
        const p = ev.payload as TrialStartedPayload;
        const b = draftFor(runs.trial(p.study, p.number));
        addParams(b, p.params);
        addAttrTags(b, p.attrs);
        break;
      }
      case 'trial-reported': {
        const p = ev.payload as TrialReportedPayload;
        const b = draftFor(runs.trial(p.study, p.number));
        for (const [k, v] of Object.entries(p.values)) b.metrics.push({ key: metricKey(b, k), value: v, timestamp: p.ts, step: p.step });
        break;
      }
      case 'trial-finished': {
        const p = ev.payload as TrialFinishedPayload;
        const b = draftFor(runs.trial(p.study, p.number));
        addParams(b, p.params);
        for (const [k, v] of Object.entries(p.metrics)) b.metrics.push({ key: metricKey(b, `final/${k}`), value: v, timestamp: p.ts, step: p.lastStep ?? 0 });
        addAttrTags(b, p.attrs);
        b.tags.push({ key: 'segtune.state', value: p.state });
        b.update = { status: TERMINAL_STATUS[p.state], endTime: p.ts };
        break;
      }
      case 'study-finished': {
        const p = ev.payload as StudyFinishedPayload;
        const st = runs.study(p.study);
        const b = draftFor(st.parent);
        studyResults(b, st, p);
        b.tags.push({ key: 'segtune.state', value: 'finished' });
        b.update = { status: 'FINISHED', endTime: p.ts };
        break;
      }
      default:
        // An event kind this version does not know (written by a newer segtune): skip it.
        break;
    }
  }
  return [...drafts.values()].map(finish);
}

/** Params go once per run: drop those MLflow holds already; a changed value is kept as a tag. */
function finish(b: Draft): RunBatch {
  const params: KeyValue[] = [];
  const tags = [...b.tags];
  for (const p of b.params) {
    const had = b.run.params.get(p.key);
    if (had === undefined) params.push(p);
    else if (had !== p.value) tags.push({ key: `segtune.param_changed.${p.key}`.slice(0, 250), value: p.value });
  }
  if (b.keyMapChanged) tags.push({ key: 'segtune.key_map', value: JSON.stringify(b.keyMap) });
  return { run: b.run, params, metrics: b.metrics, tags, artifacts: b.artifacts, update: b.update, keyMap: b.keyMapChanged ? b.keyMap : undefined };
}

export function studyParams(s: StudyInfo): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {
    objectives: s.objectives.map((o, i) => `${o}:${s.directions[i]}`).join(','),
    sampler: s.sampler?.kind ?? 'default',
    scheduler: s.scheduler?.kind ?? 'none',
    seed: s.seed,
  };
  for (const [prefix, spec] of [['sampler', s.sampler], ['scheduler', s.scheduler]] as const) {
    for (const [k, v] of Object.entries(spec ?? {})) if (k !== 'kind') out[`${prefix}.${k}`] = typeof v === 'object' && v !== null ? JSON.stringify(v) : (v as string | number | boolean);
  }
  if (s.budget) out.budget = `${s.budget.name} ${s.budget.min}..${s.budget.max}`;
  if (s.constraints?.length) out.constraints = s.constraints.join('; ');
  if (s.maxTrials !== undefined) out.max_trials = s.maxTrials;
  return out;
}

function studyResults(b: Draft, st: StudyState, p: StudyFinishedPayload): void {
  const s = p.study;
  const best = [...p.best].sort((x, y) => x.values[0] - y.values[0] || x.number - y.number);
  s.objectives.forEach((o, i) => {
    if (!best.length) return;
    const vals = best.map((t) => t.values[i]);
    const v = s.directions[i] === 'maximize' ? Math.max(...vals) : Math.min(...vals);
    b.metrics.push({ key: metricKey(b, `best/${o}`), value: v, timestamp: p.ts, step: 0 });
    // The front as a metric series (step = position along the first objective) charts in MLflow.
    if (s.objectives.length > 1) best.forEach((t, j) => b.metrics.push({ key: metricKey(b, `pareto/${o}`), value: t.values[i], timestamp: p.ts, step: j }));
  });
  b.metrics.push({ key: 'pareto/size', value: best.length, timestamp: p.ts, step: 0 });
  for (const [k, v] of Object.entries(p.counts ?? {})) b.metrics.push({ key: `trials/${k}`, value: v, timestamp: p.ts, step: 0 });
  b.tags.push({ key: 'segtune.best_trials', value: best.map((t) => t.number).join(',') });
  const rows = best.map((t) => ({
    number: t.number,
    run_id: st.children.get(t.number)?.runId ?? null,
    values: Object.fromEntries(s.objectives.map((o, i) => [o, t.values[i]])),
    params: t.params,
  }));
  b.artifacts.push({ path: 'pareto_front.json', body: `${JSON.stringify({ study: s.name, objectives: s.objectives.map((o, i) => ({ name: o, direction: s.directions[i] })), trials: rows }, null, 2)}\n`, type: 'application/json' });
  const paramNames = [...new Set(best.flatMap((t) => Object.keys(t.params)))];
  const csv = [['trial', ...s.objectives, ...paramNames].map(csvCell).join(',')];
  for (const t of best) csv.push([t.number, ...t.values, ...paramNames.map((n) => t.params[n] ?? '')].map(csvCell).join(','));
  b.artifacts.push({ path: 'pareto_front.csv', body: `${csv.join('\n')}\n`, type: 'text/csv' });
}

function addParams(b: Draft, params: Record<string, unknown>): void {
  const names = Object.keys(params);
  const keys = mapKeys(names);
  for (const n of names) {
    const key = keys.get(n)!;
    if (key !== n) noteMapped(b, key, n);
    b.params.push({ key, value: paramValue(params[n]) });
  }
}

function metricKey(b: Draft, name: string): string {
  const key = mapKey(name);
  if (key !== name) noteMapped(b, key, name);
  return key;
}

function noteMapped(b: Draft, key: string, name: string): void {
  if (b.keyMap[key] === name) return;
  b.keyMap[key] = name;
  b.keyMapChanged = true;
}

function addAttrTags(b: Draft, attrs: Attrs): void {
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined) continue;
    const value = v === null ? (k === 'gpu' ? 'cpu' : '') : String(v);
    const key = KNOWN_ATTRS.includes(k) ? `segtune.${k}` : `segtune.attr.${mapKey(k)}`;
    b.tags.push({ key: key.slice(0, 250), value });
  }
}

function csvCell(v: unknown): string {
  const s = String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/**
 * Splits a batch into log-batch request bodies within MLflow's limits (1,000 metrics, 100 params,
 * 100 tags, 1,000 entities and 1 MB per call). Param and tag values are cut to 6,000 / 8,000
 * characters, duplicate param keys keep their first value, a repeated tag its last, and metrics
 * that are not finite are dropped (JSON cannot carry them).
 */
export function splitBatch(batch: LogBatch): { metrics: MlflowMetric[]; params: KeyValue[]; tags: KeyValue[] }[] {
  const seen = new Set<string>();
  const params: KeyValue[] = [];
  for (const p of batch.params ?? []) {
    if (seen.has(p.key)) continue;
    seen.add(p.key);
    params.push({ key: p.key, value: truncateValue(p.value, MAX_PARAM_VALUE_LENGTH) });
  }
  const tagMap = new Map<string, string>();
  for (const t of batch.tags ?? []) tagMap.set(t.key, truncateValue(t.value, MAX_TAG_VALUE_LENGTH)); // last value wins, as set-tag would
  const tags = [...tagMap].map(([key, value]) => ({ key, value }));
  const metrics = (batch.metrics ?? [])
    .filter((m) => Number.isFinite(m.value))
    .map((m) => ({ key: m.key, value: m.value, timestamp: Math.round(m.timestamp), step: Math.round(m.step) }));

  const chunks: { metrics: MlflowMetric[]; params: KeyValue[]; tags: KeyValue[] }[] = [];
  // Room for {"run_id":"<32 hex>","metrics":[],"params":[],"tags":[]} and some slack.
  const budget = BATCH_LIMITS.bytes - 200;
  let cur = { metrics: [] as MlflowMetric[], params: [] as KeyValue[], tags: [] as KeyValue[] };
  let bytes = 0;
  const flush = () => {
    if (cur.metrics.length + cur.params.length + cur.tags.length > 0) chunks.push(cur);
    cur = { metrics: [], params: [], tags: [] };
    bytes = 0;
  };
  const add = <K extends 'metrics' | 'params' | 'tags'>(kind: K, item: (typeof cur)[K][number], limit: number) => {
    const size = Buffer.byteLength(JSON.stringify(item)) + 1;
    const entities = cur.metrics.length + cur.params.length + cur.tags.length;
    if (cur[kind].length >= limit || entities >= BATCH_LIMITS.entities || bytes + size > budget) flush();
    (cur[kind] as (typeof item)[]).push(item);
    bytes += size;
  };
  for (const p of params) add('params', p, BATCH_LIMITS.params);
  for (const t of tags) add('tags', t, BATCH_LIMITS.tags);
  for (const m of metrics) add('metrics', m, BATCH_LIMITS.metrics);
  flush();
  return chunks;
}
