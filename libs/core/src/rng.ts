/**
 * A small seeded generator (sfc32), so that samplers and simulators are reproducible and
 * independent of Math.random. Pure functions of (seed, trial number) make suggestions the same
 * in one process or many.
 */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  private spare: number | undefined;

  constructor(seed: number | string = 0) {
    const h = typeof seed === 'string' ? hashString(seed) : mix32(seed >>> 0, Math.floor(seed / 2 ** 32) >>> 0);
    this.a = h ^ 0x9e3779b9;
    this.b = mix32(h, 0x243f6a88);
    this.c = mix32(h, 0xb7e15162);
    this.d = 1;
    for (let i = 0; i < 12; i++) this.next32();
  }

  /** A child generator for a named purpose, e.g. `rng.fork('trial', 17)`. */
  static derive(seed: number, ...parts: (string | number)[]): Rng {
    return new Rng(`${seed}/${parts.join('/')}`);
  }

  next32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1). */
  random(): number {
    return (this.next32() * 2 ** 21 + (this.next32() >>> 11)) / 2 ** 53;
  }

  uniform(low: number, high: number): number {
    return low + (high - low) * this.random();
  }

  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.random() * n);
  }

  normal(mean = 0, sd = 1): number {
    if (this.spare !== undefined) {
      const s = this.spare;
      this.spare = undefined;
      return mean + sd * s;
    }
    let u = 0;
    let v = 0;
    let r = 0;
    do {
      u = this.random() * 2 - 1;
      v = this.random() * 2 - 1;
      r = u * u + v * v;
    } while (r === 0 || r >= 1);
    const f = Math.sqrt((-2 * Math.log(r)) / r);
    this.spare = v * f;
    return mean + sd * u * f;
  }

  choice<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)];
  }

  shuffle<T>(xs: T[]): T[] {
    for (let i = xs.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      [xs[i], xs[j]] = [xs[j], xs[i]];
    }
    return xs;
  }
}

function mix32(a: number, b: number): number {
  let h = (a ^ Math.imul(b, 0x85ebca6b)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b);
  return (h ^ (h >>> 16)) >>> 0;
}

function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return mix32(h >>> 0, s.length);
}
