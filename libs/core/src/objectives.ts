import type { Objective } from '@segtune/space';
import type { MetricValues, Trial } from './trial';

export type { Objective };

export interface Constraint {
  metric: string;
  op: '<=' | '>=' | '<' | '>';
  bound: number;
  /** The text it was parsed from, for messages. */
  text: string;
}

/** Parses `latency_ms <= 8`. Returns undefined when malformed. */
export function parseConstraint(text: string): Constraint | undefined {
  const m = /^\s*([A-Za-z_][A-Za-z0-9_.\-]*)\s*(<=|>=|<|>)\s*(-?[0-9]*\.?[0-9]+(?:e-?[0-9]+)?)\s*$/i.exec(text);
  if (!m) return undefined;
  return { metric: m[1], op: m[2] as Constraint['op'], bound: Number(m[3]), text: text.trim() };
}

/**
 * How far a metric set violates a constraint: 0 when satisfied, positive otherwise (Optuna's
 * convention for constraints_func, so samplers can rank infeasible trials by violation).
 */
export function violation(c: Constraint, metrics: MetricValues | undefined): number {
  const v = metrics?.[c.metric];
  if (v === undefined || !Number.isFinite(v)) return Infinity;
  switch (c.op) {
    case '<=':
      return Math.max(0, v - c.bound);
    case '<':
      return v < c.bound ? 0 : v - c.bound + Number.EPSILON;
    case '>=':
      return Math.max(0, c.bound - v);
    case '>':
      return v > c.bound ? 0 : c.bound - v + Number.EPSILON;
  }
}

export function totalViolation(constraints: readonly Constraint[], metrics: MetricValues | undefined): number {
  let s = 0;
  for (const c of constraints) s += violation(c, metrics);
  return s;
}

export function isFeasible(constraints: readonly Constraint[], trial: Pick<Trial, 'metrics' | 'attrs'>): boolean {
  if (trial.attrs?.reason === 'oom') return false;
  return totalViolation(constraints, trial.metrics) === 0;
}

/** Objective values turned into losses (smaller is better), the form samplers work in. */
export function toLosses(objectives: readonly Objective[], values: readonly number[]): number[] {
  return objectives.map((o, i) => (o.direction === 'maximize' ? -values[i] : values[i]));
}

/** Whether `a` is better than `b` on a single objective. */
export function isBetter(direction: Objective['direction'], a: number, b: number): boolean {
  return direction === 'maximize' ? a > b : a < b;
}

/** True when loss vector `a` Pareto-dominates `b` (no worse everywhere, better somewhere). */
export function dominates(a: readonly number[], b: readonly number[]): boolean {
  let better = false;
  for (let i = 0; i < a.length; i++) {
    if (a[i] > b[i]) return false;
    if (a[i] < b[i]) better = true;
  }
  return better;
}

/**
 * The best complete trial for one objective, or the Pareto-optimal complete trials for several
 * (feasible ones only when constraints are given and any trial is feasible). A simple O(n²)
 * filter: @segtune/pareto has the fast sorts for large fronts.
 */
export function bestTrials(objectives: readonly Objective[], trials: readonly Trial[], constraints: readonly Constraint[] = []): Trial[] {
  let done = trials.filter((t) => t.state === 'complete' && t.values);
  const feasible = done.filter((t) => isFeasible(constraints, t));
  if (constraints.length && feasible.length) done = feasible;
  if (done.length === 0) return [];
  if (objectives.length === 1) {
    const dir = objectives[0].direction;
    let best = done[0];
    for (const t of done) if (isBetter(dir, t.values![0], best.values![0])) best = t;
    return [best];
  }
  const losses = done.map((t) => toLosses(objectives, t.values!));
  return done.filter((_, i) => !losses.some((l, j) => j !== i && dominates(l, losses[i])));
}
