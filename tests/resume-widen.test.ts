import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { runCli, repoRoot } from './support/cli';

// Continuing a finished study: more trials, and a space file changed since it began.

let dir: string;
const SPACE = (x: string, extra = '') => `name: grow
objectives: [{ name: value, direction: minimize }]
params:
  x: ${x}
  y: { type: float, low: -5, high: 5 }
${extra}sampler: { kind: random }
workload: { kind: module, path: ./slow-quadratic.mjs }
`;
const env = { SEGTUNE_TEST_DELAY_MS: '0' };
const run = (args: string[]) => runCli(['search', 'grow.yaml', '--storage', 'g.db', '--no-export', '--quiet', '--workers', '1', ...args], { cwd: dir, env });
const rows = () => {
  const d = new Database(join(dir, 'g.db'), { readonly: true });
  try {
    const trials = (d.prepare('SELECT COUNT(*) AS n FROM trials').get() as { n: number }).n;
    const attrs = JSON.parse((d.prepare("SELECT attrs FROM studies WHERE name = 'grow'").get() as { attrs: string }).attrs);
    return { trials, attrs };
  } finally {
    d.close();
  }
};

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'segtune-resume-'));
  copyFileSync(join(repoRoot, 'tests/fixtures/slow-quadratic.mjs'), join(dir, 'slow-quadratic.mjs'));
  writeFileSync(join(dir, 'grow.yaml'), SPACE('{ type: float, low: 0, high: 2 }'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('segtune search --resume on a finished study', () => {
  it('carries on with a larger --trials, and with a compatible change prints and stores it', () => {
    expect(run(['--trials', '4', '--seed', '1']).code).toBe(0);
    expect(run(['--resume']).code).toBe(0);
    expect(rows().trials).toBe(4); // no new limit: the study is done
    writeFileSync(join(dir, 'grow.yaml'), SPACE('{ type: float, low: -1, high: 4 }', '  z: { type: categorical, choices: [a, b], default: a }\n'));
    const r = run(['--resume', '--trials', '7']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('space change: param "x": range [0, 2] → [-1, 4] (widened)\n');
    expect(r.stderr).toContain('space change: param "z" added (default "a")\n');
    const { trials, attrs } = rows();
    expect(trials).toBe(7);
    expect(attrs.space_source).toContain('low: -1, high: 4');
    expect(attrs.space_history).toHaveLength(1);
    expect(attrs.space_history[0].changes).toHaveLength(2);
    expect(attrs.limits.trials).toBe(7);
    expect(attrs.stopped_by.reason).toBe('trials');
  });

  it('refuses an incompatible change in one line, exit 2, and writes nothing', () => {
    const before = rows();
    writeFileSync(join(dir, 'grow.yaml'), SPACE('{ type: float, low: 1.9, high: 4 }', '  z: { type: categorical, choices: [a, b], default: a }\n'));
    const r = run(['--resume', '--trials', '9']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/grow\.yaml: changed since study "grow" began, and the change is not compatible: param "x": range \[-1, 4\] → \[1\.9, 4\] leaves out completed trial #\d+/);
    expect(rows()).toEqual(before);
    writeFileSync(join(dir, 'grow.yaml'), SPACE('{ type: int, low: -1, high: 4 }', '  z: { type: categorical, choices: [a, b], default: a }\n'));
    const t = run(['--resume', '--trials', '9']);
    expect(t.code).toBe(2);
    expect(t.stderr).toMatch(/type changed from float to int/);
    expect(rows()).toEqual(before);
  });
});
