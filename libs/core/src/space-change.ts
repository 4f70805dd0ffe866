import { valueProblem, type Budget, type Objective, type ParamDef, type Space } from '@segtune/space';
import type { Trial } from './trial';

/** What a study's space was and what the file now says. */
export interface SpaceSide {
  space: Space;
  objectives: readonly Objective[];
  budget?: Budget;
  constraints?: readonly string[];
}

export interface SpaceChange {
  /** One line per change, in param order (empty when the files differ only in layout). */
  changes: string[];
  /** Why the change cannot be taken; undefined when it can. */
  problem?: string;
}

const fmt = (v: unknown) => JSON.stringify(v);

/**
 * Compares a study's stored space with a changed space file, against the trials that completed.
 * Compatible: a range widened (or narrowed with every completed value still inside), a choice
 * added (or removed when no completed trial used it), a new param with a default, a `when`,
 * `log` or `default` change. Incompatible: a param's type changed or removed, a new param with
 * no default once trials completed, a completed trial's value outside the new param, changed
 * objectives, budget or constraints. Pure: no I/O.
 */
export function compareSpaces(before: SpaceSide, after: SpaceSide, completed: readonly Trial[]): SpaceChange {
  const changes: string[] = [];
  const objs = (os: readonly Objective[]) => os.map((o) => `${o.name} ${o.direction}`).join(', ');
  if (objs(before.objectives) !== objs(after.objectives)) {
    return { changes, problem: `objectives changed from [${objs(before.objectives)}] to [${objs(after.objectives)}]; a study keeps its objectives (start a new study, e.g. with --warm-start)` };
  }
  if (fmt(before.budget ?? null) !== fmt(after.budget ?? null)) {
    return { changes, problem: `budget changed from ${fmt(before.budget ?? null)} to ${fmt(after.budget ?? null)}; a study keeps its budget` };
  }
  // Constraints decide which completed trials count as feasible (the best, the front): changing
  // them would rewrite the study's results.
  const cons = (c?: readonly string[]) => fmt([...(c ?? [])].map((x) => x.replace(/\s+/g, '')).sort());
  if (cons(before.constraints) !== cons(after.constraints)) {
    return { changes, problem: `constraints changed from ${fmt(before.constraints ?? [])} to ${fmt(after.constraints ?? [])}; a study keeps its constraints` };
  }
  const done = completed.filter((t) => t.state === 'complete');
  for (const p of before.space.params) {
    if (!after.space.has(p.name)) return { changes, problem: `param "${p.name}" was removed; a study keeps its params (start a new study with --warm-start)` };
  }
  for (const q of after.space.params) {
    if (!before.space.has(q.name)) {
      if (q.default === undefined && done.length > 0) {
        return { changes, problem: `param "${q.name}" is new and has no default; give it one (default: VALUE) so that the ${done.length} completed trial(s) have a value for it` };
      }
      changes.push(`param "${q.name}" added${q.default === undefined ? '' : ` (default ${fmt(q.default)})`}`);
      continue;
    }
    const p = before.space.param(q.name);
    if (p.type !== q.type) return { changes, problem: `param "${q.name}": type changed from ${p.type} to ${q.type}; a study keeps its param types` };
    for (const t of done) {
      const v = t.params[q.name];
      if (v === undefined) continue;
      const why = valueProblem(q, v);
      if (why) return { changes, problem: `param "${q.name}": ${describeOne(p, q)} leaves out completed trial #${t.number} (${why}); only widen it, or keep the values completed trials used` };
    }
    changes.push(...describe(p, q));
  }
  return { changes };
}

function describe(p: ParamDef, q: ParamDef): string[] {
  const out: string[] = [];
  const name = `param "${q.name}"`;
  if (p.type !== 'categorical' && q.type !== 'categorical') {
    if (p.low !== q.low || p.high !== q.high) out.push(`${name}: range [${p.low}, ${p.high}] → [${q.low}, ${q.high}]${q.low <= p.low && q.high >= p.high ? ' (widened)' : ''}`);
    if (Boolean(p.log) !== Boolean(q.log)) out.push(`${name}: log ${Boolean(p.log)} → ${Boolean(q.log)}`);
    if (p.step !== q.step) out.push(`${name}: step ${p.step ?? 'none'} → ${q.step ?? 'none'}`);
  }
  if (p.type === 'categorical' && q.type === 'categorical') {
    const added = q.choices.filter((c) => !p.choices.includes(c));
    const removed = p.choices.filter((c) => !q.choices.includes(c));
    if (added.length) out.push(`${name}: choice${added.length > 1 ? 's' : ''} ${added.map(fmt).join(', ')} added`);
    if (removed.length) out.push(`${name}: choice${removed.length > 1 ? 's' : ''} ${removed.map(fmt).join(', ')} removed (no completed trial used ${removed.length > 1 ? 'them' : 'it'})`);
  }
  if (fmt(p.when ?? null) !== fmt(q.when ?? null)) out.push(`${name}: when ${fmt(p.when ?? null)} → ${fmt(q.when ?? null)}`);
  if (p.default !== q.default) out.push(`${name}: default ${fmt(p.default ?? null)} → ${fmt(q.default ?? null)}`);
  return out;
}

function describeOne(p: ParamDef, q: ParamDef): string {
  if (p.type === 'categorical' && q.type === 'categorical') return `choices ${fmt(p.choices)} → ${fmt(q.choices)}`;
  if (p.type !== 'categorical' && q.type !== 'categorical') return `range [${p.low}, ${p.high}] → [${q.low}, ${q.high}]${q.step !== p.step ? ` step ${q.step ?? 'none'}` : ''}`;
  return 'the change';
}
