import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bruteDominates, bruteRanks } from './brute-force.test-helpers';
import { frontRanks, nonDominatedSort, paretoFront } from './nondominated-sort';
import { crowdingDistance, crowdingDistances } from './crowding-distance';

/** Point sets with many ties and duplicates (small integers) or none (doubles). */
function pointSets(m: number, maxN: number) {
  const coord = fc.oneof(fc.integer({ min: 0, max: 5 }), fc.double({ min: -10, max: 10, noNaN: true, noDefaultInfinity: true }));
  return fc.array(fc.array(coord, { minLength: m, maxLength: m }), { maxLength: maxN });
}

describe('non-dominated sorting', () => {
  it.each([1, 2, 3, 4, 5])('frontRanks matches brute-force peeling with %i objectives', (m) => {
    fc.assert(
      fc.property(pointSets(m, 60), (points) => {
        expect(frontRanks(points)).toEqual(bruteRanks(points));
      }),
      { seed: 1000 + m, numRuns: 150 },
    );
  });

  it.each([2, 3])('constraint domination (Deb): matches peeling by "feasible first, then smaller violation, then Pareto" (%i objectives)', (m) => {
    const violation = fc.oneof(fc.constant(0), fc.constant(0), fc.integer({ min: 1, max: 3 }), fc.double({ min: 0.01, max: 2, noNaN: true }));
    fc.assert(
      fc.property(
        pointSets(m, 40).chain((points) => fc.tuple(fc.constant(points), fc.array(violation, { minLength: points.length, maxLength: points.length }))),
        ([points, v]) => {
          const better = (i: number, j: number) => (v[i] > 0 || v[j] > 0 ? v[i] < v[j] : bruteDominates(points[i], points[j]));
          // Peel: rank r holds the points no remaining point beats.
          const rank = new Array<number>(points.length).fill(-1);
          for (let r = 0; rank.includes(-1); r++) {
            const left = rank.flatMap((x, i) => (x === -1 ? [i] : []));
            for (const i of left.filter((i) => !left.some((j) => j !== i && better(j, i)))) rank[i] = r;
          }
          expect(frontRanks(points, { violations: v })).toEqual(rank);
        },
      ),
      { seed: 77 + m, numRuns: 150 },
    );
  });

  it.each([2, 3, 4])('paretoFront and nonDominatedSort agree with the ranks (%i objectives)', (m) => {
    fc.assert(
      fc.property(pointSets(m, 60), (points) => {
        const ranks = bruteRanks(points);
        expect(paretoFront(points)).toEqual(ranks.flatMap((r, i) => (r === 0 ? [i] : [])));
        const fronts = nonDominatedSort(points);
        fronts.forEach((f, r) => {
          for (const i of f) expect(ranks[i]).toBe(r);
        });
        expect(fronts.flat().sort((a, b) => a - b)).toEqual(points.map((_, i) => i));
      }),
      { seed: 2000 + m, numRuns: 150 },
    );
  });

  it('matches brute force on larger random sets (2 and 3 objectives, 400 points)', () => {
    for (const m of [2, 3]) {
      let s = 12345 + m;
      const rand = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32);
      // Anti-correlated objectives make many fronts of many points.
      const points = Array.from({ length: 400 }, () => {
        const t = rand();
        return m === 2 ? [t + 0.3 * rand(), 1 - t + 0.3 * rand()] : [t + 0.3 * rand(), 1 - t + 0.3 * rand(), rand()];
      });
      const ranks = frontRanks(points);
      expect(ranks).toEqual(bruteRanks(points));
      expect(Math.max(...ranks)).toBeGreaterThan(5);
    }
  });

  it('keeps identical points on the same front', () => {
    expect(frontRanks([[1, 2], [1, 2], [2, 3], [1, 2]])).toEqual([0, 0, 1, 0]);
    expect(frontRanks([[1, 2, 3], [1, 2, 3], [1, 2, 4]])).toEqual([0, 0, 1]);
    expect(frontRanks([[Infinity, 1], [1, Infinity], [Infinity, Infinity]])).toEqual([0, 0, 1]);
  });

  it('rejects NaN and ragged input', () => {
    expect(() => frontRanks([[1, NaN]])).toThrow(/point 0 objective 1 is NaN/);
    expect(() => frontRanks([[1, 2], [1]])).toThrow(/point 1 has 1 objectives, expected 2/);
    expect(frontRanks([])).toEqual([]);
  });
});

describe('crowding distance', () => {
  it('matches a hand-computed two-objective front', () => {
    const front = [
      [3, 5],
      [0, 10],
      [10, 0],
      [1, 6],
      [6, 1],
    ];
    // Ranges are 10 on both; (1,6): 3/10 + 5/10; (3,5): 5/10 + 5/10; (6,1): 7/10 + 5/10.
    const d = crowdingDistance(front);
    expect(d[1]).toBe(Infinity);
    expect(d[2]).toBe(Infinity);
    expect(d[3]).toBeCloseTo(0.8, 12);
    expect(d[0]).toBeCloseTo(1.0, 12);
    expect(d[4]).toBeCloseTo(1.2, 12);
  });

  it('matches a hand-computed three-objective front and skips zero ranges', () => {
    const front = [
      [0, 0, 1],
      [1, 2, 1],
      [2, 1, 1],
      [4, 4, 1],
    ];
    // f1 order 0,1,2,3 (range 4): p1 gets (2-0)/4, p2 (4-1)/4. f2 order 0,2,1,3 (range 4):
    // p2 gets (2-0)/4, p1 (4-1)/4. f3 has range 0 but still marks its first and last (by index) as ends.
    const d = crowdingDistance(front);
    expect(d[0]).toBe(Infinity);
    expect(d[3]).toBe(Infinity);
    expect(d[1]).toBeCloseTo(0.5 + 0.75, 12);
    expect(d[2]).toBeCloseTo(0.75 + 0.5, 12);
    expect(crowdingDistance([[1, 1], [2, 0]])).toEqual([Infinity, Infinity]);
  });

  it('crowdingDistances works front by front', () => {
    const points = [
      [0, 3],
      [1, 2],
      [3, 0],
      [2, 3],
      [4, 4],
    ];
    const ranks = frontRanks(points);
    expect(ranks).toEqual([0, 0, 0, 1, 2]);
    const d = crowdingDistances(points, ranks);
    expect(d[1]).toBeCloseTo(3 / 3 + 3 / 3, 12);
    expect(d[3]).toBe(Infinity);
    expect(d[4]).toBe(Infinity);
  });
});
