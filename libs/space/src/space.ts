import type { ParamSpec, ParamValue, Params, When } from './schema';

/** A named, validated parameter. */
export type ParamDef = ParamSpec & { name: string };

/**
 * The ordered params of a study, with the unit-cube encoding that samplers work in.
 * Every param is one dimension: floats and ints map linearly (or logarithmically) onto [0, 1];
 * ints and stepped floats onto the centres of equal cells, so that decoding is a floor and every
 * grid point owns the same width; categoricals onto the centres of k cells. An inactive
 * conditional param encodes as NaN.
 */
export class Space {
  readonly params: readonly ParamDef[];
  /** Params in an order where every `when` parent precedes its children. */
  readonly evaluationOrder: readonly ParamDef[];
  private readonly index: Map<string, number>;

  constructor(params: readonly ParamDef[]) {
    this.params = params;
    this.index = new Map(params.map((p, i) => [p.name, i]));
    this.evaluationOrder = topologicalOrder(params);
  }

  get dimension(): number {
    return this.params.length;
  }

  get names(): string[] {
    return this.params.map((p) => p.name);
  }

  param(name: string): ParamDef {
    const i = this.index.get(name);
    if (i === undefined) throw new Error(`unknown param "${name}"`);
    return this.params[i];
  }

  has(name: string): boolean {
    return this.index.has(name);
  }

  indexOf(name: string): number {
    const i = this.index.get(name);
    if (i === undefined) throw new Error(`unknown param "${name}"`);
    return i;
  }

  /** Whether `param` is active given the values chosen so far for its parents. */
  isActive(param: ParamDef, params: Params): boolean {
    if (!param.when) return true;
    return whenHolds(param.when, params, (name) => {
      const parent = this.params[this.index.get(name)!];
      return parent ? this.isActive(parent, params) : false;
    });
  }

  /** Names of the params that are active in a full configuration. */
  activeNames(params: Params): string[] {
    return this.params.filter((p) => this.isActive(p, params)).map((p) => p.name);
  }

  /** Params → point in [0,1]^d (NaN for inactive params). */
  encode(params: Params): number[] {
    return this.params.map((p) => (p.name in params && this.isActive(p, params) ? encodeValue(p, params[p.name]) : NaN));
  }

  /**
   * Point in [0,1]^d → params. Coordinates outside [0,1] are clamped; NaN coordinates of an
   * active param fall back to the cell centre. Inactive params are left out.
   */
  decode(point: readonly number[]): Params {
    if (point.length !== this.params.length) {
      throw new Error(`decode expects ${this.params.length} coordinates, got ${point.length}`);
    }
    const out: Params = {};
    for (const p of this.evaluationOrder) {
      if (!this.isActive(p, out)) continue;
      const u = point[this.index.get(p.name)!];
      out[p.name] = decodeValue(p, Number.isNaN(u) ? 0.5 : u);
    }
    return this.ordered(out);
  }

  /** The params of `params` in declaration order, inactive ones removed. */
  ordered(params: Params): Params {
    const out: Params = {};
    for (const p of this.params) if (p.name in params && this.isActive(p, params)) out[p.name] = params[p.name];
    return out;
  }

  /**
   * Checks a full configuration (from an enqueue, an export or a user) against the space;
   * returns the problems as sentences, empty when it is valid.
   */
  validate(params: Params): string[] {
    const problems: string[] = [];
    for (const key of Object.keys(params)) if (!this.has(key)) problems.push(`unknown param "${key}"`);
    for (const p of this.params) {
      const active = this.isActive(p, params);
      if (!active) continue;
      if (!(p.name in params)) {
        problems.push(`missing value for "${p.name}"`);
        continue;
      }
      const problem = valueProblem(p, params[p.name]);
      if (problem) problems.push(`"${p.name}": ${problem}`);
    }
    return problems;
  }

  /**
   * Checks a partial configuration (Optuna's enqueue_trial with some params left to the
   * sampler): every given param must be known, hold a valid value, and not be inactive given
   * its `when` parents where those are all given too. Empty when it is valid.
   */
  validatePartial(params: Params): string[] {
    const problems: string[] = [];
    for (const key of Object.keys(params)) {
      if (!this.has(key)) {
        problems.push(`unknown param "${key}"`);
        continue;
      }
      const p = this.param(key);
      const problem = valueProblem(p, params[key]);
      if (problem) problems.push(`"${key}": ${problem}`);
      else if (this.ancestorsGiven(p, params) && !this.isActive(p, params)) {
        problems.push(`"${key}" is inactive given ${Object.keys(p.when ?? {}).map((k) => `${k}=${JSON.stringify(params[k])}`).join(', ')}`);
      }
    }
    return problems;
  }

  /** The active params a configuration has no value for (empty for a full one). */
  missing(params: Params): string[] {
    const out: string[] = [];
    for (const p of this.evaluationOrder) if (!(p.name in params) && this.isActive(p, params)) out.push(p.name);
    return out;
  }

  /**
   * A full configuration from a partial one: the given values where active, the others from
   * `proposal` (a sampler's suggestion), `fallback` for what neither has (a branch the given
   * values opened). Given params that turn out inactive are left out, as `ordered` does.
   */
  complete(given: Params, proposal: Params, fallback: (p: ParamDef) => ParamValue): Params {
    const out: Params = {};
    for (const p of this.evaluationOrder) {
      if (!this.isActive(p, out)) continue;
      const v = p.name in given ? given[p.name] : proposal[p.name];
      out[p.name] = v !== undefined && valueProblem(p, v) === undefined ? v : fallback(p);
    }
    return this.ordered(out);
  }

  private ancestorsGiven(p: ParamDef, params: Params): boolean {
    for (const parent of Object.keys(p.when ?? {})) {
      if (!(parent in params)) return false;
      const q = this.index.get(parent);
      if (q !== undefined && !this.ancestorsGiven(this.params[q], params)) return false;
    }
    return true;
  }

  /** The number of grid cells of a discrete param, or Infinity for a continuous one. */
  cardinality(p: ParamDef): number {
    return cellCount(p);
  }
}

function whenHolds(when: When, params: Params, parentActive: (name: string) => boolean): boolean {
  for (const [parent, allowed] of Object.entries(when)) {
    if (!(parent in params) || !parentActive(parent)) return false;
    const v = params[parent];
    const list = Array.isArray(allowed) ? allowed : [allowed];
    if (!list.some((a) => a === v)) return false;
  }
  return true;
}

function topologicalOrder(params: readonly ParamDef[]): ParamDef[] {
  const byName = new Map(params.map((p) => [p.name, p]));
  const done = new Set<string>();
  const out: ParamDef[] = [];
  const visit = (p: ParamDef, trail: Set<string>) => {
    if (done.has(p.name)) return;
    if (trail.has(p.name)) throw new Error(`"when" conditions form a cycle through "${p.name}"`);
    trail.add(p.name);
    for (const parent of Object.keys(p.when ?? {})) {
      const q = byName.get(parent);
      if (q) visit(q, trail);
    }
    trail.delete(p.name);
    done.add(p.name);
    out.push(p);
  };
  for (const p of params) visit(p, new Set());
  return out;
}

function cellCount(p: ParamDef): number {
  if (p.type === 'categorical') return p.choices.length;
  if (p.type === 'int') return Math.floor((p.high - p.low) / (p.step ?? 1)) + 1;
  if (p.step !== undefined) return Math.floor((p.high - p.low) / p.step + 1e-9) + 1;
  return Infinity;
}

const clamp01 = (u: number) => (u < 0 ? 0 : u > 1 ? 1 : u);

export function encodeValue(p: ParamDef, value: ParamValue): number {
  if (p.type === 'categorical') {
    const i = p.choices.findIndex((c) => c === value);
    if (i < 0) throw new Error(`"${p.name}": ${JSON.stringify(value)} is not one of the choices`);
    return (i + 0.5) / p.choices.length;
  }
  const x = Number(value);
  if (p.type === 'int' && p.log) {
    // Log scale over the cell edges [low-0.5, high+0.5], so each integer owns a log-width cell.
    const lo = Math.log(p.low - 0.5);
    const hi = Math.log(p.high + 0.5);
    return clamp01((Math.log(x) - lo) / (hi - lo));
  }
  const n = cellCount(p);
  if (Number.isFinite(n)) {
    const step = p.step ?? 1;
    const i = Math.round((x - p.low) / step);
    return (i + 0.5) / n;
  }
  if (p.log) return clamp01((Math.log(x) - Math.log(p.low)) / (Math.log(p.high) - Math.log(p.low)));
  return clamp01((x - p.low) / (p.high - p.low));
}

export function decodeValue(p: ParamDef, u: number): ParamValue {
  u = clamp01(u);
  if (p.type === 'categorical') {
    const k = p.choices.length;
    return p.choices[Math.min(k - 1, Math.floor(u * k))];
  }
  if (p.type === 'int' && p.log) {
    const lo = Math.log(p.low - 0.5);
    const hi = Math.log(p.high + 0.5);
    const x = Math.round(Math.exp(lo + u * (hi - lo)));
    const step = p.step ?? 1;
    const snapped = p.low + Math.round((x - p.low) / step) * step;
    return Math.min(p.high, Math.max(p.low, snapped));
  }
  const n = cellCount(p);
  if (Number.isFinite(n)) {
    const i = Math.min(n - 1, Math.floor(u * n));
    const step = p.step ?? 1;
    const x = p.low + i * step;
    // Keep stepped floats free of binary noise (0.1 * 3 = 0.30000000000000004).
    return p.type === 'int' ? x : roundTo(x, decimalsOf(step, p.low));
  }
  if (p.log) return Math.min(p.high, Math.max(p.low, Math.exp(Math.log(p.low) + u * (Math.log(p.high) - Math.log(p.low)))));
  return Math.min(p.high, Math.max(p.low, p.low + u * (p.high - p.low)));
}

function decimalsOf(...xs: number[]): number {
  let d = 0;
  for (const x of xs) {
    const s = String(x);
    const e = s.indexOf('e-');
    if (e >= 0) d = Math.max(d, Number(s.slice(e + 2)) + (s.split('e')[0].split('.')[1]?.length ?? 0));
    else d = Math.max(d, s.split('.')[1]?.length ?? 0);
  }
  return Math.min(d, 15);
}

function roundTo(x: number, decimals: number): number {
  return Number(x.toFixed(decimals));
}

/** Why `value` is not valid for `p`, or undefined when it is. */
export function valueProblem(p: ParamDef, value: ParamValue): string | undefined {
  if (p.type === 'categorical') {
    return p.choices.some((c) => c === value) ? undefined : `${JSON.stringify(value)} is not one of ${JSON.stringify(p.choices)}`;
  }
  if (typeof value !== 'number' || !Number.isFinite(value)) return `expected a number, got ${JSON.stringify(value)}`;
  if (p.type === 'int' && !Number.isInteger(value)) return `expected an integer, got ${value}`;
  if (value < p.low || value > p.high) return `${value} is outside [${p.low}, ${p.high}]`;
  if (p.step !== undefined) {
    const k = (value - p.low) / p.step;
    if (Math.abs(k - Math.round(k)) > 1e-6) return `${value} is not on the step ${p.step} grid from ${p.low}`;
  }
  return undefined;
}
