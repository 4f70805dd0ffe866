import { Rng, UserError, type Objective } from '@segtune/core';
import type { Space } from '@segtune/space';
import { fanovaPerTree, type FanovaOptions } from './fanova';
import { importanceData, targetName, type ImportanceTarget, type ImportanceTrial } from './importance-data';
import { pedAnova, type PedAnovaOptions } from './ped-anova';

export const IMPORTANCE_METHODS = ['ped-anova', 'fanova'] as const;
export type ImportanceMethod = (typeof IMPORTANCE_METHODS)[number];

export interface ImportanceOptions {
  method?: ImportanceMethod;
  /** Bootstrap resamples for the interval (default 30 for PED-ANOVA, 200 tree resamples for fANOVA). */
  resamples?: number;
  /** Interval coverage (default 0.9: the 5th and 95th percentiles). */
  coverage?: number;
  seed?: number;
  pedAnova?: PedAnovaOptions;
  fanova?: Omit<FanovaOptions, 'seed'>;
}

export interface ParamImportance {
  name: string;
  /** Share of the total importance (all params sum to 1), from all trials. */
  importance: number;
  /** Median over the bootstrap resamples. */
  median: number;
  /** The interval's ends: percentiles of the resamples, `coverage` apart, shifted by the resampling bias (median - importance), so they hold `importance`. */
  low: number;
  high: number;
}

export interface ImportanceResult {
  method: ImportanceMethod;
  target: string;
  /** Complete trials it was computed from. */
  trials: number;
  resamples: number;
  coverage: number;
  /** Sorted by importance, most important first. */
  params: ParamImportance[];
}

/**
 * Each param's importance for one target, with a bootstrap interval, normalised to sum to 1
 * as Optuna's get_param_importances does.
 *
 * PED-ANOVA's interval resamples the trials with replacement `resamples` times and recomputes.
 * fANOVA's forest already grows every tree on a bootstrap resample of the trials, so its
 * interval resamples the trees (the figure is their mean): it costs nothing beyond the forest,
 * where refitting 64 trees 30 times would take minutes at 10,000 trials.
 */
export function paramImportance(space: Space, objectives: readonly Objective[], trials: readonly ImportanceTrial[], target: ImportanceTarget, options: ImportanceOptions = {}): ImportanceResult {
  const method = options.method ?? 'ped-anova';
  if (!IMPORTANCE_METHODS.includes(method)) throw new UserError(`--method: "${method}" is not allowed; allowed: ${IMPORTANCE_METHODS.join(', ')}`);
  const coverage = options.coverage ?? 0.9;
  const seed = options.seed ?? 0;
  const data = importanceData(space, objectives, trials, target);
  const d = data.names.length;
  const n = data.loss.length;
  let point: Float64Array;
  let samples: Float64Array[];
  let resamples: number;
  if (method === 'ped-anova') {
    resamples = options.resamples ?? 30;
    const all = new Int32Array(n).map((_, i) => i);
    point = normalise(pedAnova(data, all, options.pedAnova));
    const rng = new Rng(`ped-anova/${seed}`);
    samples = [];
    for (let b = 0; b < resamples; b++) {
      const rows = new Int32Array(n);
      for (let i = 0; i < n; i++) rows[i] = rng.int(n);
      samples.push(normalise(pedAnova(data, rows, options.pedAnova)));
    }
  } else {
    resamples = options.resamples ?? 200;
    const { perTree, trees } = fanovaPerTree(data, { ...options.fanova, seed });
    const usable = [...Array(trees).keys()].filter((t) => !Number.isNaN(perTree[t * d]));
    point = normalise(treeMean(perTree, d, usable));
    const rng = new Rng(`fanova-resample/${seed}`);
    samples = [];
    for (let b = 0; b < resamples; b++) samples.push(normalise(treeMean(perTree, d, usable.map(() => usable[rng.int(usable.length)]))));
  }
  const params = data.names.map((name, j) => {
    const s = Float64Array.from(samples, (v) => v[j]).sort();
    const median = percentile(s, 0.5);
    // Resampling repeats trials, which inflates a divergence (and so shrinks the others' shares):
    // the percentiles are shifted by that bias (median - figure), so the interval is centred on
    // the figure from all trials and always holds it.
    const bias = median - point[j];
    const low = Math.max(0, percentile(s, (1 - coverage) / 2) - bias);
    const high = Math.min(1, percentile(s, 1 - (1 - coverage) / 2) - bias);
    return { name, importance: point[j], median, low: Math.min(low, point[j]), high: Math.max(high, point[j]) };
  });
  params.sort((a, b) => b.importance - a.importance || a.name.localeCompare(b.name));
  return { method, target: targetName(target), trials: n, resamples, coverage, params };
}

function treeMean(perTree: Float64Array, d: number, trees: number[]): Float64Array {
  const out = new Float64Array(d);
  if (!trees.length) return out;
  for (const t of trees) for (let j = 0; j < d; j++) out[j] += perTree[t * d + j];
  for (let j = 0; j < d; j++) out[j] /= trees.length;
  return out;
}

function normalise(v: Float64Array): Float64Array {
  let s = 0;
  for (const x of v) s += x;
  return s > 0 ? v.map((x) => x / s) : v.map(() => 0);
}

/** Linear interpolation between order statistics (numpy's default). */
function percentile(sorted: Float64Array, q: number): number {
  if (!sorted.length) return NaN;
  const h = (sorted.length - 1) * q;
  const i = Math.floor(h);
  return i + 1 < sorted.length ? sorted[i] + (h - i) * (sorted[i + 1] - sorted[i]) : sorted[i];
}


