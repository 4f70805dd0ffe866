import { describe, expect, it } from 'vitest';
import { SobolSequence, SOBOL_MAX_DIMENSION } from './sobol';

describe('scrambled Sobol', () => {
  it('has embedded direction numbers for at least 40 dimensions', () => {
    expect(SOBOL_MAX_DIMENSION).toBeGreaterThanOrEqual(40);
  });

  it('keeps the net property: the first 2^m points put one point in each 1/2^m interval of every dimension', () => {
    const s = new SobolSequence(40, 7);
    const m = 6;
    const pts = Array.from({ length: 2 ** m }, (_, i) => s.point(i));
    for (let j = 0; j < 40; j++) {
      const cells = new Set(pts.map((p) => Math.floor(p[j] * 2 ** m)));
      expect(cells.size).toBe(2 ** m);
    }
    // And in 2-D: the first 16 points of dims 0 and 1 fill the 4×4 grid.
    const grid = new Set(pts.slice(0, 16).map((p) => `${Math.floor(p[0] * 4)},${Math.floor(p[1] * 4)}`));
    expect(grid.size).toBe(16);
  });

  it('is a pure function of (seed, index), and another seed scrambles differently', () => {
    const a = new SobolSequence(5, 1);
    const b = new SobolSequence(5, 1);
    const c = new SobolSequence(5, 2);
    expect(b.point(123)).toEqual(a.point(123));
    expect(c.point(123)).not.toEqual(a.point(123));
    for (let i = 0; i < 200; i++) for (const u of a.point(i)) expect(u >= 0 && u < 1).toBe(true);
  });

  it('is more uniform than random points (lower discrepancy of the mean)', () => {
    const s = new SobolSequence(3, 5);
    const n = 256;
    const mean = [0, 0, 0];
    for (let i = 0; i < n; i++) s.point(i).forEach((u, j) => (mean[j] += u / n));
    for (const v of mean) expect(Math.abs(v - 0.5)).toBeLessThan(0.005);
  });
});
