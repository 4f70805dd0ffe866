import { isFeasible, toLosses, totalViolation, type SamplerContext, type Trial } from '@segtune/core';
import type { Space } from '@segtune/space';

export type ObservationKind = 'complete' | 'pruned' | 'infeasible' | 'running';

/** A finished or running trial as the model-based samplers see it. */
export interface Observation {
  trial: Trial;
  /** Encoded point in [0,1]^d, NaN where the param is inactive. */
  point: number[];
  kind: ObservationKind;
  /** Losses (smaller is better) in objective order, for complete trials (infeasible ones too when they have values). */
  losses?: number[];
  /** Total constraint violation; 0 when feasible, Infinity for out-of-memory failures. */
  violation: number;
  /** For pruned trials: the last reported step and the first objective's loss there. */
  prunedStep?: number;
  prunedLoss?: number;
}

// Encoding is pure, so memoising it per (space, trial object) changes no result; it only spares
// re-encoding thousands of trials on every suggestion.
const encoded = new WeakMap<Space, WeakMap<Trial, number[] | null>>();

export function encodeTrial(space: Space, trial: Trial): number[] | null {
  let bySpace = encoded.get(space);
  if (!bySpace) encoded.set(space, (bySpace = new WeakMap()));
  let p = bySpace.get(trial);
  if (p === undefined) {
    try {
      p = space.encode(trial.params);
    } catch {
      p = null; // a configuration outside the current space (edited space file): not evidence
    }
    bySpace.set(trial, p);
  }
  return p;
}

/**
 * The history (and, with `running`, the trials in flight) as observations. Failed trials count
 * only when they ran out of memory: that is a constraint violation (too large a model), which
 * samplers must learn to avoid; other failures say nothing about the objective.
 */
export function observe(ctx: SamplerContext, running: boolean): Observation[] {
  const out: Observation[] = [];
  const first = ctx.objectives[0];
  for (const trial of ctx.history) {
    const point = encodeTrial(ctx.space, trial);
    if (!point) continue;
    if (trial.state === 'failed') {
      if (trial.attrs?.reason === 'oom') out.push({ trial, point, kind: 'infeasible', violation: Infinity });
      continue;
    }
    if (trial.state === 'complete') {
      if (!trial.values || trial.values.length !== ctx.objectives.length || !trial.values.every(Number.isFinite)) continue;
      const losses = toLosses(ctx.objectives, trial.values);
      if (ctx.constraints.length && !isFeasible(ctx.constraints, trial)) {
        out.push({ trial, point, kind: 'infeasible', losses, violation: Math.max(totalViolation(ctx.constraints, trial.metrics), Number.MIN_VALUE) });
      } else out.push({ trial, point, kind: 'complete', losses, violation: 0 });
      continue;
    }
    if (trial.state === 'pruned') {
      let step: number | undefined;
      let loss: number | undefined;
      for (const key of Object.keys(trial.intermediate)) {
        const s = Number(key);
        const v = trial.intermediate[s]?.[first.name];
        if (v === undefined || !Number.isFinite(v)) continue;
        if (step === undefined || s > step) {
          step = s;
          loss = first.direction === 'maximize' ? -v : v;
        }
      }
      out.push({ trial, point, kind: 'pruned', violation: 0, prunedStep: step, prunedLoss: loss });
    }
  }
  if (running) {
    for (const trial of ctx.running) {
      const point = encodeTrial(ctx.space, trial);
      if (point) out.push({ trial, point, kind: 'running', violation: 0 });
    }
  }
  return out;
}

/** Stable key of a configuration, for duplicate checks. */
export function paramsKey(params: Record<string, unknown>): string {
  return JSON.stringify(Object.keys(params).sort().map((k) => [k, params[k]]));
}
