import { describe, it, expect } from 'vitest';
import { parseSpace, SpaceError } from './parse';

const base = `name: demo
objectives:
  - { name: value, direction: minimize }
params:
  x: { type: float, low: -5, high: 10 }
  n: { type: int, low: 1, high: 8 }
  opt: { type: categorical, choices: [adam, sgd] }
  momentum: { type: float, low: 0.5, high: 0.99, when: { opt: sgd } }
workload: { kind: benchmark, function: branin }
`;

function error(text: string): SpaceError {
  try {
    parseSpace(text, 'space.yaml');
  } catch (e) {
    if (e instanceof SpaceError) return e;
    throw e;
  }
  throw new Error('expected a SpaceError');
}

describe('parseSpace', () => {
  it('parses a valid file into ordered params with conditions', () => {
    const { spec, space } = parseSpace(base, 'space.yaml');
    expect(spec.name).toBe('demo');
    expect(space.names).toEqual(['x', 'n', 'opt', 'momentum']);
    expect(space.isActive(space.param('momentum'), { opt: 'sgd' })).toBe(true);
    expect(space.isActive(space.param('momentum'), { opt: 'adam' })).toBe(false);
  });

  it('names file, line and column, key path and a did-you-mean for an unknown key', () => {
    const e = error(base.replace('n: { type: int, low: 1, high: 8 }', 'n: { type: int, low: 1, hihg: 8, high: 9 }'));
    expect(e.message).toMatch(/^space\.yaml:6:27: params\.n\.hihg: unknown key "hihg" \(did you mean "high"\?\)/);
    const top = error(base.replace('workload:', 'objectivs: []\nworkload:'));
    expect(top.message).toMatch(/space\.yaml:9:1: objectivs: unknown key "objectivs" \(did you mean "objectives"\?\)/);
  });

  it('reports a wrong type with what was found', () => {
    const e = error(base.replace('low: -5', 'low: "minus five"'));
    expect(e.message).toMatch(/^space\.yaml:5:\d+: params\.x\.low: expected number, got string "minus five"/);
  });

  it('rejects low >= high', () => {
    expect(error(base.replace('low: -5, high: 10', 'low: 10, high: 10')).message).toMatch(/params\.x\.low: low \(10\) must be below high \(10\)/);
  });

  it('rejects log: true with low <= 0', () => {
    expect(error(base.replace('{ type: float, low: -5, high: 10 }', '{ type: float, low: 0, high: 1, log: true }')).message).toMatch(/space\.yaml:5:\d+: params\.x\.low: log: true needs low > 0, got 0/);
  });

  it('rejects a step that does not divide the range', () => {
    expect(error(base.replace('{ type: float, low: -5, high: 10 }', '{ type: float, low: 0, high: 1, step: 0.3 }')).message).toMatch(/params\.x\.step: step 0.3 does not divide the range \[0, 1\]/);
    // A step that divides it, despite binary fractions, is fine.
    expect(() => parseSpace(base.replace('{ type: float, low: -5, high: 10 }', '{ type: float, low: 0, high: 1, step: 0.1 }'))).not.toThrow();
  });

  it('rejects empty choices', () => {
    expect(error(base.replace('choices: [adam, sgd]', 'choices: []')).message).toMatch(/space\.yaml:7:\d+: params\.opt\.choices: empty "choices"/);
  });

  it('rejects a duplicate param', () => {
    expect(error(base.replace('  n: { type: int', '  x: { type: float, low: 0, high: 1 }\n  n: { type: int')).message).toMatch(/space\.yaml:6:3: duplicate key/);
  });

  it('rejects "when" naming an unknown param, with a did-you-mean', () => {
    expect(error(base.replace('when: { opt: sgd }', 'when: { op: sgd }')).message).toMatch(/space\.yaml:8:\d+: params\.momentum\.when\.op: "when" names unknown param "op" \(did you mean "opt"\?\)/);
  });

  it('rejects "when" conditions that form a cycle', () => {
    const text = base.replace('x: { type: float, low: -5, high: 10 }', 'x: { type: float, low: -5, high: 10, when: { n: 2 } }').replace('n: { type: int, low: 1, high: 8 }', 'n: { type: int, low: 1, high: 8, when: { x: 1 } }');
    expect(error(text).message).toMatch(/"when" conditions form a cycle through "(x|n)"/);
  });

  it('rejects a file without objectives', () => {
    expect(error(base.replace('  - { name: value, direction: minimize }\n', '').replace('objectives:\n', 'objectives: []\n')).message).toMatch(/space\.yaml:2:\d+: objectives: at least one objective/);
    expect(error(base.replace('objectives:\n  - { name: value, direction: minimize }\n', '')).message).toMatch(/missing required key "objectives"/);
  });

  it('rejects an unknown workload kind with a did-you-mean', () => {
    expect(error(base.replace('kind: benchmark', 'kind: benchmrk')).message).toMatch(/space\.yaml:9:\d+: workload\.kind: unknown workload kind "benchmrk" \(did you mean "benchmark"\?\)/);
  });

  it('rejects an unknown param type and direction', () => {
    expect(error(base.replace('type: int', 'type: integer')).message).toMatch(/params\.n\.type: unknown param type "integer"/);
    expect(error(base.replace('direction: minimize', 'direction: down')).message).toMatch(/objectives\.0\.direction: .*minimize.*maximize/);
  });

  it('reports YAML syntax errors with their position', () => {
    const e = error('name: demo\nobjectives: [ { name: v, direction: minimize }\nparams: {}\n');
    expect(e.message).toMatch(/^space\.yaml:\d+:\d+: YAML syntax error/);
  });

  it('rejects an enqueued configuration that does not fit the space', () => {
    expect(error(`${base}enqueue:\n  - { x: 99, n: 2, opt: adam }\n`).message).toMatch(/enqueue\.0: enqueued configuration is invalid: "x": 99 is outside \[-5, 10\]/);
  });

  it('reads a missing file as one clear error', async () => {
    const { loadSpaceFile } = await import('./parse');
    expect(() => loadSpaceFile('/no/such/space.yaml')).toThrow(/^\/no\/such\/space\.yaml:1:1: file not found$/);
  });
});
