import { describe, expect, it } from 'vitest';
import { nameProblem } from './names';
import { parseSpace } from './parse';

const space = (name: string, param: string, objective: string) => `name: ${name}
objectives: [{ name: ${objective}, direction: minimize }]
params:
  ${param}: { type: float, low: 0, high: 1 }
workload: { kind: benchmark, function: sphere }
`;

describe('one rule for param, objective and study names', () => {
  it('accepts ASCII names and refuses the rest with what is allowed', () => {
    for (const ok of ['lr', 'unet.width', 'drop-out', '_x', 'a1']) expect(nameProblem(ok)).toBeUndefined();
    for (const bad of ['', '1x', 'taux_é', '../../x', 'a/b', '..', 'a b', 'x'.repeat(101)]) expect(nameProblem(bad)).toMatch(/allowed: letters A-Z|is required/);
  });

  it('applies to param names in a space file, with the line of the key (they are argv placeholders)', () => {
    expect(() => parseSpace(space('demo', 'größe', 'loss'), 'space.yaml')).toThrow(/^space\.yaml:4:3: params\.größe: param name "größe" is not a valid name; allowed: letters A-Z/);
    expect(() => parseSpace(space('demo', 'x', 'verlust_ä'), 'space.yaml')).toThrow(/^space\.yaml:2:\d+: objectives\.0\.name: .*letters A-Z/);
    expect(() => parseSpace(space('../../x', 'x', 'loss'), 'space.yaml')).toThrow(/^space\.yaml:1:\d+: name: .*letters A-Z/);
    expect(parseSpace(space('demo', 'x', 'loss'), 'space.yaml').space.names).toEqual(['x']);
  });
});
