// `segtune ask` / `segtune tell` from several processes at once on one PostgreSQL study (issue
// 18): each process loops ask → tell until ask reports the study's trial limit. The storage must
// hand out exactly N trials, numbered 0..N-1 with no gap and no duplicate, all told.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { PostgresStorage } from '@segtune/storage';
import { createTestDatabase, pgSkipPolicy, pgUnavailableReason, type TestDatabase } from '../libs/storage/src/pg-test-database';
import { cliBin, runCli } from './support/cli';

const policy = pgSkipPolicy(await pgUnavailableReason());
if (policy.failInCi) {
  it('PostgreSQL is reachable (CI is set, so its absence fails the run)', () => {
    throw new Error(policy.label);
  });
}

const N = 10;
const SPACE = `name: quad
objectives: [{ name: value, direction: minimize }]
params:
  x: { type: float, low: -3, high: 3 }
  opt: { type: categorical, choices: [adam, sgd] }
sampler: { kind: tpe }
workload: { kind: benchmark, function: branin }
trials: ${N}
seed: 5
`;

// One caller: a loop over the real CLI, as a Python or shell program would drive it.
const DRIVER = `import { execFileSync } from 'node:child_process';
const [cli, url, space, id] = process.argv.slice(2);
const S = ['--study', 'quad', '--storage', url];
const run = (args) => execFileSync(process.execPath, [cli, ...args], { encoding: 'utf8' });
const mine = [];
for (;;) {
  const t = JSON.parse(run(['ask', ...S, '--space', space]));
  if (t.trial === null) break;
  mine.push(t.trial);
  if (t.trial % 5 === 4) run(['tell', ...S, '--trial', String(t.trial), '--state', 'failed', '--error', 'caller ' + id + ' gave up']);
  else run(['tell', ...S, '--trial', String(t.trial), '--step-values', JSON.stringify({ 1: (t.params.x - 1) ** 2 + 1 }), '--values', JSON.stringify({ value: (t.params.x - 1) ** 2 })]);
}
process.stdout.write(JSON.stringify(mine) + '\\n');
`;

describe.skipIf(policy.skip)(`segtune ask / tell on PostgreSQL${policy.label}`, () => {
  let db: TestDatabase;
  let dir: string;
  beforeAll(async () => {
    db = await createTestDatabase();
    dir = mkdtempSync(join(tmpdir(), 'segtune-ask-'));
    writeFileSync(join(dir, 'quad.yaml'), SPACE);
    writeFileSync(join(dir, 'driver.mjs'), DRIVER);
  });
  afterAll(async () => {
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it(`4 processes asking and telling at once make exactly ${N} trials, numbered densely`, async () => {
    const callers = [0, 1, 2, 3].map(
      (id) =>
        new Promise<{ code: number | null; out: string }>((done) => {
          const p = spawn(process.execPath, [join(dir, 'driver.mjs'), cliBin, db.url, join(dir, 'quad.yaml'), String(id)], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
          let out = '';
          p.stdout.on('data', (d: Buffer) => (out += d));
          p.stderr.on('data', (d: Buffer) => (out += d));
          p.on('exit', (code) => done({ code, out }));
        }),
    );
    const results = await Promise.all(callers);
    for (const r of results) expect(r.code, r.out).toBe(0);
    const handed = results.flatMap((r) => JSON.parse(r.out.trim().split('\n').pop()!) as number[]).sort((a, b) => a - b);
    expect(handed).toEqual([...Array(N).keys()]);

    const storage = await PostgresStorage.open(db.url);
    try {
      const study = (await storage.getStudy('quad'))!;
      const trials = await storage.getTrials(study.id);
      expect(trials.map((t) => t.number).sort((a, b) => a - b)).toEqual([...Array(N).keys()]);
      expect(trials.filter((t) => t.state === 'failed').map((t) => t.number).sort((a, b) => a - b)).toEqual([4, 9]);
      for (const t of trials.filter((x) => x.state === 'complete')) {
        expect(t.values![0]).toBeCloseTo(((t.params.x as number) - 1) ** 2, 12);
        expect(t.intermediate[1].value).toBeCloseTo(t.values![0] + 1, 12);
      }
      expect(trials.every((t) => t.state === 'complete' || t.state === 'failed')).toBe(true);
    } finally {
      await storage.close();
    }
    // The CLI's status reads the study like any other.
    const status = runCli(['status', '--storage', db.url, '--study', 'quad', '--json']);
    expect(status.code, status.stderr).toBe(0);
  }, 120_000);

  it('bad input is one line with exit code 2', () => {
    const bad = (args: string[], pattern: RegExp) => {
      const r = spawnSync(process.execPath, [cliBin, ...args], { encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(2);
      expect(r.stderr.trim()).toMatch(pattern);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    };
    bad(['tell', '--study', 'quad', '--storage', db.url, '--trial', '0', '--values', '{"value": 1}'], /^segtune: --trial: trial 0 of study "quad" is (complete|failed), not running; it was told already$/);
    bad(['tell', '--study', 'quad', '--storage', db.url, '--trial', '99', '--state', 'pruned'], /^segtune: --trial: study "quad" has no trial 99$/);
    bad(['tell', '--study', 'quad', '--storage', db.url, '--trial', '1'], /^segtune: tell: give exactly one of --values JSON and --state failed\|pruned$/);
    bad(['tell', '--study', 'quad', '--storage', db.url, '--trial', '1', '--values', '{value: 1}'], /^segtune: --values: not JSON/);
    bad(['ask', '--study', 'nope', '--storage', db.url], /^segtune: --study: no study named "nope" in .*; pass --space FILE to create it$/);
  });
});

// Python's json.dumps writes NaN for float('nan'): told as a value, it fails the trial as
// non-finite (as Optuna's tell does) instead of leaving it running behind a parse error.
describe('segtune tell with non-finite values (SQLite)', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'segtune-tell-'));
    writeFileSync(join(dir, 'quad.yaml'), SPACE);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('NaN, Infinity and -Infinity as Python prints them fail the trial as non-finite, exit 1', () => {
    const S = ['--study', 'quad', '--storage', join(dir, 'a.db')];
    for (const [values, shown] of [
      ['{"value": NaN}', 'NaN'],
      ['Infinity', 'Infinity'],
      ['[-Infinity]', '-Infinity'],
    ]) {
      const asked = runCli(['ask', ...S, '--space', join(dir, 'quad.yaml')]);
      expect(asked.code, asked.stderr).toBe(0);
      const trial = JSON.parse(asked.stdout).trial as number;
      const told = runCli(['tell', ...S, '--trial', String(trial), '--values', values]);
      expect(told.code, told.stderr).toBe(1);
      expect(JSON.parse(told.stdout)).toMatchObject({ trial, state: 'failed', values: null, error: `objective "value" is ${shown}` });
    }
    const status = runCli(['status', ...S, '--json']);
    expect((JSON.parse(status.stdout).trials as { state: string }[]).map((t) => t.state)).toEqual(['failed', 'failed', 'failed']);
    const bad = runCli(['tell', ...S, '--trial', '0', '--values', '{"value": 1} , "value": 2']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^segtune: --values: not JSON/);
  });
});
