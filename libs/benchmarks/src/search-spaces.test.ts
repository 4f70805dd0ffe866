import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadSpaceFile } from '@segtune/space';
import { getBenchmark } from './functions';
import { benchmarkSpaceProblems } from './functions-workload';

const spacesDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'search-spaces');

describe('example benchmark spaces', () => {
  it.each(['branin', 'hartmann6', 'rosenbrock', 'zdt1', 'dtlz2'])('search-spaces/%s.yaml loads and fits its benchmark', (name) => {
    const file = join(spacesDir, `${name}.yaml`);
    expect(readFileSync(file, 'utf8').split('\n')[0]).toBe('# yaml-language-server: $schema=./space.schema.json');
    const { spec, space } = loadSpaceFile(file);
    expect(spec.workload.kind).toBe('benchmark');
    if (spec.workload.kind !== 'benchmark') return;
    const fn = getBenchmark(spec.workload.function);
    expect(fn.name).toBe(name);
    expect(benchmarkSpaceProblems(spec)).toEqual([]);
    expect(space.names).toEqual(Object.keys(fn.params));
    expect(spec.objectives).toEqual(fn.objectives);
    for (const p of space.params) expect(p).toMatchObject(fn.params[p.name]);
  });
});
