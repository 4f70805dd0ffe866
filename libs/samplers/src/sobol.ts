import type { Params } from '@segtune/space';
import { Rng, type Sampler, type SamplerContext } from '@segtune/core';

// Written here rather than taken from npm: the Sobol packages there are unscrambled, stop at a
// few dimensions or carry no tests, and this sampler needs a linear-matrix scramble with a digital shift (as scipy's qmc.Sobol) seeded per study
// and point = trial number (so any worker computes any point without shared state), which is a
// short loop over these direction numbers.
// Joe & Kuo (2008) direction numbers, file new-joe-kuo-6.21201, dimensions 2..64:
// [degree s, coefficient a, m_1 … m_s]. Dimension 1 is the van der Corput sequence.
// prettier-ignore
const JOE_KUO: readonly (readonly number[])[] = [
[1,0,1],
[2,1,1,3],
[3,1,1,3,1],
[3,2,1,1,1],
[4,1,1,1,3,3],
[4,4,1,3,5,13],
[5,2,1,1,5,5,17],
[5,4,1,1,5,5,5],
[5,7,1,1,7,11,19],
[5,11,1,1,5,1,1],
[5,13,1,1,1,3,11],
[5,14,1,3,5,5,31],
[6,1,1,3,3,9,7,49],
[6,13,1,1,1,15,21,21],
[6,16,1,3,1,13,27,49],
[6,19,1,1,1,15,7,5],
[6,22,1,3,1,15,13,25],
[6,25,1,1,5,5,19,61],
[7,1,1,3,7,11,23,15,103],
[7,4,1,3,7,13,13,15,69],
[7,7,1,1,3,13,7,35,63],
[7,8,1,3,5,9,1,25,53],
[7,14,1,3,1,13,9,35,107],
[7,19,1,3,1,5,27,61,31],
[7,21,1,1,5,11,19,41,61],
[7,28,1,3,5,3,3,13,69],
[7,31,1,1,7,13,1,19,1],
[7,32,1,3,7,5,13,19,59],
[7,37,1,1,3,9,25,29,41],
[7,41,1,3,5,13,23,1,55],
[7,42,1,3,7,3,13,59,17],
[7,50,1,3,1,3,5,53,69],
[7,55,1,1,5,5,23,33,13],
[7,56,1,1,7,7,1,61,123],
[7,59,1,1,7,9,13,61,49],
[7,62,1,3,3,5,3,55,33],
[8,14,1,3,1,15,31,13,49,245],
[8,21,1,3,5,15,31,59,63,97],
[8,22,1,3,1,11,11,11,77,249],
[8,38,1,3,1,11,27,43,71,9],
[8,47,1,1,7,15,21,11,81,45],
[8,49,1,3,7,3,25,31,65,79],
[8,50,1,3,1,1,19,11,3,205],
[8,52,1,1,5,9,19,21,29,157],
[8,56,1,3,7,11,1,33,89,185],
[8,67,1,3,3,3,15,9,79,71],
[8,70,1,3,7,11,15,39,119,27],
[8,84,1,1,3,1,11,31,97,225],
[8,97,1,1,1,3,23,43,57,177],
[8,103,1,3,7,7,17,17,37,71],
[8,115,1,3,1,5,27,63,123,213],
[8,122,1,1,3,5,11,43,53,133],
[9,8,1,3,5,5,29,17,47,173,479],
[9,13,1,3,3,11,3,1,109,9,69],
[9,16,1,1,1,5,17,39,23,5,343],
[9,22,1,3,1,5,25,15,31,103,499],
[9,25,1,1,1,11,11,17,63,105,183],
[9,44,1,1,5,11,9,29,97,231,363],
[9,47,1,1,5,15,19,45,41,7,383],
[9,52,1,3,7,7,31,19,83,137,221],
[9,55,1,1,1,3,23,15,111,223,83],
[9,59,1,1,5,13,31,15,55,25,161],
[9,62,1,1,3,13,25,47,39,87,257]
];

const BITS = 32;
/** Dimensions with embedded direction numbers; further dimensions are drawn at random. */
export const SOBOL_MAX_DIMENSION = JOE_KUO.length + 1;

function directionNumbers(dim: number): Uint32Array {
  const v = new Uint32Array(BITS);
  if (dim === 0) {
    for (let k = 0; k < BITS; k++) v[k] = (1 << (BITS - 1 - k)) >>> 0;
    return v;
  }
  const [s, a, ...m] = JOE_KUO[dim - 1];
  for (let k = 0; k < s && k < BITS; k++) v[k] = (m[k] << (BITS - 1 - k)) >>> 0;
  for (let k = s; k < BITS; k++) {
    let x = v[k - s] ^ (v[k - s] >>> s);
    for (let i = 1; i < s; i++) if ((a >>> (s - 1 - i)) & 1) x ^= v[k - i];
    v[k] = x >>> 0;
  }
  return v;
}

function parity(x: number): number {
  x ^= x >>> 16;
  x ^= x >>> 8;
  x ^= x >>> 4;
  x ^= x >>> 2;
  x ^= x >>> 1;
  return x & 1;
}

/**
 * A scrambled Sobol sequence: random linear matrix scrambling plus a random digital shift
 * (Matoušek's affine scramble, as scipy.stats.qmc.Sobol does), both drawn from `seed`, so the
 * sequence is a pure function of (seed, index). Scrambling removes the all-zeros first point and
 * the lattice artefacts while keeping the (t, s)-net balance.
 */
export class SobolSequence {
  private readonly v: Uint32Array[];
  private readonly shift: Uint32Array;

  constructor(
    readonly dimension: number,
    seed: number,
  ) {
    const rng = Rng.derive(seed, 'sobol-scramble');
    const d = Math.min(dimension, SOBOL_MAX_DIMENSION);
    this.v = [];
    this.shift = new Uint32Array(d);
    for (let j = 0; j < d; j++) {
      const raw = directionNumbers(j);
      // Lower-triangular binary matrix with a unit diagonal; row r acts on digits 0..r (MSB first).
      const rows = new Uint32Array(BITS);
      for (let r = 0; r < BITS; r++) {
        const high = r === 0 ? 0 : (~0 << (BITS - r)) >>> 0;
        rows[r] = ((rng.next32() & high) | (1 << (BITS - 1 - r))) >>> 0;
      }
      const scrambled = new Uint32Array(BITS);
      for (let k = 0; k < BITS; k++) {
        let y = 0;
        for (let r = 0; r < BITS; r++) if (parity(rows[r] & raw[k])) y |= 1 << (BITS - 1 - r);
        scrambled[k] = y >>> 0;
      }
      this.v.push(scrambled);
      this.shift[j] = rng.next32();
    }
  }

  /** Point `index` (0-based) in [0,1)^dimension; dimensions past the table come from `extra`. */
  point(index: number, extra?: Rng): number[] {
    const out = new Array<number>(this.dimension);
    for (let j = 0; j < this.dimension; j++) {
      if (j >= this.v.length) {
        out[j] = (extra ?? Rng.derive(index, 'sobol-extra', j)).random();
        continue;
      }
      let x = this.shift[j];
      const v = this.v[j];
      // Direct (non-Gray-code) construction: digit k of the index selects direction number k.
      let i = index;
      for (let k = 0; i > 0 && k < BITS; k++, i = Math.floor(i / 2)) if (i % 2) x ^= v[k];
      out[j] = ((x >>> 0) + 0.5) / 2 ** BITS;
    }
    return out;
  }
}

const cache = new Map<string, SobolSequence>();

/** The study's sequence for a dimension (memoised: construction costs 32² parities per dimension). */
export function sobolSequence(dimension: number, seed: number): SobolSequence {
  const key = `${dimension}/${seed}`;
  let s = cache.get(key);
  if (!s) {
    if (cache.size > 64) cache.clear();
    s = new SobolSequence(dimension, seed);
    cache.set(key, s);
  }
  return s;
}

/** Scrambled Sobol points decoded through the space; point index = trial number. */
export class SobolSampler implements Sampler {
  readonly name = 'sobol';
  readonly needsHistory = false;

  suggest(ctx: SamplerContext): Params {
    return ctx.space.decode(sobolSequence(ctx.space.dimension, ctx.seed).point(ctx.trialNumber, ctx.rng));
  }
}
