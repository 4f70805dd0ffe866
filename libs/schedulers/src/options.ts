import { UserError } from '@segtune/core';
import { didYouMean } from '@segtune/space';

/**
 * Reads a scheduler's snake_case options from a space file block (or the CLI), one clear
 * UserError line for anything wrong: what, which key, what is allowed.
 */
export class OptionReader {
  private readonly used = new Set<string>();

  constructor(
    readonly kind: string,
    private readonly options: Record<string, unknown>,
    private readonly allowed: readonly string[],
  ) {
    for (const key of Object.keys(options)) {
      if (!allowed.includes(key)) {
        throw new UserError(
          `scheduler "${kind}": unknown option "${key}"${didYouMean(key, allowed)}${allowed.length ? `; allowed: ${allowed.join(', ')}` : '; it takes no options'}`,
        );
      }
    }
  }

  fail(key: string, what: string): never {
    throw new UserError(`scheduler "${this.kind}": ${key} ${what}`);
  }

  number(key: string, fallback: number, check?: { min?: number; above?: number; max?: number; integer?: boolean }): number {
    this.used.add(key);
    const raw = this.options[key];
    if (raw === undefined || raw === null) return fallback;
    const v = typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : raw;
    if (typeof v !== 'number' || !Number.isFinite(v)) this.fail(key, `must be a number, got ${JSON.stringify(raw)}`);
    if (check?.integer && !Number.isInteger(v)) this.fail(key, `must be a whole number, got ${v}`);
    if (check?.above !== undefined && !(v > check.above)) this.fail(key, `must be greater than ${check.above}, got ${v}`);
    if (check?.min !== undefined && v < check.min) this.fail(key, `must be at least ${check.min}, got ${v}`);
    if (check?.max !== undefined && v > check.max) this.fail(key, `must be at most ${check.max}, got ${v}`);
    return v;
  }

  optionalNumber(key: string, check?: { min?: number; above?: number; max?: number; integer?: boolean }): number | undefined {
    if (this.options[key] === undefined || this.options[key] === null) return undefined;
    return this.number(key, 0, check);
  }

  choice<T extends string>(key: string, choices: readonly T[], fallback: T): T {
    this.used.add(key);
    const raw = this.options[key];
    if (raw === undefined || raw === null) return fallback;
    if (typeof raw !== 'string' || !choices.includes(raw as T)) {
      this.fail(key, `must be one of ${choices.join(', ')}, got ${JSON.stringify(raw)}${typeof raw === 'string' ? didYouMean(raw, choices) : ''}`);
    }
    return raw as T;
  }
}
