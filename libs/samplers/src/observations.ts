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
  /** Set where observations are made: whether every param is active (no NaN in `point`). */
  full?: boolean;
}

/** An observation with every field in place, so every observation has one shape. */
function observation(x: Omit<Observation, 'full'>): Observation {
  return {
    trial: x.trial,
    point: x.point,
    kind: x.kind,
    losses: x.losses,
    violation: x.violation,
    prunedStep: x.prunedStep,
    prunedLoss: x.prunedLoss,
    full: !x.point.some(Number.isNaN),
  };
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
  const history = ctx.history;
  // The last history observed, by position: a study's next history holds the same trial objects
  // at the same positions (finished trials come in number order, so one that finishes out of
  // order shifts only the few after it), and a position check is much cheaper than the
  // per-trial WeakMap lookup it replaces at thousands of trials.
  const memo = lastObserved && lastObserved.ctx.space === ctx.space && lastObserved.ctx.objectives === ctx.objectives && sameConstraints(lastObserved.ctx.constraints, ctx.constraints) ? lastObserved : undefined;
  const trials = new Array<Trial>(history.length);
  const records = new Array<CachedObservation>(history.length);
  for (let i = 0; i < history.length; i++) {
    const trial = history[i];
    let c = memo && memo.trials[i] === trial ? memo.records[i] : undefined;
    if (!c || !unchanged(c, trial)) c = observedRecord(ctx, trial);
    trials[i] = trial;
    records[i] = c;
    if (c.obs) out.push(c.obs);
  }
  lastObserved = { ctx: { space: ctx.space, objectives: ctx.objectives, constraints: ctx.constraints }, trials, records };
  if (running) {
    for (const trial of ctx.running) {
      const x = observeRunning(ctx.space, trial);
      if (x) out.push(x);
    }
  }
  return out;
}

/**
 * The warm-start prior (`ctx.prior`) as observations: complete (or infeasible) trials of earlier
 * studies in this space. Empty without a prior.
 */
export function observePrior(ctx: SamplerContext): Observation[] {
  const out: Observation[] = [];
  for (const trial of ctx.prior ?? []) {
    const x = observeFinished(ctx, trial);
    if (x) out.push(x);
  }
  return out;
}

// A running trial's observation is kept per trial object too (its params are fixed once it
// runs), so consecutive suggestions see the same object and TPE's sorted columns need not
// re-insert it.
const runningObserved = new WeakMap<Space, WeakMap<Trial, Observation | null>>();

function observeRunning(space: Space, trial: Trial): Observation | undefined {
  let bySpace = runningObserved.get(space);
  if (!bySpace) runningObserved.set(space, (bySpace = new WeakMap()));
  let x = bySpace.get(trial);
  if (x === undefined) {
    const point = encodeTrial(space, trial);
    x = point ? observation({ trial, point, kind: 'running', violation: 0 }) : null;
    bySpace.set(trial, x);
  }
  return x ?? undefined;
}

interface CachedObservation {
  ctx: Pick<SamplerContext, 'space' | 'objectives' | 'constraints'>;
  state: Trial['state'];
  values: Trial['values'];
  metrics: Trial['metrics'];
  intermediate: Trial['intermediate'];
  obs: Observation | undefined;
}

// A finished trial's observation is a pure function of the trial, the space, the objectives and
// the constraints, so it is kept per trial object and reused while those are the same objects:
// a study hands the same finished trials to every suggestion, and rebuilding thousands of them
// each time was a large share of a TPE suggestion.
const observed = new WeakMap<Trial, CachedObservation>();

let lastObserved: { ctx: CachedObservation['ctx']; trials: Trial[]; records: CachedObservation[] } | undefined;

/** Whether the trial still has the fields its cached observation was made from. */
function unchanged(c: CachedObservation, trial: Trial): boolean {
  return c.state === trial.state && c.values === trial.values && c.metrics === trial.metrics && c.intermediate === trial.intermediate;
}

function observedRecord(ctx: SamplerContext, trial: Trial): CachedObservation {
  const c = observed.get(trial);
  if (c && c.ctx.space === ctx.space && c.ctx.objectives === ctx.objectives && sameConstraints(c.ctx.constraints, ctx.constraints) && unchanged(c, trial)) return c;
  const record: CachedObservation = { ctx: { space: ctx.space, objectives: ctx.objectives, constraints: ctx.constraints }, state: trial.state, values: trial.values, metrics: trial.metrics, intermediate: trial.intermediate, obs: observeUncached(ctx, trial) };
  observed.set(trial, record);
  return record;
}

function observeFinished(ctx: SamplerContext, trial: Trial): Observation | undefined {
  return observedRecord(ctx, trial).obs;
}

/** The same constraints object, or both none (a caller may pass a fresh `[]` on every call). */
function sameConstraints(a: SamplerContext['constraints'], b: SamplerContext['constraints']): boolean {
  return a === b || (a.length === 0 && b.length === 0);
}

function observeUncached(ctx: SamplerContext, trial: Trial): Observation | undefined {
  const first = ctx.objectives[0];
  {
    const point = encodeTrial(ctx.space, trial);
    if (!point) return undefined;
    if (trial.state === 'failed') {
      if (trial.attrs?.reason === 'oom') return observation({ trial, point, kind: 'infeasible', violation: Infinity });
      return undefined;
    }
    if (trial.state === 'complete') {
      if (!trial.values || trial.values.length !== ctx.objectives.length || !trial.values.every(Number.isFinite)) return undefined;
      const losses = toLosses(ctx.objectives, trial.values);
      if (ctx.constraints.length && !isFeasible(ctx.constraints, trial)) {
        return observation({ trial, point, kind: 'infeasible', losses, violation: Math.max(totalViolation(ctx.constraints, trial.metrics), Number.MIN_VALUE) });
      }
      return observation({ trial, point, kind: 'complete', losses, violation: 0 });
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
      return observation({ trial, point, kind: 'pruned', violation: 0, prunedStep: step, prunedLoss: loss });
    }
    return undefined;
  }
}

/** Stable key of a configuration, for duplicate checks. */
export function paramsKey(params: Record<string, unknown>): string {
  return JSON.stringify(Object.keys(params).sort().map((k) => [k, params[k]]));
}
