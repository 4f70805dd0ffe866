// Define-by-run distributions: what one `suggest*` call asks for, checked against what the study
// already holds for that name. A param keeps one distribution for the whole study, so that
// samplers can compare its values across trials.
import { Space, SpaceError, nameProblem, type ParamDef } from '@segtune/space';

export type Choice = string | number | boolean;

/** Where a define-by-run problem is reported: the param, not a line of a file. */
export class DistributionError extends SpaceError {
  constructor(param: string, detail: string) {
    super(detail, { file: 'objective', line: 0, column: 0, path: `params.${param}` });
    this.message = `params.${param}: ${detail}`;
  }
}

export function describe(p: ParamDef): string {
  if (p.type === 'categorical') return `categorical ${JSON.stringify(p.choices)}`;
  return `${p.type} [${p.low}, ${p.high}]${p.log ? ' log' : ''}${p.step !== undefined ? ` step ${p.step}` : ''}`;
}

function sameDistribution(a: ParamDef, b: ParamDef): boolean {
  if (a.type !== b.type) return false;
  if (a.type === 'categorical' && b.type === 'categorical') return a.choices.length === b.choices.length && a.choices.every((c, i) => c === b.choices[i]);
  if (a.type === 'categorical' || b.type === 'categorical') return false;
  return a.low === b.low && a.high === b.high && !!a.log === !!b.log && a.step === b.step;
}

/** Checks the arguments of one suggest call; throws a DistributionError naming the param. */
export function checkDefinition(p: ParamDef): void {
  const problem = nameProblem(p.name);
  if (problem) throw new DistributionError(p.name, problem);
  if (p.type === 'categorical') {
    if (!Array.isArray(p.choices) || p.choices.length === 0) throw new DistributionError(p.name, 'suggestCategorical needs at least one choice');
    for (const c of p.choices) if (!['string', 'number', 'boolean'].includes(typeof c)) throw new DistributionError(p.name, `choices must be strings, numbers or booleans, got ${JSON.stringify(c)}`);
    return;
  }
  const fn = p.type === 'int' ? 'suggestInt' : 'suggestFloat';
  if (!Number.isFinite(p.low) || !Number.isFinite(p.high)) throw new DistributionError(p.name, `${fn} needs finite bounds, got [${p.low}, ${p.high}]`);
  if (p.type === 'int' && (!Number.isInteger(p.low) || !Number.isInteger(p.high))) throw new DistributionError(p.name, `suggestInt needs integer bounds, got [${p.low}, ${p.high}]`);
  if (p.low > p.high) throw new DistributionError(p.name, `${fn}: low ${p.low} is above high ${p.high}`);
  if (p.log && p.low <= 0) throw new DistributionError(p.name, `${fn} with log: true needs low > 0, got ${p.low}`);
  if (p.log && p.step !== undefined && p.type === 'float') throw new DistributionError(p.name, 'suggestFloat takes either log or step, not both');
  if (p.step !== undefined && !(p.step > 0)) throw new DistributionError(p.name, `${fn}: step must be positive, got ${p.step}`);
}

/**
 * The union of every param the study's trials asked for, in first-seen order. Kept in study
 * attrs (one key per param, so concurrent writers never clobber each other's params).
 */
export class DistributionRegistry {
  private readonly defs = new Map<string, ParamDef>();
  private cachedSpace: Space | undefined;

  constructor(initial: readonly ParamDef[] = []) {
    for (const p of initial) this.defs.set(p.name, p);
  }

  get size(): number {
    return this.defs.size;
  }

  get(name: string): ParamDef | undefined {
    return this.defs.get(name);
  }

  /** Adds a param, or checks it against the one already known; true when it is new. */
  register(p: ParamDef): boolean {
    const known = this.defs.get(p.name);
    if (known) {
      if (!sameDistribution(known, p)) {
        throw new DistributionError(p.name, `asked as ${describe(p)}, but the study already has it as ${describe(known)}; a param keeps one distribution for the whole study`);
      }
      return false;
    }
    this.defs.set(p.name, p);
    this.cachedSpace = undefined;
    return true;
  }

  space(): Space {
    this.cachedSpace ??= new Space([...this.defs.values()]);
    return this.cachedSpace;
  }

  /** The attrs keys this registry is stored under. */
  static attrKey(name: string): string {
    return `param:${name}`;
  }

  static fromAttrs(attrs: Record<string, unknown>): ParamDef[] {
    const out: (ParamDef & { order?: number })[] = [];
    for (const [k, v] of Object.entries(attrs)) if (k.startsWith('param:') && v && typeof v === 'object') out.push(v as ParamDef);
    return out.sort((a, b) => (a.order ?? 0) - (b.order ?? 0)).map(stripOrder);
  }

  /** Merges params another process stored; a clash is an error like any other. */
  merge(defs: readonly ParamDef[]): void {
    for (const p of defs) this.register(p);
  }
}

function stripOrder(p: ParamDef): ParamDef {
  const { order: _order, ...rest } = p as ParamDef & { order?: number };
  return rest as ParamDef;
}
