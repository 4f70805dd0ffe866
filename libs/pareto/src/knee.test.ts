import { describe, expect, it } from 'vitest';
import { kneeIndex } from './knee';

describe('kneeIndex', () => {
  const front = [
    [0, 1],
    [0.1, 0.5],
    [0.2, 0.2],
    [0.5, 0.1],
    [1, 0],
  ];

  it('picks the front point furthest below the line through the extremes', () => {
    expect(kneeIndex(front)).toBe(2);
  });

  it('does not depend on units, order of points, or dominated points', () => {
    expect(kneeIndex(front.map(([a, b]) => [a * 1000 + 7, b / 50 - 3]))).toBe(2);
    const shuffled = [front[4], front[2], front[0], front[3], front[1]];
    expect(kneeIndex(shuffled)).toBe(1);
    // Dominated points are not candidates, even one lying far below the line (0.3, 0.3 is not).
    expect(kneeIndex([...front, [0.3, 0.3], [0.9, 0.9], [0.21, 0.2]])).toBe(2);
  });

  it('moves with the shape of the front', () => {
    // The bulge toward the ideal is now at the second point.
    expect(
      kneeIndex([
        [0, 1],
        [0.05, 0.3],
        [0.4, 0.25],
        [1, 0],
      ]),
    ).toBe(1);
  });

  it('handles one point, two points, and ties by the smallest normalised sum, then the index', () => {
    expect(kneeIndex([[3, 4]])).toBe(0);
    expect(kneeIndex([[2, 2], [3, 4]])).toBe(0);
    expect(kneeIndex([[0, 1], [1, 0]])).toBe(0);
    expect(kneeIndex([])).toBe(-1);
  });

  it('uses the plane through the three extremes in 3-D', () => {
    const pts = [
      [0, 0.5, 1], // extreme on f1
      [1, 0, 0.5], // extreme on f2
      [0.5, 1, 0], // extreme on f3
      [0.3, 0.3, 0.3],
      [0.4, 0.4, 0.35],
    ];
    // Plane through the extremes: z1 + z2 + z3 = 1.5 in normalised units; (0.3,0.3,0.3) lies furthest below it.
    expect(kneeIndex(pts)).toBe(3);
  });

  it('falls back to the simplex plane when the extremes are degenerate', () => {
    // One point is best on two objectives: the extremes repeat.
    const pts = [
      [0, 0, 1],
      [1, 1, 0],
      [0.6, 0.2, 0.4],
      [0.2, 0.6, 0.45],
    ];
    // Normalised sums: 1, 2, 1.2, 1.25; the smallest sum is furthest below z1+z2+z3 = 1.
    expect(kneeIndex(pts)).toBe(0);
  });
});
