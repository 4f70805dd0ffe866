import { Rng, type Constraint, type Objective, type Sampler, type Trial } from '@segtune/core';
import type { Params, Space } from '@segtune/space';

type Evaluation = number[] | { values: number[]; metrics?: Record<string, number> };

/** One finished evaluation of a driven loop. */
export interface DriveResult {
  trials: Trial[];
  /** Seconds spent inside `suggest`, summed. */
  suggestSeconds: number;
}

/**
 * Runs a sampler sequentially against a function with no storage: the same ask/tell protocol a
 * study follows (finished history oldest first, per-trial rng derived from the seed and the trial
 * number). Tests and the sampler benchmark use it.
 */
export async function driveSampler(
  sampler: Sampler,
  space: Space,
  objectives: readonly Objective[],
  evaluate: (params: Params) => Evaluation | Promise<Evaluation>,
  trials: number,
  seed: number,
  constraints: readonly Constraint[] = [],
): Promise<DriveResult> {
  const history: Trial[] = [];
  let suggestSeconds = 0;
  for (let n = 0; n < trials; n++) {
    const t0 = performance.now();
    const params = await sampler.suggest({ space, objectives, constraints, history, running: [], rng: Rng.derive(seed, 'trial', n), trialNumber: n, seed });
    suggestSeconds += (performance.now() - t0) / 1000;
    const out = await evaluate(params);
    const values = Array.isArray(out) ? out : out.values;
    const metrics = Array.isArray(out) ? undefined : out.metrics;
    history.push(fakeTrial(n, params, values, objectives, metrics));
  }
  return { trials: history, suggestSeconds };
}

/** A complete trial as storage would hand it to a sampler. */
export function fakeTrial(
  n: number,
  params: Params,
  values: number[] | undefined,
  objectives: readonly Objective[],
  metrics?: Record<string, number>,
  state: Trial['state'] = 'complete',
): Trial {
  const m: Record<string, number> = { ...(metrics ?? {}) };
  if (values) objectives.forEach((o, i) => (m[o.name] = values[i]));
  return { id: n + 1, studyId: 1, number: n, state, params, values, metrics: m, intermediate: {}, attrs: {}, createdAt: 0, seq: n + 1 };
}
