import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { Space, type ParamDef } from './space';

const params: ParamDef[] = [
  { name: 'lr', type: 'float', low: 1e-5, high: 1e-1, log: true },
  { name: 'x', type: 'float', low: -2, high: 3 },
  { name: 'drop', type: 'float', low: 0, high: 0.5, step: 0.05 },
  { name: 'width', type: 'int', low: 8, high: 64, step: 8 },
  { name: 'batch', type: 'int', low: 2, high: 256, log: true },
  { name: 'depth', type: 'int', low: 2, high: 5 },
  { name: 'opt', type: 'categorical', choices: ['adam', 'sgd', 'adamw'] },
  { name: 'momentum', type: 'float', low: 0.5, high: 0.99, when: { opt: 'sgd' } },
  { name: 'nesterov', type: 'categorical', choices: [true, false], when: { opt: 'sgd' } },
];
const space = new Space(params);
const unit = fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: params.length, maxLength: params.length });

describe('Space encode/decode', () => {
  it('decodes any point of the unit cube into a valid configuration', () => {
    fc.assert(
      fc.property(unit, (u) => {
        const p = space.decode(u);
        expect(space.validate(p)).toEqual([]);
      }),
      { numRuns: 500 },
    );
  });

  it('round-trips params: exact for ints, steps and choices, within float precision otherwise', () => {
    fc.assert(
      fc.property(unit, (u) => {
        const p = space.decode(u);
        const back = space.decode(space.encode(p));
        expect(Object.keys(back)).toEqual(Object.keys(p));
        for (const [k, v] of Object.entries(p)) {
          const def = space.param(k);
          if (def.type === 'float' && def.step === undefined) expect(back[k] as number).toBeCloseTo(v as number, 9);
          else expect(back[k]).toBe(v);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('respects log scale: the median of the unit interval maps to the geometric mean', () => {
    const u = params.map(() => 0.5);
    expect(space.decode(u).lr as number).toBeCloseTo(Math.sqrt(1e-5 * 1e-1), 12);
  });

  it('gives every grid value of an int an equal cell, log-scaled when asked', () => {
    const counts = new Map<number, number>();
    for (let i = 0; i < 4000; i++) {
      const u = params.map(() => 0.5);
      u[5] = (i + 0.5) / 4000;
      const d = space.decode(u).depth as number;
      counts.set(d, (counts.get(d) ?? 0) + 1);
    }
    expect([...counts.keys()].sort()).toEqual([2, 3, 4, 5]);
    for (const c of counts.values()) expect(c).toBe(1000);
    const widths = new Set<number>();
    for (let i = 0; i <= 100; i++) {
      const u = params.map(() => 0.5);
      u[3] = i / 100;
      widths.add(space.decode(u).width as number);
    }
    expect([...widths].sort((a, b) => a - b)).toEqual([8, 16, 24, 32, 40, 48, 56, 64]);
  });

  it('leaves out inactive conditional params and encodes them as NaN', () => {
    const u = params.map(() => 0.1); // opt → adam
    const p = space.decode(u);
    expect(p.opt).toBe('adam');
    expect('momentum' in p).toBe(false);
    const enc = space.encode(p);
    expect(Number.isNaN(enc[7])).toBe(true);
    const sgd = space.decode(params.map((_, i) => (i === 6 ? 0.5 : 0.1)));
    expect(sgd.opt).toBe('sgd');
    expect(typeof sgd.momentum).toBe('number');
  });

  it('stepped floats come out on the grid without binary noise', () => {
    for (let i = 0; i <= 20; i++) {
      const u = params.map(() => 0.5);
      u[2] = i / 20;
      const d = space.decode(u).drop as number;
      expect(String(d).length).toBeLessThanOrEqual(4);
    }
  });

  it('validate names what is wrong', () => {
    expect(space.validate({ lr: 1, x: 0, drop: 0.07, width: 9, batch: 4, depth: 2, opt: 'rmsprop', bogus: 1 })).toEqual([
      'unknown param "bogus"',
      '"lr": 1 is outside [0.00001, 0.1]',
      '"drop": 0.07 is not on the step 0.05 grid from 0',
      '"width": 9 is not on the step 8 grid from 8',
      '"opt": "rmsprop" is not one of ["adam","sgd","adamw"]',
    ]);
  });
});
