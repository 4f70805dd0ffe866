import { UserError } from '@segtune/core';

// Option readers for the registry: every bad value is one line naming the sampler, the option
// and what is allowed, as the space file's own errors do.

function fail(kind: string, key: string, allowed: string, got: unknown): never {
  throw new UserError(`sampler "${kind}": option "${key}" must be ${allowed}, got ${JSON.stringify(got)}`);
}

export interface NumberRule {
  min?: number;
  max?: number;
  /** Open interval ends. */
  exclusiveMin?: boolean;
  exclusiveMax?: boolean;
  integer?: boolean;
}

export function numberOption(kind: string, options: Record<string, unknown>, key: string, fallback: number, rule: NumberRule = {}): number {
  const v = options[key];
  if (v === undefined) return fallback;
  const lo = rule.min === undefined ? '' : rule.exclusiveMin ? `> ${rule.min}` : `>= ${rule.min}`;
  const hi = rule.max === undefined ? '' : rule.exclusiveMax ? `< ${rule.max}` : `<= ${rule.max}`;
  const range =
    rule.min !== undefined && rule.max !== undefined
      ? ` in ${rule.exclusiveMin ? '(' : '['}${rule.min}, ${rule.max}${rule.exclusiveMax ? ')' : ']'}`
      : lo || hi
        ? ` ${lo || hi}`
        : '';
  const allowed = `${rule.integer ? 'an integer' : 'a number'}${range}`;
  if (typeof v !== 'number' || !Number.isFinite(v)) fail(kind, key, allowed, v);
  if (rule.integer && !Number.isInteger(v)) fail(kind, key, allowed, v);
  if (rule.min !== undefined && (rule.exclusiveMin ? v <= rule.min : v < rule.min)) fail(kind, key, allowed, v);
  if (rule.max !== undefined && (rule.exclusiveMax ? v >= rule.max : v > rule.max)) fail(kind, key, allowed, v);
  return v;
}

export function booleanOption(kind: string, options: Record<string, unknown>, key: string, fallback: boolean): boolean {
  const v = options[key];
  if (v === undefined) return fallback;
  if (typeof v !== 'boolean') fail(kind, key, 'true or false', v);
  return v;
}

export function enumOption<T extends string>(kind: string, options: Record<string, unknown>, key: string, fallback: T, allowed: readonly T[]): T {
  const v = options[key];
  if (v === undefined) return fallback;
  if (typeof v !== 'string' || !allowed.includes(v as T)) fail(kind, key, `one of ${allowed.join(', ')}`, v);
  return v as T;
}
