import type { Params } from '@segtune/space';
import type { Sampler, SamplerContext } from '@segtune/core';

/** Independent uniform draws in the unit cube, decoded through the space (log, int, step). */
export class RandomSampler implements Sampler {
  readonly name = 'random';
  readonly needsHistory = false;

  suggest(ctx: SamplerContext): Params {
    const point = ctx.space.params.map(() => ctx.rng.random());
    return ctx.space.decode(point);
  }
}
