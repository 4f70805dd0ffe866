import { describe, expect, it } from 'vitest';
import { isUserError, type Objective } from '@segtune/core';
import { parsePickRule, pick, type PickPoint } from './pick';
import { paretoSummary } from './summary';

const objectives: Objective[] = [
  { name: 'miou', direction: 'maximize' },
  { name: 'latency_ms', direction: 'minimize' },
];

interface Trial extends PickPoint {
  number: number;
}

const t = (number: number, miou: number, latency: number, params_m: number): Trial => ({ number, values: [miou, latency], metrics: { miou, latency_ms: latency, params_m, accuracy: miou + 0.05 } });

const trials: Trial[] = [
  t(0, 0.8, 2, 0.5), // front
  t(1, 0.85, 4, 1.2), // front
  t(2, 0.9, 7, 3.1), // front
  t(3, 0.7, 3, 0.4), // dominated by 0
  t(4, 0.88, 5, 2.0), // front, the knee
  { number: 5, values: [NaN, 1], metrics: {} }, // failed: ignored
];

function userError(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    expect(isUserError(e)).toBe(true);
    const msg = (e as Error).message;
    expect(msg).not.toContain('\n');
    return msg;
  }
  throw new Error('expected a UserError');
}

describe('pick', () => {
  it('constraint on an objective: the most accurate feasible trial', () => {
    expect(pick(trials, objectives, 'latency_ms<=5').point.number).toBe(4);
    expect(pick(trials, objectives, 'latency_ms < 5').point.number).toBe(1);
    expect(pick(trials, objectives, 'latency_ms<=2').point.number).toBe(0);
    const r = pick(trials, objectives, 'latency_ms<=5');
    expect(r.reason).toBe('best miou (0.88) of 4 trials with latency_ms<=5');
  });

  it('constraint on the maximised objective: best on the other one', () => {
    expect(pick(trials, objectives, 'miou>=0.86').point.number).toBe(4);
    expect(pick(trials, objectives, 'miou>0.88').point.number).toBe(2);
  });

  it('constraints on other metrics and several at once', () => {
    expect(pick(trials, objectives, 'params_m<=1.5').point.number).toBe(1);
    expect(pick(trials, objectives, 'params_m<=2.5, latency_ms<5').point.number).toBe(1);
    expect(pick(trials, objectives, 'accuracy>=0.9,latency_ms<=6').point.number).toBe(4);
  });

  it('best and knee', () => {
    expect(pick(trials, objectives, 'knee').point.number).toBe(4);
    expect(pick(trials, objectives, 'best:miou').point.number).toBe(2);
    expect(pick(trials, objectives, 'best:latency_ms').point.number).toBe(0);
    const single: Objective[] = [{ name: 'loss', direction: 'minimize' }];
    const pts = [{ values: [0.3] }, { values: [0.1] }, { values: [0.2] }];
    expect(pick(pts, single, 'best').index).toBe(1);
    expect(pick(pts, single, 'knee').index).toBe(1);
    expect(pick(pts, [{ name: 'acc', direction: 'maximize' }], 'best').index).toBe(0);
  });

  it('breaks ties on the primary objective by the others', () => {
    const pts = [
      { values: [0.9, 5] },
      { values: [0.9, 3] },
      { values: [0.8, 1] },
    ];
    expect(pick(pts, objectives, 'latency_ms<=6').index).toBe(1);
  });

  it('names a constraint nobody meets, with the best value seen', () => {
    expect(userError(() => pick(trials, objectives, 'latency_ms<=1'))).toBe('no trial satisfies "latency_ms<=1" (of 5): the lowest latency_ms seen is 2');
    expect(userError(() => pick(trials, objectives, 'miou>=0.95'))).toBe('no trial satisfies "miou>=0.95" (of 5): the highest miou seen is 0.9');
    expect(userError(() => pick(trials, objectives, 'latency_ms<=2.5, params_m>1'))).toBe(
      'no trial satisfies all of "latency_ms<=2.5", "params_m>1" at once (of 5): the lowest latency_ms seen is 2; the highest params_m seen is 3.1',
    );
    expect(userError(() => pick(trials, objectives, 'latency_ms<=5, params_m<0.1'))).toBe('no trial satisfies "params_m<0.1" (of 5): the lowest params_m seen is 0.4');
  });

  it('rejects unknown names and malformed rules in one line', () => {
    expect(userError(() => pick(trials, objectives, 'latency<=5'))).toBe(
      'pick rule "latency<=5" names unknown metric "latency"; known: miou, latency_ms, params_m, accuracy',
    );
    expect(userError(() => pick(trials, objectives, 'latncy_ms<=5'))).toMatch(/unknown metric "latncy_ms" \(did you mean "latency_ms"\?\)/);
    expect(userError(() => pick(trials, objectives, 'latency<>5'))).toMatch(/^pick rule "latency<>5" is malformed; allowed: best, best:OBJECTIVE, knee, or constraints like "latency_ms<=5"/);
    expect(userError(() => pick(trials, objectives, 'latency_ms<=5,'))).toMatch(/is malformed/);
    expect(userError(() => pick(trials, objectives, 'best'))).toBe(
      'pick rule "best" needs a single objective; this study has 2 (miou, latency_ms): use knee, best:miou, or a constraint like "latency_ms<=…"',
    );
    expect(userError(() => pick(trials, objectives, 'best:mio'))).toMatch(/unknown objective "mio" \(did you mean "miou"\?\); objectives: miou, latency_ms/);
    expect(userError(() => pick([], objectives, 'knee'))).toMatch(/no completed trials/);
  });

  it('parsePickRule validates against given metric names', () => {
    expect(parsePickRule('flops<=3e9', objectives, ['flops'])).toMatchObject({ kind: 'constraints', primary: 'miou', constraints: [{ metric: 'flops', op: '<=', bound: 3e9 }] });
    expect(parsePickRule('miou>=0.8, latency_ms<=5', objectives)).toMatchObject({ kind: 'constraints', primary: 'miou' });
    expect(() => parsePickRule('flops<=3', objectives)).toThrow(/unknown metric "flops"/);
  });
});

describe('paretoSummary', () => {
  it('ranks, front, hypervolume and knee in loss space', () => {
    const s = paretoSummary(trials, objectives, { reference: [-0.5, 10] });
    expect(s.front).toEqual([0, 1, 2, 4]);
    expect(s.ranks).toEqual([0, 0, 0, 1, 0, -1]);
    expect(s.knee).toBe(4);
    // Losses (-miou, latency): staircase (-0.9,7), (-0.88,5), (-0.85,4), (-0.8,2) against (-0.5, 10).
    const hv = 0.02 * 3 + 0.03 * 5 + 0.05 * 6 + 0.3 * 8;
    expect(s.hypervolume).toBeCloseTo(hv, 12);
    const d = paretoSummary(trials, objectives);
    expect(d.reference[0]).toBeCloseTo(-0.7 + 0.02, 12);
    expect(d.reference[1]).toBeCloseTo(7.5, 12);
  });
});
