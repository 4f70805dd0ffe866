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
    const r = runCli(['search', 'quad.yaml', '--trials', '1', '--storage', db, '--seed', '1'], { cwd: dir, env: { SEGTUNE_TEST_DELAY_MS: '0' } });
    expect(r.code, r.stderr).toBe(0);
  });
});

describe('errors: one line, the right exit code, what is allowed', () => {
  it('a YAML alias bomb names the file and line', () => {
    const lines = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
    for (let i = 1; i < 10; i++) lines.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(9).fill(`*${String.fromCharCode(96 + i)}`).join(',')}]`);
    writeFileSync(join(dir, 'bomb.yaml'), `${lines.join('\n')}\n`);
    bad(['search', 'bomb.yaml', '--storage', join(dir, 'bomb.db')], /^segtune: bomb\.yaml:1:1: YAML error: .*alias/i);
  });
  it('a bound beyond the float range says so', () => {
    writeFileSync(join(dir, 'huge.yaml'), QUAD.replace('high: 5 }\n  y:', 'high: 1e400 }\n  y:').replace('name: quad', 'name: huge'));
    bad(['search', 'huge.yaml', '--storage', join(dir, 'huge.db')], /^segtune: huge\.yaml:4:\d+: params\.x\.high: expected number, got infinity \(a number beyond the float range/);
  });
  it('a bad sampler or scheduler option names file:line:column, before any storage is written', () => {
    const db = join(dir, 'options.db');
    writeFileSync(join(dir, 'gamma.yaml'), QUAD.replace('sampler: { kind: random }', 'sampler:\n  kind: tpe\n  gamma: 2').replace('name: quad', 'name: gamma'));
    bad(['search', 'gamma.yaml', '--storage', db], /^segtune: gamma\.yaml:8:10: sampler\.gamma: must be a number in \(0, 1\), got 2\n$/);
    const asha = QUAD.replace('sampler: { kind: random }', 'budget: { name: epochs, min: 1, max: 9 }\nscheduler: { kind: asha, reducton_factor: 3 }').replace('name: quad', 'name: asha');
    writeFileSync(join(dir, 'asha.yaml'), asha);
    bad(['search', 'asha.yaml', '--storage', db], /^segtune: asha\.yaml:7:26: scheduler\.reducton_factor: unknown option "reducton_factor" \(did you mean "reduction_factor"\?\); allowed: /);
    expect(existsSync(db)).toBe(false);
  });
  it("commander's own errors carry the segtune: prefix", () => {
    bad(['search'], /^segtune: missing required argument 'space'\n$/);
    bad(['search', 'quad.yaml', '--nope'], /^segtune: unknown option '--nope'\n$/);
  });
  it('integers beyond 2^53 and unknown backends are refused like 1e99', () => {
    bad(['search', 'quad.yaml', '--trials', '99999999999999999999'], /^segtune: option '--trials <n>' argument '99999999999999999999' is invalid\. --trials expects a positive integer \(1 to 9007199254740991\)/);
    bad(['search', 'quad.yaml', '--trials', '1e99'], /--trials expects a positive integer/);
    bad(['search', 'quad.yaml', '--backend', 'cuda'], /^segtune: option '--backend <name>' argument 'cuda' is invalid\. Allowed choices are tensorflow-gpu, tensorflow, wasm, cpu\.\n$/);
  });
  it('sqlite://x.db is refused instead of silently becoming a relative file', () => {
    bad(['search', 'quad.yaml', '--trials', '1', '--storage', 'sqlite://x.db'], /^segtune: --storage: sqlite:\/\/x\.db has two slashes; use sqlite:\/\/\/x\.db/);
    expect(existsSync(join(dir, 'x.db'))).toBe(false);
  });
  it('an export to a path that cannot be written, and a damaged database, name the flag and the path', () => {
    const db = join(dir, 'damaged.db');
    const r = runCli(['search', 'quad.yaml', '--trials', '40', '--workers', '2', '--storage', db, '--no-export', '--quiet'], { cwd: dir, env: { SEGTUNE_TEST_DELAY_MS: '0' } });
    expect(r.code, r.stderr).toBe(0);
    bad(['export', '--study', 'quad', '--storage', db, '--out', '/proc/x.yaml'], /^segtune: --out: cannot write \/proc\/x\.yaml: /);
    // Garble every page but the first (the schema): the file opens, its trials do not read.
    const bytes = readFileSync(db);
    expect(bytes.length).toBeGreaterThan(3 * 4096);
    for (let i = 4096; i < bytes.length; i++) bytes[i] = (i * 7919) & 0xff;
    writeFileSync(db, bytes);
    bad(['status', '--storage', db, '--study', 'quad'], new RegExp(`^segtune: --storage: ${db.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} is damaged \\(`));
  });
});
