import { setTimeout as wait } from 'node:timers/promises';
import { Rng, type MetricValues, type Workload, type WorkloadContext } from '@segtune/core';
import type { Budget, ParamSpec, Params } from '@segtune/space';
import { getBenchmark, type BenchmarkFunction } from './functions';

export interface BenchmarkWorkloadSpec {
  kind: 'benchmark';
  /** A registry name, optionally with options: `branin`, `rosenbrock(d=8)`, `dtlz2(d=7, m=4)`. */
  function: string;
  /** Standard deviation of Gaussian noise added to every objective (absolute units); 0 by default. */
  noise?: number;
  /** Real seconds to wait per reported step (or once, without a budget); 0 by default. */
  step_seconds?: number;
}

/** The most intermediate reports one trial makes, so that large budgets stay cheap. */
const MAX_STEPS = 50;

/**
 * The steps at which a trial reports: every integer from max(1, ceil(min)) to floor(max) when
 * there are at most MAX_STEPS of them, else MAX_STEPS steps spread geometrically (schedulers'
 * rungs are geometric too), always ending at max.
 */
export function benchmarkSteps(budget: Budget): number[] {
  const lo = Math.max(1, Math.ceil(budget.min));
  const hi = Math.max(lo, Math.floor(budget.max));
  if (hi - lo + 1 <= MAX_STEPS) return Array.from({ length: hi - lo + 1 }, (_, i) => lo + i);
  const steps = new Set<number>();
  for (let i = 0; i < MAX_STEPS; i++) steps.add(Math.round(lo * (hi / lo) ** (i / (MAX_STEPS - 1))));
  steps.add(hi);
  return [...steps].sort((a, b) => a - b);
}

/** A stable text for params (sorted keys), so the noise depends on the values, not on key order. */
function paramsKey(params: Params): string {
  return Object.keys(params)
    .sort()
    .map((k) => `${k}=${String(params[k])}`)
    .join('&');
}

/** Waits `seconds`, rejecting with the signal's reason (not an AbortError) as soon as it aborts. */
export async function sleep(seconds: number, signal: AbortSignal): Promise<void> {
  if (seconds <= 0) return;
  await wait(seconds * 1000, undefined, { signal }).catch(() => {
    throw signal.reason ?? new Error('aborted');
  });
}

/** The reference an objective's intermediate curve is measured from: the optimum, or the front's ideal point. */
function referenceValues(fn: BenchmarkFunction): number[] {
  return fn.kind === 'single' ? [fn.optimum.value] : fn.optimum.ideal;
}

/**
 * A workload that evaluates an analytic benchmark function. Metrics are keyed by objective name:
 * `value` for single-objective functions, `f1`, `f2` (, `f3`…) for multi-objective ones.
 *
 * With a budget, the trial reports a curve that approaches its final value: at step s of max,
 * v(s) = final + w·(1 − s/max), with w = u·(1 + |final − best|) per objective, u in [0.5, 1.5)
 * drawn per trial. Worse configurations start further away, so early steps rank trials roughly
 * as the final values do, which gives schedulers something to act on. Everything random
 * (u and the noise) comes from a generator seeded by ctx.seed and the params, so a trial is
 * reproducible.
 */
export function benchmarkWorkload(spec: BenchmarkWorkloadSpec): Workload {
  const fn = getBenchmark(spec.function);
  const noise = spec.noise ?? 0;
  const stepSeconds = spec.step_seconds ?? 0;
  const names = fn.objectives.map((o) => o.name);
  const reference = referenceValues(fn);

  return async (params: Params, ctx: WorkloadContext): Promise<MetricValues> => {
    const exact = fn.evaluate(params);
    const rng = new Rng(`${ctx.seed}/benchmark/${fn.name}/${paramsKey(params)}`);
    const noisy = (v: number) => (noise > 0 ? v + noise * rng.normal() : v);
    const metrics = (vs: number[]): MetricValues => Object.fromEntries(names.map((n, i) => [n, vs[i]]));

    if (ctx.budget) {
      const steps = benchmarkSteps(ctx.budget);
      const max = steps[steps.length - 1];
      const widths = exact.map((v, i) => rng.uniform(0.5, 1.5) * (1 + Math.abs(v - reference[i])));
      for (const s of steps) {
        if (ctx.signal.aborted) throw ctx.signal.reason ?? new Error('aborted');
        await sleep(stepSeconds, ctx.signal);
        const at = exact.map((v, i) => noisy(v + widths[i] * (1 - s / max)));
        // The last report carries the same values the trial returns.
        if (s === max) {
          await ctx.report(s, metrics(at));
          return metrics(at);
        }
        await ctx.report(s, metrics(at));
      }
    }
    await sleep(stepSeconds, ctx.signal);
    return metrics(exact.map(noisy));
  };
}

/** A space file's `params` block for a benchmark (`branin`, `rosenbrock(d=8)`), ready to paste. */
export function benchmarkSpaceParams(name: string): Record<string, ParamSpec> {
  const fn = getBenchmark(name);
  return Object.fromEntries(Object.entries(fn.params).map(([k, p]) => [k, { ...p }]));
}

/**
 * Problems between a space file and the benchmark it names (missing params, objectives the
 * function does not produce), as one-line messages; empty when they fit. The CLI can call it
 * before a search starts so the first trial does not fail on a typo.
 */
export function benchmarkSpaceProblems(spec: { objectives: readonly { name: string }[]; params: Record<string, unknown>; workload: { kind: string; function?: string } }): string[] {
  if (spec.workload.kind !== 'benchmark' || !spec.workload.function) return [];
  const fn = getBenchmark(spec.workload.function);
  const problems: string[] = [];
  const names = fn.objectives.map((o) => o.name);
  for (const o of spec.objectives) {
    if (!names.includes(o.name)) problems.push(`objective "${o.name}" is not produced by benchmark "${fn.name}"; it reports ${names.join(', ')}`);
  }
  for (const p of Object.keys(fn.params)) {
    if (!(p in spec.params)) problems.push(`benchmark "${fn.name}" needs param "${p}"; it needs ${Object.keys(fn.params).join(', ')}`);
  }
  return problems;
}
