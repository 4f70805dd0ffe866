import type { ImportanceData } from './importance-data';

export interface PedAnovaOptions {
  /** Share of the trials, best first, that form the "good" set (Optuna's target_quantile). */
  quantile?: number;
  /** Grid points per continuous param (Optuna's n_steps). */
  steps?: number;
  /** Weight of the uniform prior added to every density, in trials (Optuna's prior_weight). */
  priorWeight?: number;
}

const DEFAULTS = { quantile: 0.1, steps: 50, priorWeight: 1 };

/**
 * PED-ANOVA (Watanabe et al., IJCAI 2023), the estimator behind Optuna's
 * PedAnovaImportanceEvaluator: a param matters as much as the distribution of its values among
 * the best `quantile` of the trials differs from its distribution among all trials, measured by
 * the Pearson divergence ∫ p_all (p_top / p_all - 1)². Densities live on a grid over the unit
 * cube: a continuous param gets a Gaussian Parzen estimate (Scott's bandwidth) over `steps`
 * cells, a discrete one (categorical, int, stepped float) its cells' frequencies; both with a
 * uniform prior. A conditional param gets one more cell, "inactive", whose mass is the share of
 * trials without it, so a param that matters by being switched on or off is seen too.
 *
 * `rows` picks the trials (with repeats, for a bootstrap resample). Returns the raw divergence
 * per param.
 */
export function pedAnova(data: ImportanceData, rows: Int32Array, options: PedAnovaOptions = {}): Float64Array {
  const { quantile, steps, priorWeight } = { ...DEFAULTS, ...options };
  const n = rows.length;
  const losses = new Float64Array(n);
  for (let i = 0; i < n; i++) losses[i] = data.loss[rows[i]];
  const sorted = losses.slice().sort();
  // At least two trials in the good set, as Optuna's min_n_top_trials; ties at the cut-off join it.
  const k = Math.min(n, Math.max(2, Math.ceil(quantile * n)));
  const cutoff = sorted[k - 1];
  const top = new Uint8Array(n);
  for (let i = 0; i < n; i++) top[i] = losses[i] <= cutoff ? 1 : 0;

  const out = new Float64Array(data.names.length);
  for (let j = 0; j < data.names.length; j++) {
    const col = data.columns[j];
    const discrete = Number.isFinite(data.cells[j]) && data.cells[j] <= steps;
    const bins = discrete ? data.cells[j] : steps;
    // Cell counts; the last cell is "inactive".
    const all = new Float64Array(bins + 1);
    const good = new Float64Array(bins + 1);
    for (let i = 0; i < n; i++) {
      const u = col[rows[i]];
      const c = Number.isNaN(u) ? bins : Math.min(bins - 1, Math.max(0, Math.floor(u * bins)));
      all[c] += 1;
      if (top[i]) good[c] += 1;
    }
    const hasInactive = all[bins] > 0;
    const pAll = density(all, bins, discrete, priorWeight, hasInactive);
    const pGood = density(good, bins, discrete, priorWeight, hasInactive);
    let d = 0;
    for (let c = 0; c < pAll.length; c++) {
      if (pAll[c] <= 0) continue;
      const r = pGood[c] / pAll[c] - 1;
      d += pAll[c] * r * r;
    }
    out[j] = d;
  }
  return out;
}

/**
 * A probability per cell (the inactive cell last, when there is one): Parzen-smoothed counts
 * for a continuous param, plain counts for a discrete one, each mixed with a uniform prior of
 * `priorWeight` trials.
 */
function density(counts: Float64Array, bins: number, discrete: boolean, priorWeight: number, hasInactive: boolean): Float64Array {
  const cells = hasInactive ? bins + 1 : bins;
  const p = new Float64Array(cells);
  let active = 0;
  for (let c = 0; c < bins; c++) active += counts[c];
  const inactive = counts[bins];
  const total = active + inactive;
  if (active > 0) {
    if (discrete) {
      for (let c = 0; c < bins; c++) p[c] = counts[c] / active;
    } else {
      // Scott's rule on the binned values (cell centres), in cells; at least one cell wide.
      let mean = 0;
      for (let c = 0; c < bins; c++) mean += counts[c] * c;
      mean /= active;
      let v = 0;
      for (let c = 0; c < bins; c++) v += counts[c] * (c - mean) ** 2;
      const sd = Math.sqrt(v / active);
      const h = Math.max(1, 1.059 * sd * active ** -0.2);
      const inv = 1 / (2 * h * h);
      let z = 0;
      for (let g = 0; g < bins; g++) {
        let s = 0;
        for (let c = 0; c < bins; c++) if (counts[c] > 0) s += counts[c] * Math.exp(-((g - c) ** 2) * inv);
        p[g] = s;
        z += s;
      }
      for (let g = 0; g < bins; g++) p[g] /= z;
    }
  }
  // Mix with the prior: uniform over the active cells, and the inactive cell as one more.
  const share = hasInactive ? (active + priorWeight / 2) / (total + priorWeight) : 1;
  const w = active / (active + priorWeight);
  for (let c = 0; c < bins; c++) p[c] = share * (w * p[c] + (1 - w) / bins);
  if (hasInactive) p[bins] = 1 - share;
  return p;
}
