import { UserError, type Objective } from '@segtune/core';
import { didYouMean, type Params, type Space } from '@segtune/space';
import { frontRanks, lossVector } from '@segtune/pareto';

/** A complete trial as importance sees it: its params and one value per objective. */
export interface ImportanceTrial {
  params: Params;
  values: readonly number[];
}

/** What an importance is measured against: one objective, or being on the Pareto front. */
export type ImportanceTarget = { kind: 'objective'; name: string; index: number } | { kind: 'pareto' };

/** The name that selects the Pareto-front target. */
export const PARETO_TARGET = 'pareto';

/** The fewest complete trials an importance is computed from. */
export const MIN_TRIALS = 8;

/**
 * Trials as columns: one Float64Array per param with its unit-cube coordinate (NaN where the
 * param is inactive in that trial), and the target as a loss (smaller is better).
 */
export interface ImportanceData {
  names: string[];
  columns: Float64Array[];
  /** Grid cells of a discrete param (categorical, int, stepped float), Infinity for a continuous one. */
  cells: number[];
  loss: Float64Array;
}

/** Every target a study has: each objective, and the Pareto front when there are several. */
export function studyTargets(objectives: readonly Objective[]): ImportanceTarget[] {
  const out: ImportanceTarget[] = objectives.map((o, index) => ({ kind: 'objective', name: o.name, index }));
  if (objectives.length >= 2) out.push({ kind: 'pareto' });
  return out;
}

/** The target named `name` (an objective, or `pareto`); a UserError naming the allowed ones otherwise. */
export function resolveTarget(objectives: readonly Objective[], name: string, flag = '--objective'): ImportanceTarget {
  const index = objectives.findIndex((o) => o.name === name);
  if (index >= 0) return { kind: 'objective', name, index };
  const allowed = objectives.map((o) => o.name);
  if (objectives.length >= 2) {
    if (name === PARETO_TARGET) return { kind: 'pareto' };
    allowed.push(PARETO_TARGET);
  }
  throw new UserError(`${flag}: no objective named "${name}"${didYouMean(name, allowed)}; allowed: ${allowed.join(', ')}`);
}

export const targetName = (t: ImportanceTarget) => (t.kind === 'pareto' ? PARETO_TARGET : t.name);

/**
 * The trials as columns. Only trials with a finite value for every objective count; the target
 * of the Pareto front is the non-dominated rank (0 on the front, 1 on the next front, …), a loss
 * like any objective, so "important for the front" means "moves a trial between fronts".
 */
export function importanceData(space: Space, objectives: readonly Objective[], trials: readonly ImportanceTrial[], target: ImportanceTarget): ImportanceData {
  const usable = trials.filter((t) => t.values.length === objectives.length && t.values.every((v) => Number.isFinite(v)));
  if (usable.length < MIN_TRIALS) {
    throw new UserError(`importance needs at least ${MIN_TRIALS} complete trials with finite values; the study has ${usable.length}`);
  }
  const n = usable.length;
  const names = space.names;
  const columns = names.map(() => new Float64Array(n));
  usable.forEach((t, i) => {
    const u = space.encode(t.params);
    for (let j = 0; j < names.length; j++) columns[j][i] = u[j];
  });
  const loss = new Float64Array(n);
  if (target.kind === 'objective') {
    const sign = objectives[target.index].direction === 'maximize' ? -1 : 1;
    usable.forEach((t, i) => (loss[i] = sign * t.values[target.index]));
  } else {
    const ranks = frontRanks(usable.map((t) => lossVector(objectives as Objective[], t.values as number[])));
    ranks.forEach((r, i) => (loss[i] = r));
  }
  return { names, columns, cells: space.params.map((p) => space.cardinality(p)), loss };
}
