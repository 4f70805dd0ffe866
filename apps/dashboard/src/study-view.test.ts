import { describe, it, expect } from 'vitest';
import type { StudyRecord } from '@segtune/core';
import { spaceParams } from './study-view';

const record = (extra: Partial<StudyRecord>): StudyRecord => ({ id: 1, name: 's', objectives: [{ name: 'value', direction: 'minimize' }], seed: 0, createdAt: 0, attrs: {}, ...extra });

describe('spaceParams', () => {
  it('reads a define-by-run study’s params from its attrs, in first-seen order', () => {
    const attrs = {
      define_by_run: true,
      'param:opt': { name: 'opt', type: 'categorical', choices: ['adam', 'sgd'], order: 2 },
      'param:lr': { name: 'lr', type: 'float', low: 1e-4, high: 0.1, log: true, order: 1 },
    };
    expect(spaceParams(record({ attrs }))).toEqual([
      { name: 'lr', type: 'float', low: 1e-4, high: 0.1, log: true },
      { name: 'opt', type: 'categorical', choices: ['adam', 'sgd'] },
    ]);
  });

  it('prefers the stored space file, and is empty for a study with neither', () => {
    const spaceSource = 'name: s\nobjectives: [{ name: value, direction: minimize }]\nparams:\n  x: { type: int, low: 0, high: 3 }\nworkload: { kind: benchmark, function: branin }\n';
    expect(spaceParams(record({ spaceSource, attrs: { 'param:y': { name: 'y', type: 'float', low: 0, high: 1 } } })).map((p) => p.name)).toEqual(['x']);
    expect(spaceParams(record({}))).toEqual([]);
  });
});
