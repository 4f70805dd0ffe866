import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, repoRoot } from './support/cli';

let dir: string;
let db: string;

const SPACE = `name: six
objectives:
  - { name: loss, direction: minimize }
  - { name: cost, direction: minimize }
params:
  a: { type: float, low: 0, high: 1 }
  b: { type: float, low: 0, high: 1 }
  c: { type: float, low: 0, high: 1 }
  d: { type: float, low: 0, high: 1 }
  e: { type: float, low: 0, high: 1 }
  kind: { type: categorical, choices: [x, y, z] }
sampler: { kind: random }
workload: { kind: module, path: ./two-of-six.mjs }
`;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'segtune-importance-'));
  db = join(dir, 'six.db');
  copyFileSync(join(repoRoot, 'tests/fixtures/two-of-six.mjs'), join(dir, 'two-of-six.mjs'));
  writeFileSync(join(dir, 'six.yaml'), SPACE);
  const r = runCli(['search', 'six.yaml', '--trials', '200', '--seed', '3', '--storage', db, '--workers', '1', '--executor', 'inline', '--no-export', '--quiet'], { cwd: dir });
  expect(r.code, r.stderr).toBe(0);
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('segtune importance', () => {
  it('prints a table per objective and for the Pareto front, the params that matter first', () => {
    const r = runCli(['importance', '--study', 'six', '--storage', db], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/study "six", objective loss: ped-anova, 200 complete trials, 90% intervals from 30 bootstrap resamples/);
    expect(r.stdout).toMatch(/Pareto front \(non-dominated rank\)/);
    expect(r.stdout).toMatch(/rank\s+param\s+importance\s+interval/);
    const lossTable = r.stdout.split('objective loss')[1].split('study "six"')[0];
    const firstTwo = [...lossTable.matchAll(/^\s*[12]\s+(\w+)\s/gm)].map((m) => m[1]).sort();
    expect(firstTwo).toEqual(['a', 'b']);
  });

  it.each(['ped-anova', 'fanova'])('--json --method %s: one document; --out writes the bar chart', (method) => {
    const out = join(dir, `imp-${method}.svg`);
    const r = runCli(['importance', '--study', 'six', '--storage', db, '--method', method, '--json', '--out', out], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.method).toBe(method);
    expect(doc.targets.map((t: { target: string }) => t.target)).toEqual(['loss', 'cost', 'pareto']);
    const [loss, cost] = doc.targets;
    expect(loss.params.slice(0, 2).map((p: { name: string }) => p.name).sort()).toEqual(['a', 'b']);
    expect(cost.params[0].name).toBe('c');
    for (const t of doc.targets) {
      expect(t.params.reduce((s: number, p: { importance: number }) => s + p.importance, 0)).toBeCloseTo(1, 6);
      for (const p of t.params) {
        expect(p.low).toBeLessThanOrEqual(p.importance);
        expect(p.importance).toBeLessThanOrEqual(p.high);
      }
    }
    expect(doc.plot.svg).toBe(out);
    const svg = readFileSync(out, 'utf8');
    expect(svg).toMatch(/^<svg/);
    expect(svg).toMatch(/Pareto front/);
    expect(svg).toMatch(/importance \(90% interval\)/);
    // One bar per param and target (vega draws rects as paths in the bars' colour).
    expect(svg.match(/fill="#4c78a8"/g)?.length ?? 0).toBeGreaterThanOrEqual(18);
    expect(existsSync(out.replace(/\.svg$/, '.png'))).toBe(true);
  });

  it('--objective picks one target', () => {
    const r = runCli(['importance', '--study', 'six', '--storage', db, '--objective', 'cost', '--json'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).targets.map((t: { target: string }) => t.target)).toEqual(['cost']);
  });

  const bad = (args: string[], message: RegExp) => {
    const r = runCli(['importance', '--storage', db, ...args], { cwd: dir });
    expect(r.code, r.stdout).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(message);
  };

  it('bad input is one line and exit 2', () => {
    bad(['--study', 'sx'], /--study: no study named "sx".*did you mean "six"/);
    bad(['--study', 'six', '--objective', 'los'], /--objective: no objective named "los".*did you mean "loss".*allowed: loss, cost, pareto/);
    bad(['--study', 'six', '--method', 'shap'], /--method/);
    const few = join(dir, 'few.db');
    expect(runCli(['search', 'six.yaml', '--study', 'few', '--trials', '3', '--storage', few, '--workers', '1', '--executor', 'inline', '--no-export', '--quiet'], { cwd: dir }).code).toBe(0);
    const r = runCli(['importance', '--study', 'few', '--storage', few], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/at least 8 complete trials.*has 3/);
  });
});
