// Bad input is refused in one line with exit 2, before anything is written.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync, copyFileSync, existsSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, repoRoot } from './support/cli';

let dir: string;
const QUAD = `name: quad
objectives: [{ name: value, direction: minimize }]
params:
  x: { type: float, low: -5, high: 5 }
  y: { type: float, low: -5, high: 5 }
sampler: { kind: random }
workload: { kind: module, path: ./slow-quadratic.mjs }
`;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'segtune-input-'));
  copyFileSync(join(repoRoot, 'tests/fixtures/slow-quadratic.mjs'), join(dir, 'slow-quadratic.mjs'));
  writeFileSync(join(dir, 'quad.yaml'), QUAD);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function bad(args: string[], pattern: RegExp, code = 2) {
  const r = runCli(args, { cwd: dir, env: { SEGTUNE_TEST_DELAY_MS: '0' } });
  expect(r.stderr.trim().split('\n'), r.stderr).toHaveLength(1);
  expect(r.stderr).toMatch(pattern);
  expect(r.stderr).not.toMatch(/\n\s+at /);
  expect(r.code, r.stderr).toBe(code);
  return r;
}

describe('--study names', () => {
  it('follow the rule of a space file name, so an export cannot leave results/', () => {
    const db = join(dir, 'names.db');
    bad(['search', 'quad.yaml', '--trials', '1', '--storage', db, '--study', '../../x'], /^segtune: --study: "\.\.\/\.\.\/x" is not a valid name; allowed: letters A-Z/);
    bad(['search', 'quad.yaml', '--trials', '1', '--storage', db, '--study', 'étude'], /--study: "étude" is not a valid name/);
    bad(['worker', '--storage', db, '--study', 'a/b'], /--study: "a\/b" is not a valid name/);
    expect(existsSync(db)).toBe(false);
    expect(existsSync(join(dir, '..', 'x'))).toBe(false);
    expect(readdirSync(dir)).not.toContain('results');
  });
});

describe('read-only commands', () => {
  it('never create a storage: a missing file is one line, exit 2', () => {
    for (const args of [['status'], ['status', '--study', 'quad'], ['pareto', '--study', 'quad'], ['export', '--study', 'quad']]) {
      const db = join(dir, 'typo.db');
      bad([...args, '--storage', db], /^segtune: --storage: .*typo\.db does not exist/);
      expect(existsSync(db)).toBe(false);
    }
    bad(['status'], /--storage: results\/segtune\.db does not exist/);
    expect(existsSync(join(dir, 'results'))).toBe(false);
  });
  it('refuse an empty or foreign SQLite file without writing to it', () => {
    const db = join(dir, 'empty.db');
    writeFileSync(db, '');
    bad(['status', '--storage', db], /storage .*empty\.db holds no segtune data/);
    expect(readFileSync(db, 'utf8')).toBe('');
  });
});

describe('search checks every input before it writes anything', () => {
  const cases: [string, string[], RegExp][] = [
    ['a missing --enqueue file', ['--enqueue', 'missing.yaml'], /--enqueue: cannot read missing\.yaml/],
    ['--heap-limit-mb 1', ['--heap-limit-mb', '1'], /--heap-limit-mb must be a whole number of at least 16/],
    ['--trial-timeout 0s', ['--trial-timeout', '0s'], /--trial-timeout: "0s" must be longer than 0/],
    ['--timeout 0s', ['--timeout', '0s'], /--timeout: "0s" must be longer than 0/],
    ['--gpus 97', ['--gpus', '97', '--executor', 'gpu'], /--gpus 97: unknown GPU index 97/],
  ];
  for (const [what, flags, pattern] of cases) {
    it(`${what}: one line, exit 2, no database file`, () => {
      const db = join(dir, `early-${flags[0].slice(2)}.db`);
      bad(['search', 'quad.yaml', '--trials', '2', '--storage', db, ...flags], pattern);
      expect(existsSync(db)).toBe(false);
    });
  }
  it('a failed --enqueue leaves no study that blocks the next run', () => {
    const db = join(dir, 'enqueue.db');
    bad(['search', 'quad.yaml', '--trials', '1', '--storage', db, '--enqueue', 'missing.yaml'], /--enqueue/);
    const r = runCli(['search', 'quad.yaml', '--trials', '1', '--storage', db], { cwd: dir, env: { SEGTUNE_TEST_DELAY_MS: '0' } });
    expect(r.code, r.stderr).toBe(0);
  });
});
