import type { Objective } from '@segtune/core';
import type { Space } from '@segtune/space';
import { importanceData, type ImportanceTarget, type ImportanceTrial } from './importance-data';

export interface ContourGrid {
  x: string;
  y: string;
  bins: number;
  /** cells[row][col]: the mean target (as a loss: smaller is better) of the trials in that cell, null where none fell. Row 0 is the bottom of the y param's range. */
  cells: (number | null)[][];
}

/**
 * The target over two params, binned on their unit-cube coordinates (trials where either is
 * inactive are left out): what a contour view of the two most important params draws.
 */
export function contourGrid(space: Space, objectives: readonly Objective[], trials: readonly ImportanceTrial[], target: ImportanceTarget, x: string, y: string, bins = 12): ContourGrid {
  const data = importanceData(space, objectives, trials, target);
  const cx = data.columns[space.indexOf(x)];
  const cy = data.columns[space.indexOf(y)];
  const sum = new Float64Array(bins * bins);
  const count = new Float64Array(bins * bins);
  for (let i = 0; i < data.loss.length; i++) {
    if (Number.isNaN(cx[i]) || Number.isNaN(cy[i])) continue;
    const c = Math.min(bins - 1, Math.floor(cx[i] * bins));
    const r = Math.min(bins - 1, Math.floor(cy[i] * bins));
    sum[r * bins + c] += data.loss[i];
    count[r * bins + c] += 1;
  }
  const cells = Array.from({ length: bins }, (_, r) => Array.from({ length: bins }, (_, c) => (count[r * bins + c] ? sum[r * bins + c] / count[r * bins + c] : null)));
  return { x, y, bins, cells };
}
