import { describe, expect, it } from 'vitest';
import { parseSpace } from '@segtune/space';
import type { Trial } from './trial';
import { compareSpaces, type SpaceSide } from './space-change';

const side = (params: string, extra = '', objectives = '[{ name: loss, direction: minimize }]'): SpaceSide => {
  const { spec, space } = parseSpace(`name: s\nobjectives: ${objectives}\nparams:\n${params}\nworkload: { kind: module, path: ./w.mjs }\n${extra}`);
  return { space, objectives: spec.objectives, budget: spec.budget, constraints: spec.constraints };
};
const done = (number: number, params: Trial['params'], state: Trial['state'] = 'complete'): Trial => ({ id: number, studyId: 1, number, state, params, values: [1], intermediate: {}, attrs: {}, createdAt: 0, seq: number });

const BASE = '  lr: { type: float, low: 0.001, high: 0.1, log: true }\n  opt: { type: categorical, choices: [sgd, adam] }';
const trials = [done(0, { lr: 0.01, opt: 'sgd' }), done(1, { lr: 0.05, opt: 'sgd' }), done(2, { lr: 0.002, opt: 'adam' }, 'failed')];

describe('compareSpaces', () => {
  it('takes a widened range, an added choice and a new param with a default, one line each', () => {
    const r = compareSpaces(side(BASE), side('  lr: { type: float, low: 0.0001, high: 0.1, log: true }\n  opt: { type: categorical, choices: [sgd, adam, adamw] }\n  wd: { type: float, low: 0, high: 0.1, default: 0 }'), trials);
    expect(r.problem).toBeUndefined();
    expect(r.changes).toEqual(['param "lr": range [0.001, 0.1] → [0.0001, 0.1] (widened)', 'param "opt": choice "adamw" added', 'param "wd" added (default 0)']);
  });

  it('finds no change where only the layout differs', () => {
    expect(compareSpaces(side(BASE), side(BASE.replace('low: 0.001', 'low:   0.001')), trials)).toEqual({ changes: [] });
  });

  it('takes a narrowed range or a removed choice that no completed trial is outside of', () => {
    // Trial 2 (adam, lr 0.002) failed: it does not hold the change back.
    const r = compareSpaces(side(BASE), side('  lr: { type: float, low: 0.005, high: 0.1, log: true }\n  opt: { type: categorical, choices: [sgd] }'), trials);
    expect(r.problem).toBeUndefined();
    expect(r.changes).toEqual(['param "lr": range [0.001, 0.1] → [0.005, 0.1]', 'param "opt": choice "adam" removed (no completed trial used it)']);
  });

  it('refuses a range narrowed below a completed trial, naming the trial', () => {
    const r = compareSpaces(side(BASE), side(BASE.replace('low: 0.001', 'low: 0.02')), trials);
    expect(r.problem).toMatch(/^param "lr": range \[0.001, 0.1\] → \[0.02, 0.1\] leaves out completed trial #0 \(0.01 is outside \[0.02, 0.1\]\)/);
  });

  it('refuses a removed choice that a completed trial used', () => {
    expect(compareSpaces(side(BASE), side(BASE.replace('[sgd, adam]', '[adam]')), trials).problem).toMatch(/^param "opt": choices \["sgd","adam"\] → \["adam"\] leaves out completed trial #0/);
  });

  it('refuses a changed type, a removed param, a new param without a default, and changed objectives, budget or constraints', () => {
    expect(compareSpaces(side(BASE), side(BASE.replace('type: float, low: 0.001, high: 0.1, log: true', 'type: categorical, choices: [0.01]')), trials).problem).toMatch(/type changed from float to categorical/);
    expect(compareSpaces(side(BASE), side('  lr: { type: float, low: 0.001, high: 0.1, log: true }'), trials).problem).toMatch(/^param "opt" was removed/);
    expect(compareSpaces(side(BASE), side(`${BASE}\n  wd: { type: float, low: 0, high: 1 }`), trials).problem).toMatch(/^param "wd" is new and has no default/);
    expect(compareSpaces(side(BASE), side(BASE, '', '[{ name: loss, direction: maximize }]'), trials).problem).toMatch(/^objectives changed/);
    expect(compareSpaces(side(BASE), side(BASE, 'budget: { name: epochs, min: 1, max: 9 }'), trials).problem).toMatch(/^budget changed/);
    expect(compareSpaces(side(BASE), side(BASE, 'constraints: ["latency <= 5"]'), trials).problem).toMatch(/^constraints changed/);
  });

  it('takes a new param without a default while nothing has completed', () => {
    expect(compareSpaces(side(BASE), side(`${BASE}\n  wd: { type: float, low: 0, high: 1 }`), []).changes).toEqual(['param "wd" added']);
  });
});
