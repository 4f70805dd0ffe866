import type { Objective } from '@segtune/core';
import { hypervolume, defaultReferencePoint } from './hypervolume';
import { kneeIndex } from './knee';
import { frontRanks } from './nondominated-sort';
import type { PickPoint } from './pick';

export interface ParetoSummary {
  /** Front rank per point (0 = Pareto-optimal); -1 for points without finite values. */
  ranks: number[];
  /** Indices of the Pareto-optimal points, ascending. */
  front: number[];
  /** Reference point in loss space (maximised objectives negated). */
  reference: number[];
  /** Hypervolume of the front against `reference`, in loss space. */
  hypervolume: number;
  /** Index of the knee point (the best point for one objective); -1 when there are no points. */
  knee: number;
}

/** Objective values as losses: maximised objectives negated, so that smaller is better everywhere. */
export function lossVector(objectives: readonly Objective[], values: readonly number[]): number[] {
  return objectives.map((o, i) => (o.direction === 'maximize' ? -values[i] : values[i]));
}

/**
 * Everything a front view needs in one pass: ranks, the front, its hypervolume and the knee.
 * `reference` is in loss space; without one, defaultReferencePoint over the valid points.
 * This is what the dashboard's study page and `segtune pareto` compute, and what the dashboard
 * benchmark times.
 */
export function paretoSummary(points: readonly PickPoint[], objectives: readonly Objective[], options: { reference?: readonly number[] } = {}): ParetoSummary {
  const valid: number[] = [];
  const losses: number[][] = [];
  points.forEach((p, i) => {
    if (p.values.length === objectives.length && p.values.every((v) => Number.isFinite(v))) {
      valid.push(i);
      losses.push(lossVector(objectives, p.values));
    }
  });
  const ranks = new Array<number>(points.length).fill(-1);
  if (valid.length === 0) return { ranks, front: [], reference: options.reference?.slice() ?? [], hypervolume: 0, knee: -1 };
  const r = frontRanks(losses);
  r.forEach((rank, k) => {
    ranks[valid[k]] = rank;
  });
  const frontK = r.flatMap((rank, k) => (rank === 0 ? [k] : []));
  const reference = options.reference ? options.reference.slice() : defaultReferencePoint(losses);
  return {
    ranks,
    front: frontK.map((k) => valid[k]),
    reference,
    hypervolume: hypervolume(frontK.map((k) => losses[k]), reference),
    knee: valid[kneeIndex(losses)],
  };
}
