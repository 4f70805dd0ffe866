// A run in which nothing completed is a failed run (exit 1, with the reasons), and
// --max-failures stops a search that keeps failing.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync, copyFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { runCli, repoRoot } from './support/cli';

let dir: string;
const env = { SEGTUNE_TEST_DELAY_MS: '0' };
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'segtune-failed-'));
  copyFileSync(join(repoRoot, 'tests/fixtures/slow-quadratic.mjs'), join(dir, 'slow-quadratic.mjs'));
  // The fixture returns NaN for x > 4.5: every trial of this space fails as non-finite.
  writeFileSync(
    join(dir, 'nan.yaml'),
    `name: allnan
objectives: [{ name: value, direction: minimize }]
params:
  x: { type: float, low: 4.6, high: 5 }
  y: { type: float, low: -5, high: 5 }
sampler: { kind: random }
workload: { kind: module, path: ./slow-quadratic.mjs }
`,
  );
  writeFileSync(
    join(dir, 'rosen.yaml'),
    `name: rosen
objectives: [{ name: value, direction: minimize }]
params:
  x1: { type: float, low: -2, high: 2 }
  x2: { type: float, low: -2, high: 2 }
workload: { kind: benchmark, function: "rosenbrock(d=4)" }
`,
  );
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const states = (db: string) => {
  const d = new Database(db, { readonly: true });
  try {
    return Object.fromEntries((d.prepare('SELECT state, COUNT(*) AS n FROM trials GROUP BY state').all() as { state: string; n: number }[]).map((r) => [r.state, r.n]));
  } finally {
    d.close();
  }
};

describe('failed runs', () => {
  it('exit 1 when no trial completed, with the top failure reasons', () => {
    const db = join(dir, 'nan.db');
    const r = runCli(['search', 'nan.yaml', '--trials', '3', '--workers', '1', '--storage', db], { cwd: dir, env });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/segtune: no trial completed \(3 finished\); reasons: non-finite ×3 \(objective "value" is NaN\)/);
    expect(states(db)).toEqual({ failed: 3 });
  });

  it('--max-failures N stops after N failed trials in a row', () => {
    const db = join(dir, 'max.db');
    const r = runCli(['search', 'nan.yaml', '--trials', '50', '--workers', '1', '--max-failures', '2', '--storage', db], { cwd: dir, env });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/segtune: stopped after 2 failed trials in a row \(--max-failures\); reasons: non-finite ×2/);
    expect(states(db)).toEqual({ failed: 2 });
    const bad = runCli(['search', 'nan.yaml', '--max-failures', '0', '--storage', db], { cwd: dir, env });
    expect(bad.code).toBe(2);
  });

  it('a benchmark given fewer params than its dimension is refused before anything runs', () => {
    const db = join(dir, 'rosen.db');
    const r = runCli(['search', 'rosen.yaml', '--trials', '3', '--storage', db], { cwd: dir, env });
    expect(r.stderr.trim()).toMatch(/^segtune: workload\.function: benchmark "rosenbrock" needs param "x3"; it needs x1, x2, x3, x4$/);
    expect(r.code).toBe(2);
    expect(existsSync(db)).toBe(false);
  });
});
