import { valueProblem, type Params, type Space } from '@segtune/space';
import type { Objective } from './objectives';
import type { Trial } from './trial';

/** An earlier study whose trials seed a new one: `STUDY[@STORAGE]` (storage: the new study's when absent). */
export interface WarmStartSource {
  study: string;
  storage?: string;
}

/** `STUDY[@STORAGE]`; the storage part may itself hold `@` (a URL with a user), so the first `@` splits. */
export function parseWarmStartSource(text: string): WarmStartSource | undefined {
  const at = text.indexOf('@');
  const study = (at < 0 ? text : text.slice(0, at)).trim();
  const storage = at < 0 ? undefined : text.slice(at + 1).trim();
  if (!study || storage === '') return undefined;
  return storage === undefined ? { study } : { study, storage };
}

export interface MappedTrials {
  /** Complete trials in the new space, values in the new study's objective order; numbered below 0. */
  trials: Trial[];
  /** Source trials looked at. */
  total: number;
  /** Why the others were dropped, with counts. */
  dropped: Record<string, number>;
  /** New params that took their default in a kept trial, with the default. */
  defaulted: Record<string, Params[string]>;
}

/**
 * Maps the trials of an earlier study into a new space: params by name; a value outside the new
 * bounds or choices, or a new param without a `default`, drops the trial when that param is
 * active in the new space (an inactive one is left out); params the new space lacks are left
 * out. Objective values are taken by name (from the source's objectives, else its metrics), so
 * directions need not match: a value means the same whichever way it is optimised. Only complete
 * trials carry a value, so only they are kept.
 */
export function mapTrialsToSpace(space: Space, objectives: readonly Objective[], source: { objectives: readonly Objective[]; trials: readonly Trial[]; name?: string }): MappedTrials {
  const out: Trial[] = [];
  const dropped: Record<string, number> = {};
  const defaulted: Record<string, Params[string]> = {};
  const drop = (why: string) => (dropped[why] = (dropped[why] ?? 0) + 1);
  for (const t of source.trials) {
    if (t.state !== 'complete') {
      drop('not complete');
      continue;
    }
    const values: number[] = [];
    let missing: string | undefined;
    for (const o of objectives) {
      const i = source.objectives.findIndex((s) => s.name === o.name);
      const v = i >= 0 ? t.values?.[i] : t.metrics?.[o.name];
      if (typeof v !== 'number' || !Number.isFinite(v)) {
        missing = o.name;
        break;
      }
      values.push(v);
    }
    if (missing !== undefined) {
      drop(`no value for objective "${missing}"`);
      continue;
    }
    const params: Params = {};
    const usedDefault: string[] = [];
    let why: string | undefined;
    for (const p of space.evaluationOrder) {
      if (!space.isActive(p, params)) continue;
      const v = t.params[p.name];
      if (v === undefined) {
        if (p.default === undefined) {
          why = `new param "${p.name}" has no default`;
          break;
        }
        params[p.name] = p.default;
        usedDefault.push(p.name);
      } else if (valueProblem(p, v) !== undefined) {
        why = 'outside the new space';
        break;
      } else params[p.name] = v;
    }
    if (why) {
      drop(why);
      continue;
    }
    for (const n of usedDefault) defaulted[n] = space.param(n).default!;
    out.push({
      ...t,
      params: space.ordered(params),
      values,
      metrics: { ...t.metrics, ...Object.fromEntries(objectives.map((o, i) => [o.name, values[i]])) },
      intermediate: {},
      attrs: { warm_start_from: `${source.name ?? t.studyId}#${t.number}` },
    });
  }
  // Numbered below the new study's own trials, oldest first, so samplers that order by number
  // keep them apart and before.
  out.forEach((t, k) => Object.assign(t, { number: k - out.length, id: k - out.length }));
  return { trials: out, total: source.trials.length, dropped, defaulted };
}

/** Several sources' prior observations as one list, renumbered below 0 in source order. */
export function joinPriors(parts: readonly MappedTrials[]): Trial[] {
  const all = parts.flatMap((p) => p.trials);
  return all.map((t, k) => ({ ...t, number: k - all.length, id: k - all.length }));
}

/** The one line a user reads: what was kept and what dropped, and why. */
export function warmStartSummary(names: readonly string[], parts: readonly MappedTrials[]): string {
  const kept = parts.reduce((a, p) => a + p.trials.length, 0);
  const total = parts.reduce((a, p) => a + p.total, 0);
  const dropped: Record<string, number> = {};
  const defaulted: Record<string, unknown> = {};
  for (const p of parts) {
    for (const [k, n] of Object.entries(p.dropped)) dropped[k] = (dropped[k] ?? 0) + n;
    Object.assign(defaulted, p.defaulted);
  }
  const why = Object.entries(dropped)
    .sort((a, b) => b[1] - a[1])
    .map(([k, n]) => `${n} ${k}`);
  const defs = Object.entries(defaulted).map(([k, v]) => `${k}=${JSON.stringify(v)}`);
  return `warm start: kept ${kept} of ${total} trial${total === 1 ? '' : 's'} from ${names.map((n) => `"${n}"`).join(', ')}${why.length ? `; dropped ${why.join(', ')}` : ''}${defs.length ? `; new params at their default: ${defs.join(', ')}` : ''}`;
}
