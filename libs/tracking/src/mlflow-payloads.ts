import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import type { StudyEvent, StudyRecord, Trial } from '@segtune/core';
import type { StrategySpec } from '@segtune/space';

// What the outbox stores for MLflow: small, self-contained payloads (a restarted process has
// only these), one per study event.

export interface StudyRef {
  id: number;
  name: string;
  createdAt: number;
  objectives: string[];
}

export interface StudyInfo extends StudyRef {
  directions: ('minimize' | 'maximize')[];
  sampler?: StrategySpec;
  scheduler?: StrategySpec;
  seed: number;
  budget?: { name: string; min: number; max: number };
  constraints?: string[];
  maxTrials?: number;
  storage: string;
}

export type Attrs = Record<string, string | number | boolean | null>;

export interface StudyStartedPayload {
  study: StudyInfo;
  spaceSource?: string;
  spaceName: string;
  ts: number;
}
export interface TrialStartedPayload {
  study: StudyRef;
  number: number;
  trialId: number;
  params: Record<string, string | number | boolean>;
  attrs: Attrs;
  ts: number;
}
export interface TrialReportedPayload {
  study: StudyRef;
  number: number;
  step: number;
  values: Record<string, number>;
  ts: number;
}
export interface TrialFinishedPayload {
  study: StudyRef;
  number: number;
  trialId: number;
  state: 'complete' | 'pruned' | 'failed';
  metrics: Record<string, number>;
  params: Record<string, string | number | boolean>;
  attrs: Attrs;
  startedAt?: number;
  lastStep?: number;
  ts: number;
}
export interface StudyFinishedPayload {
  study: StudyInfo;
  best: { number: number; values: number[]; params: Record<string, string | number | boolean> }[];
  /** Trials per state, filled in just before the event is stored. */
  counts?: Record<string, number>;
  ts: number;
}

/** The outbox row for one study event; throws on a malformed event. */
export function eventPayload(event: StudyEvent, storage: string): { kind: StudyEvent['kind']; studyId: number; payload: unknown } {
  const ref = studyRef(event.study);
  const out = (payload: unknown) => ({ kind: event.kind, studyId: ref.id, payload });
  switch (event.kind) {
    case 'study-started': {
      let spaceSource = event.study.spaceSource;
      if (spaceSource === undefined && event.spaceFile) {
        try {
          spaceSource = readFileSync(event.spaceFile, 'utf8');
        } catch {
          // The space file is a courtesy artifact; its absence must not stop tracking.
        }
      }
      const payload: StudyStartedPayload = {
        study: studyInfo(event.study, storage),
        spaceSource,
        spaceName: event.spaceFile ? basename(event.spaceFile) : 'space.yaml',
        ts: Date.now(),
      };
      return out(payload);
    }
    case 'trial-started': {
      const t = event.trial;
      const payload: TrialStartedPayload = { study: ref, number: t.number, trialId: t.id, params: { ...t.params }, attrs: scalarAttrs(t.attrs), ts: t.startedAt ?? Date.now() };
      return out(payload);
    }
    case 'trial-reported': {
      const payload: TrialReportedPayload = { study: ref, number: event.trial.number, step: event.step, values: { ...event.values }, ts: Date.now() };
      return out(payload);
    }
    case 'trial-finished': {
      const t = event.trial;
      const steps = Object.keys(t.intermediate ?? {}).map(Number);
      const metrics: Record<string, number> = { ...(t.metrics ?? {}) };
      if (t.values) ref.objectives.forEach((o, i) => (metrics[o] ??= t.values![i]));
      const payload: TrialFinishedPayload = {
        study: ref,
        number: t.number,
        trialId: t.id,
        state: t.state as TrialFinishedPayload['state'],
        metrics,
        params: { ...t.params },
        attrs: scalarAttrs(t.attrs),
        startedAt: t.startedAt,
        lastStep: steps.length ? Math.max(...steps) : undefined,
        ts: t.finishedAt ?? Date.now(),
      };
      return out(payload);
    }
    case 'study-finished': {
      const payload: StudyFinishedPayload = {
        study: studyInfo(event.study, storage),
        best: event.best.filter((t) => t.values).map((t) => ({ number: t.number, values: [...t.values!], params: { ...t.params } })),
        ts: Date.now(),
      };
      return out(payload);
    }
  }
}

export function studyRef(r: StudyRecord): StudyRef {
  return { id: r.id, name: r.name, createdAt: r.createdAt, objectives: r.objectives.map((o) => o.name) };
}

/** A study's identity: its id alone is reused when a database is recreated. */
export function studyKey(ref: { id: number; createdAt: number }): string {
  return `${ref.id}@${ref.createdAt}`;
}

function studyInfo(r: StudyRecord, storage: string): StudyInfo {
  return {
    ...studyRef(r),
    directions: r.objectives.map((o) => o.direction),
    sampler: r.sampler,
    scheduler: r.scheduler,
    seed: r.seed,
    budget: r.budget,
    constraints: r.constraints,
    maxTrials: r.limits?.trials,
    storage,
  };
}

function scalarAttrs(attrs: Trial['attrs'] | undefined): Attrs {
  const out: Attrs = {};
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === undefined) continue;
    out[k] = v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? v : JSON.stringify(v);
  }
  return out;
}
