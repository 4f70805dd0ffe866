import { UserError, type Sampler } from '@segtune/core';
import { didYouMean, type StrategySpec } from '@segtune/space';
import { RandomSampler } from './random';

type SamplerEntry = {
  /** Builds the sampler; throws UserError for options out of range. */
  create(options: Record<string, unknown>): Sampler;
  description: string;
};

/** One line per sampler: adding one is a new file plus a line here. */
export const SAMPLERS: Record<string, SamplerEntry> = {
  random: { create: (o) => (rejectUnknownOptions('random', o, []), new RandomSampler()), description: 'independent uniform sampling' },
};

/** The sampler a space file's `sampler:` block (or `--sampler`) names. */
export function createSampler(spec: StrategySpec | string | undefined, fallback = 'random'): Sampler {
  const { kind, ...options } = typeof spec === 'string' ? { kind: spec } : (spec ?? { kind: fallback });
  const entry = SAMPLERS[kind];
  if (!entry) {
    const names = Object.keys(SAMPLERS);
    throw new UserError(`unknown sampler "${kind}"${didYouMean(kind, names)}; allowed: ${names.join(', ')}`);
  }
  return entry.create(options);
}

/** Rejects option keys a sampler does not take, with a did-you-mean. */
export function rejectUnknownOptions(kind: string, options: Record<string, unknown>, allowed: readonly string[]): void {
  for (const key of Object.keys(options)) {
    if (!allowed.includes(key)) {
      throw new UserError(`sampler "${kind}": unknown option "${key}"${didYouMean(key, allowed)}${allowed.length ? `; allowed: ${allowed.join(', ')}` : '; it takes no options'}`);
    }
  }
}
