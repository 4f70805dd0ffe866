// Pure functions from a study's trials to what its page shows: table rows, optimisation history,
// intermediate curves, parallel coordinates, the Pareto front and the selection rules. The cache
// (study-cache.ts) decides when to call them; nothing here does I/O.
import { stringify } from 'yaml';
import { UserError, constraintsOf, isFeasible, studyHeaderDocument, type Objective, type StudyRecord, type Trial } from '@segtune/core';
import { Space, parseSpace, type ParamDef } from '@segtune/space';
import { paretoSummary, pick } from '@segtune/pareto';
import { contourGrid, importanceData, paramImportance, resolveTarget, spaceFromTrials, studyTargets, targetName, type ImportanceMethod, type ImportanceResult } from '@segtune/importance';
import type {
  HistoryData,
  ImportanceView,
  IntermediateCurve,
  IntermediateData,
  ParallelData,
  ParamAxis,
  ParetoData,
  PickDocument,
  PickedDocument,
  StateCounts,
  StudySummary,
  TrialRowDocument,
} from './page-data';


const iso = (ms: number | undefined) => (ms ? new Date(ms).toISOString() : null);

/** The table row of a trial: its document without the intermediate values (built directly; this runs 10,000 times cold). */
export function trialRow(record: StudyRecord, t: Trial): TrialRowDocument {
  let values: Record<string, number> | null = null;
  if (t.values) {
    values = {};
    for (let i = 0; i < record.objectives.length; i++) values[record.objectives[i].name] = t.values[i];
  }
  let last: number | null = null;
  for (const k in t.intermediate) {
    const s = Number(k);
    if (last === null || s > last) last = s;
  }
  return {
    number: t.number,
    state: t.state,
    params: t.params,
    values,
    metrics: t.metrics ?? null,
    attrs: t.attrs,
    started_at: iso(t.startedAt),
    finished_at: iso(t.finishedAt),
    duration_s: t.startedAt && t.finishedAt ? (t.finishedAt - t.startedAt) / 1000 : null,
    last_step: last,
  };
}

export function countStates(trials: Iterable<Trial | undefined>): StateCounts {
  const c: StateCounts = { waiting: 0, running: 0, complete: 0, pruned: 0, failed: 0 };
  for (const t of trials) if (t) c[t.state]++;
  return c;
}

export function studySummary(record: StudyRecord, counts: StateCounts, version: number): StudySummary {
  return {
    ...studyHeaderDocument(record),
    counts,
    n_trials: Object.values(counts).reduce((a, b) => a + b, 0),
    version,
  };
}

/**
 * The space's params when the study stored its space file, or the ones a define-by-run library
 * study recorded in its attrs (`param:<name>`, in first-seen order), else nothing (axes are then
 * inferred).
 */
export function spaceParams(record: StudyRecord): ParamDef[] {
  if (!record.spaceSource) {
    const recorded = Object.entries(record.attrs ?? {}).filter(([k, v]) => k.startsWith('param:') && v && typeof v === 'object');
    return recorded.map(([, v]) => v as ParamDef & { order?: number }).sort((a, b) => (a.order ?? 0) - (b.order ?? 0)).map(({ order: _order, ...p }) => p as ParamDef);
  }
  try {
    return [...parseSpace(record.spaceSource, `study ${record.name}`).space.params];
  } catch {
    return [];
  }
}

/**
 * One axis per param: declared ones in the space's order with its scale and range, then any param
 * seen in trials but not declared (numbers → linear over the range seen, anything else →
 * categorical in order of first appearance).
 */
export function paramAxes(declared: readonly ParamDef[], trials: readonly Trial[]): ParamAxis[] {
  const axes: ParamAxis[] = [];
  // Numbers are tracked as a range (and, for a param that turns out mixed, as distinct values);
  // strings of other values in order of first appearance. No number→string conversions per trial.
  interface Seen {
    min: number;
    max: number;
    nums: Set<number>;
    other: Map<string, number>;
    order: number;
  }
  const seen = new Map<string, Seen>();
  let order = 0;
  for (const t of trials) {
    for (const k in t.params) {
      const v = t.params[k];
      let s = seen.get(k);
      if (!s) seen.set(k, (s = { min: Infinity, max: -Infinity, nums: new Set(), other: new Map(), order: 0 }));
      if (typeof v === 'number' && Number.isFinite(v)) {
        if (v < s.min) s.min = v;
        if (v > s.max) s.max = v;
        if (s.nums.size < 256) s.nums.add(v);
      } else {
        const c = String(v);
        if (!s.other.has(c)) s.other.set(c, order++);
      }
    }
  }
  for (const p of declared) {
    if (p.type === 'categorical') axes.push({ name: p.name, kind: 'param', scale: 'categorical', categories: p.choices.map(String) });
    else {
      const s = seen.get(p.name);
      // Widen to what trials hold (an enqueued trial may sit outside the declared range).
      const min = Math.min(p.low, s ? s.min : Infinity);
      const max = Math.max(p.high, s ? s.max : -Infinity);
      axes.push({ name: p.name, kind: 'param', scale: p.log && min > 0 ? 'log' : 'linear', min, max });
    }
  }
  const declaredNames = new Set(declared.map((p) => p.name));
  for (const [name, s] of seen) {
    if (declaredNames.has(name)) continue;
    if (s.other.size === 0 && s.min <= s.max) axes.push({ name, kind: 'param', scale: 'linear', min: s.min, max: s.max });
    else axes.push({ name, kind: 'param', scale: 'categorical', categories: [...[...s.nums].sort((a, b) => a - b).map(String), ...s.other.keys()] });
  }
  return axes;
}

function better(o: Objective, a: number, b: number): boolean {
  return o.direction === 'maximize' ? a > b : a < b;
}

const isComplete = (record: StudyRecord, t: Trial | undefined): t is Trial & { values: number[] } =>
  t !== undefined && t.state === 'complete' && t.values !== undefined && t.values.length === record.objectives.length && t.values.every((v) => Number.isFinite(v));

/** `trials` is indexed by trial number (holes allowed); the result is in number order. */
export function history(record: StudyRecord, trials: readonly (Trial | undefined)[]): HistoryData {
  const numbers: number[] = [];
  const values: Record<string, number[]> = {};
  const best: Record<string, number[]> = {};
  for (const o of record.objectives) {
    values[o.name] = [];
    best[o.name] = [];
  }
  for (const t of trials) {
    if (!isComplete(record, t)) continue;
    numbers.push(t.number);
    record.objectives.forEach((o, k) => {
      const v = t.values[k];
      const b = best[o.name];
      values[o.name].push(v);
      b.push(b.length === 0 || better(o, v, b[b.length - 1]) ? v : b[b.length - 1]);
    });
  }
  return { numbers, values, best };
}

export function intermediateCurve(t: Trial): IntermediateCurve | undefined {
  const steps = Object.keys(t.intermediate)
    .map(Number)
    .sort((a, b) => a - b);
  if (steps.length === 0) return undefined;
  const values: Record<string, (number | null)[]> = {};
  steps.forEach((s, i) => {
    for (const [m, v] of Object.entries(t.intermediate[s])) (values[m] ??= new Array(steps.length).fill(null))[i] = Number.isFinite(v) ? v : null;
  });
  return { number: t.number, state: t.state, steps, values };
}

/** Metric names reported at any step: the objectives first, then the others alphabetically. */
export function intermediateMetrics(record: StudyRecord, trials: readonly (Trial | undefined)[]): string[] {
  const reported = new Set<string>();
  for (const t of trials) if (t) for (const step of Object.values(t.intermediate)) for (const m of Object.keys(step)) reported.add(m);
  const objectives = record.objectives.map((o) => o.name);
  return [...objectives.filter((m) => reported.has(m)), ...[...reported].filter((m) => !objectives.includes(m)).sort()];
}

export function intermediate(record: StudyRecord, trials: readonly (Trial | undefined)[]): IntermediateData {
  const curves: IntermediateCurve[] = [];
  for (const t of trials) {
    const c = t && intermediateCurve(t);
    if (c) curves.push(c);
  }
  return { metrics: intermediateMetrics(record, trials), curves };
}

export function parallel(record: StudyRecord, axes: readonly ParamAxis[], trials: readonly (Trial | undefined)[]): ParallelData {
  const objectiveAxes: ParamAxis[] = record.objectives.map((o, k) => {
    let min = Infinity;
    let max = -Infinity;
    for (const t of trials) {
      if (!isComplete(record, t)) continue;
      const v = t.values[k];
      if (v < min) min = v;
      if (v > max) max = v;
    }
    return { name: o.name, kind: 'objective', scale: 'linear', min: min <= max ? min : 0, max: min <= max ? max : 1, direction: o.direction };
  });
  const rows: (number | string | boolean | null)[][] = [];
  for (const t of trials) {
    if (!isComplete(record, t)) continue;
    const row: (number | string | boolean | null)[] = [t.number];
    for (const a of axes) row.push(t.params[a.name] ?? null);
    for (const v of t.values) row.push(v);
    rows.push(row);
  }
  return { axes: [...axes, ...objectiveAxes], rows };
}

/** A complete trial as a point to pick from: objective values in study order, and every metric. */
export interface StudyPoint {
  trial: Trial;
  values: number[];
  metrics: Record<string, number>;
}

/** All complete trials (what `segtune export` picks from). */
export function studyPoints(record: StudyRecord, trials: readonly (Trial | undefined)[]): StudyPoint[] {
  const out: StudyPoint[] = [];
  for (const t of trials) {
    if (!isComplete(record, t)) continue;
    const metrics: Record<string, number> = { ...(t.metrics ?? {}) };
    record.objectives.forEach((o, k) => {
      metrics[o.name] = t.values[k];
    });
    out.push({ trial: t, values: t.values, metrics });
  }
  return out;
}

/** The front over the feasible points when the study has constraints and any point meets them (as `segtune pareto` does). */
export function pareto(record: StudyRecord, all: readonly StudyPoint[]): ParetoData {
  const constraints = constraintsOf(record);
  const feasible = constraints.length ? all.filter((p) => isFeasible(constraints, p.trial)) : all;
  const points = constraints.length && feasible.length ? feasible : all;
  const s = paretoSummary(points, record.objectives);
  const front = s.front.map((i) => points[i]);
  const k0 = record.objectives[0];
  front.sort((a, b) => (k0.direction === 'maximize' ? b.values[0] - a.values[0] : a.values[0] - b.values[0]) || a.trial.number - b.trial.number);
  return {
    objectives: record.objectives,
    points: points.map((p) => [p.trial.number, ...p.values]),
    front: front.map((p) => p.trial.number),
    reference: s.reference.map((r, k) => (record.objectives[k]?.direction === 'maximize' ? -r : r)),
    hypervolume: s.hypervolume,
    knee: s.knee >= 0 ? points[s.knee].trial.number : null,
    feasible_only: constraints.length > 0 && feasible.length > 0,
  };
}

/** The rules every study page shows: `best` for one objective, else `knee` and `best:OBJ` for each. */
export function defaultRules(objectives: readonly Objective[]): string[] {
  return objectives.length === 1 ? ['best'] : ['knee', ...objectives.map((o) => `best:${o.name}`)];
}

/** Applies one rule; a bad rule or no feasible trial throws the one-line UserError that `pick` throws. */
export function pickDocument(record: StudyRecord, points: readonly StudyPoint[], rule: string): PickedDocument {
  const r = pick(points, record.objectives, rule);
  return { rule, trial: r.point.trial.number, reason: r.reason, values: Object.fromEntries(record.objectives.map((o, k) => [o.name, r.point.values[k]])) };
}

/** Like pickDocument, but the error becomes part of the document (for the rules the page always shows). */
export function pickOrError(record: StudyRecord, points: readonly StudyPoint[], rule: string): PickDocument {
  try {
    return pickDocument(record, points, rule);
  } catch (e) {
    return { rule, error: (e as Error).message };
  }
}

/** The export snippet for a trial, in the shape `segtune export --format yaml` writes. */
export function exportYaml(record: StudyRecord, t: Trial): string {
  const doc = {
    study: record.name,
    trial: t.number,
    pick: `trial ${t.number}`,
    objectives: t.values ? Object.fromEntries(record.objectives.map((o, i) => [o.name, t.values![i]])) : {},
    metrics: t.metrics ?? {},
    params: t.params,
  };
  return `# segtune export: study ${record.name}, trial ${t.number} (picked in the dashboard)\n${stringify(doc)}`;
}

/**
 * The importance panel's data for one target (an objective's name or `pareto`; default the
 * first objective). Too few complete trials is not an error for the page: the panel says so.
 */
export function importanceView(record: StudyRecord, declared: readonly ParamDef[], trials: readonly (Trial | undefined)[], target: string | undefined, method: ImportanceMethod): ImportanceView {
  const targets = studyTargets(record.objectives).map(targetName);
  const t = resolveTarget(record.objectives, target ?? targets[0], 'importance: target');
  const name = targetName(t);
  const label = t.kind === 'pareto' ? 'non-dominated rank' : t.name;
  const complete = trials.filter((x): x is Trial & { values: number[] } => isComplete(record, x));
  const space = declared.length ? new Space(declared) : spaceFromTrials(complete.map((x) => x.params));
  const input = complete.map((x) => ({ params: x.params, values: x.values }));
  let result: ImportanceResult;
  try {
    result = paramImportance(space, record.objectives, input, t, { method, seed: record.seed });
  } catch (e) {
    if (!(e instanceof UserError)) throw e;
    return { method, targets, target: name, label, result: null, error: e.message, slices: [], contour: null };
  }
  // Target values as the user reads them: the objective's own value, or the rank.
  const data = importanceData(space, record.objectives, input, t);
  const sign = t.kind === 'objective' && record.objectives[t.index].direction === 'maximize' ? -1 : 1;
  const top = result.params.slice(0, 2).map((p) => p.name);
  const slices = top.map((param) => {
    const points: [number | string | boolean, number][] = [];
    input.forEach((x, i) => {
      if (param in x.params) points.push([x.params[param], sign * data.loss[i]]);
    });
    return { param, points };
  });
  let contour: ImportanceView['contour'] = null;
  if (top.length === 2) {
    const g = contourGrid(space, record.objectives, input, t, top[0], top[1], 10);
    contour = { ...g, cells: g.cells.map((row) => row.map((v) => (v === null ? null : sign * v))) };
  }
  return {
    method,
    targets,
    target: name,
    label,
    result: { trials: result.trials, coverage: result.coverage, params: result.params.map((p) => ({ name: p.name, importance: p.importance, low: p.low, high: p.high })) },
    slices,
    contour,
  };
}
