import { UserError, parseConstraint, violation, type Constraint, type Objective } from '@segtune/core';
import { didYouMean } from '@segtune/space';
import { kneeIndex } from './knee';

// Selection rules for `segtune export --pick` and the dashboard:
//   best        the best point on the single objective (a multi-objective study must name one:
//               best:miou)
//   knee        the knee of the Pareto front (see kneeIndex); the best point for one objective
//   latency_ms<=5[, params_m<2 …]
//               constraints on objectives or other reported metrics: among the points meeting
//               all of them, the best on the primary objective — the first objective that no
//               constraint names (every objective constrained: the first one) — with ties broken
//               by the remaining objectives in order.

/** A point to choose from: objective values in study order, and any other metrics by name. */
export interface PickPoint {
  values: readonly number[];
  metrics?: Readonly<Record<string, number>>;
}

export type PickRule =
  | { kind: 'best'; objective: string; text: string }
  | { kind: 'knee'; text: string }
  | { kind: 'constraints'; constraints: Constraint[]; primary: string; text: string };

export interface PickResult<T extends PickPoint> {
  /** Index into the points given to `pick`. */
  index: number;
  point: T;
  rule: PickRule;
  /** One line saying why this point, for the CLI and the dashboard. */
  reason: string;
}

const ALLOWED = `allowed: best, best:OBJECTIVE, knee, or constraints like "latency_ms<=5" (operators <=, >=, <, >; join several with ",")`;

/**
 * Parses a pick rule against a study's objectives. `metricNames` lists the other metrics a
 * constraint may name (the trials' reported metrics); unknown names and malformed rules throw a
 * one-line UserError.
 */
export function parsePickRule(text: string, objectives: readonly Objective[], metricNames: readonly string[] = []): PickRule {
  if (objectives.length === 0) throw new UserError('pick: the study has no objectives');
  const t = text.trim();
  const objNames = objectives.map((o) => o.name);
  const known = [...new Set([...objNames, ...metricNames])];
  if (t === 'knee') return { kind: 'knee', text: t };
  const best = /^best(?::\s*(.+))?$/.exec(t);
  if (best) {
    const name = best[1]?.trim();
    if (name === undefined) {
      if (objectives.length > 1) {
        throw new UserError(`pick rule "best" needs a single objective; this study has ${objectives.length} (${objNames.join(', ')}): use knee, best:${objNames[0]}, or a constraint like "${objNames[1]}<=…"`);
      }
      return { kind: 'best', objective: objNames[0], text: t };
    }
    if (!objNames.includes(name)) throw new UserError(`pick rule "${t}" names unknown objective "${name}"${didYouMean(name, objNames)}; objectives: ${objNames.join(', ')}`);
    return { kind: 'best', objective: name, text: t };
  }
  const parts = t.split(',').map((s) => s.trim());
  if (t === '' || parts.some((p) => p === '')) throw new UserError(`pick rule "${text}" is malformed; ${ALLOWED}`);
  const constraints: Constraint[] = [];
  for (const part of parts) {
    const c = parseConstraint(part);
    if (!c) throw new UserError(`pick rule "${text}" is malformed${parts.length > 1 ? ` at "${part}"` : ''}; ${ALLOWED}`);
    if (!known.includes(c.metric)) {
      throw new UserError(`pick rule "${text}" names unknown metric "${c.metric}"${didYouMean(c.metric, known)}; known: ${known.join(', ')}`);
    }
    constraints.push({ ...c, text: `${c.metric}${c.op}${c.bound}` });
  }
  const constrained = new Set(constraints.map((c) => c.metric));
  const primary = objNames.find((n) => !constrained.has(n)) ?? objNames[0];
  return { kind: 'constraints', constraints, primary, text: t };
}

function isValid(p: PickPoint, m: number): boolean {
  if (p.values.length !== m) return false;
  for (const v of p.values) if (!Number.isFinite(v)) return false;
  return true;
}

/** Objective values and metrics of a point in one record (objective values win on a clash). */
function metricsOf(p: PickPoint, objectives: readonly Objective[]): Record<string, number> {
  const out: Record<string, number> = { ...(p.metrics ?? {}) };
  objectives.forEach((o, i) => {
    out[o.name] = p.values[i];
  });
  return out;
}

const loss = (o: Objective, v: number) => (o.direction === 'maximize' ? -v : v);

/** The index (into `candidates`) best on objective `first`, ties broken by the other objectives in order. */
function bestOn(points: readonly PickPoint[], candidates: readonly number[], objectives: readonly Objective[], first: string): number {
  const order = [objectives.findIndex((o) => o.name === first), ...objectives.map((_, i) => i).filter((i) => objectives[i].name !== first)];
  let best = candidates[0];
  for (const i of candidates.slice(1)) {
    for (const k of order) {
      const a = loss(objectives[k], points[i].values[k]);
      const b = loss(objectives[k], points[best].values[k]);
      if (a < b) best = i;
      if (a !== b) break;
    }
  }
  return best;
}

function fmt(v: number): string {
  return Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(6)));
}

/**
 * Chooses one point by a rule (text or parsed). Points whose objective values are missing or not
 * finite are ignored. Throws a one-line UserError for a bad rule, for no usable points, and when
 * no point meets the constraints (naming the constraint and the best value seen).
 */
export function pick<T extends PickPoint>(points: readonly T[], objectives: readonly Objective[], rule: string | PickRule): PickResult<T> {
  const m = objectives.length;
  const valid: number[] = [];
  points.forEach((p, i) => {
    if (isValid(p, m)) valid.push(i);
  });
  let parsed: PickRule;
  if (typeof rule === 'string') {
    const metricNames = new Set<string>();
    for (const i of valid) for (const k of Object.keys(points[i].metrics ?? {})) metricNames.add(k);
    parsed = parsePickRule(rule, objectives, [...metricNames]);
  } else parsed = rule;
  if (valid.length === 0) throw new UserError(`pick "${parsed.text}": no completed trials with finite values to pick from`);
  const done = (index: number, reason: string): PickResult<T> => ({ index, point: points[index], rule: parsed, reason });

  if (parsed.kind === 'best' || (parsed.kind === 'knee' && m === 1)) {
    const name = parsed.kind === 'best' ? parsed.objective : objectives[0].name;
    const i = bestOn(points, valid, objectives, name);
    const k = objectives.findIndex((o) => o.name === name);
    return done(i, `best ${name} (${objectives[k].direction === 'maximize' ? 'max' : 'min'}): ${fmt(points[i].values[k])}`);
  }
  if (parsed.kind === 'knee') {
    const losses = valid.map((i) => objectives.map((o, k) => loss(o, points[i].values[k])));
    const i = valid[kneeIndex(losses)];
    return done(i, `knee of the Pareto front: ${objectives.map((o, k) => `${o.name} ${fmt(points[i].values[k])}`).join(', ')}`);
  }

  const metrics = valid.map((i) => metricsOf(points[i], objectives));
  const feasible = valid.filter((_, k) => parsed.constraints.every((c) => violation(c, metrics[k]) === 0));
  if (feasible.length === 0) {
    // Name the constraint nobody meets (or all of them, when each alone is met by someone), with
    // the value closest to meeting it.
    const closest = (c: Constraint) => {
      const seen = metrics.map((r) => r[c.metric]).filter((v) => v !== undefined && Number.isFinite(v));
      if (seen.length === 0) return `no trial reported ${c.metric}`;
      const v = c.op === '<=' || c.op === '<' ? Math.min(...seen) : Math.max(...seen);
      return `the ${c.op === '<=' || c.op === '<' ? 'lowest' : 'highest'} ${c.metric} seen is ${fmt(v)}`;
    };
    const alone = parsed.constraints.filter((c) => metrics.every((r) => violation(c, r) > 0));
    const blame = alone.length ? alone : parsed.constraints;
    const what = blame.length === 1 && parsed.constraints.length === 1 ? `"${blame[0].text}"` : alone.length ? blame.map((c) => `"${c.text}"`).join(', ') : `all of ${blame.map((c) => `"${c.text}"`).join(', ')} at once`;
    throw new UserError(`no trial satisfies ${what} (of ${valid.length}): ${blame.map(closest).join('; ')}`);
  }
  const i = bestOn(points, feasible, objectives, parsed.primary);
  const k = objectives.findIndex((o) => o.name === parsed.primary);
  return done(i, `best ${parsed.primary} (${fmt(points[i].values[k])}) of ${feasible.length} trials with ${parsed.constraints.map((c) => c.text).join(', ')}`);
}
