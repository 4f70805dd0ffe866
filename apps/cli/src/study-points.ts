import { constraintsOf, isFeasible, type Constraint, type StudyRecord, type Trial } from '@segtune/core';

/** A complete trial as a point to pick from or plot: values in objective order plus metrics. */
export interface TrialPoint {
  trial: Trial;
  values: number[];
  metrics: Record<string, number>;
}

/**
 * The complete trials of a study as points; with constraints, only feasible ones when any is
 * feasible (the same rule as the summary's best trials).
 */
export function studyPoints(record: StudyRecord, trials: readonly Trial[], constraints: Constraint[] = constraintsOf(record)): TrialPoint[] {
  const complete = trials.filter((t) => t.state === 'complete' && t.values && t.values.length === record.objectives.length);
  const feasible = complete.filter((t) => isFeasible(constraints, t));
  const chosen = constraints.length && feasible.length ? feasible : complete;
  return chosen.map((t) => ({ trial: t, values: t.values!, metrics: { ...t.metrics, ...Object.fromEntries(record.objectives.map((o, i) => [o.name, t.values![i]])) } }));
}
