import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, rmSync, existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { runCli, repoRoot } from './support/cli';

let dir: string;
let db: string;
const zdt1 = join(repoRoot, 'search-spaces/zdt1.yaml');

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'segtune-pareto-'));
  db = join(dir, 'mo.db');
  for (const [study, seed] of [['zdt1', '1'], ['zdt1-b', '2']]) {
    const r = runCli(['search', zdt1, '--study', study, '--trials', '30', '--sampler', 'random', '--seed', seed, '--storage', db, '--workers', '1', '--executor', 'inline'], { cwd: dir });
    expect(r.stderr).toBe(r.stderr); // keep output for debugging on failure
    expect(r.code, r.stderr).toBe(0);
  }
}, 240_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('end of a multi-objective search', () => {
  it('leaves the Pareto plot and the knee export in results/<study>/', () => {
    expect(existsSync(join(dir, 'results/zdt1/pareto.svg'))).toBe(true);
    expect(existsSync(join(dir, 'results/zdt1/pareto.png'))).toBe(true);
    const knee = parse(readFileSync(join(dir, 'results/zdt1/export-knee.yaml'), 'utf8'));
    expect(knee).toMatchObject({ study: 'zdt1', pick: 'knee' });
    expect(Object.keys(knee.params)).toHaveLength(30);
  });
});

describe('segtune pareto', () => {
  it('prints each front with its hypervolume against one shared reference point, and plots both', () => {
    const r = runCli(['pareto', '--study', 'zdt1', '--study', 'zdt1-b', '--storage', db, '--json'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.studies.map((s: { name: string }) => s.name)).toEqual(['zdt1', 'zdt1-b']);
    for (const s of doc.studies) {
      expect(s.front.length).toBeGreaterThan(0);
      expect(s.hypervolume).toBeGreaterThan(0);
      // No front point dominates another.
      for (const a of s.front) for (const b of s.front) if (a !== b) expect(a.values.f1 <= b.values.f1 && a.values.f2 <= b.values.f2 && (a.values.f1 < b.values.f1 || a.values.f2 < b.values.f2)).toBe(false);
    }
    expect(doc.reference_point).toHaveLength(2);
    const svg = readFileSync(doc.plot.svg, 'utf8');
    expect(svg).toMatch(/zdt1-b/);
    expect(existsSync(doc.plot.png)).toBe(true);
    const text = runCli(['pareto', '--study', 'zdt1,zdt1-b', '--storage', db, '--out', join(dir, 'cmp.svg')], { cwd: dir });
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/study "zdt1": \d+ of 30 complete trials on the front; hypervolume [\d.]+/);
    expect(text.stdout).toMatch(/trial\s+f1 ↓\s+f2 ↓\s+x1/);
    expect(existsSync(join(dir, 'cmp.png'))).toBe(true);
  });
});

describe('segtune export', () => {
  it('round-trips: the exported configuration, enqueued, runs with the same params', () => {
    const out = join(dir, 'knee.json');
    const r = runCli(['export', '--study', 'zdt1', '--pick', 'knee', '--format', 'json', '--out', out, '--storage', db], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    const exported = JSON.parse(readFileSync(out, 'utf8'));
    expect(exported).toMatchObject({ segtune_version: expect.any(String), study: 'zdt1', pick: 'knee', trial: expect.any(Number) });
    const again = runCli(['search', zdt1, '--study', 'replay', '--trials', '1', '--enqueue', out, '--storage', db, '--json', '--executor', 'inline', '--no-export'], { cwd: dir });
    expect(again.code, again.stderr).toBe(0);
    const trial = JSON.parse(again.stdout).trials[0];
    expect(trial.params).toEqual(exported.params);
    expect(trial.values).toEqual(exported.objectives);
  });

  it('picks the most accurate feasible trial for a constraint', () => {
    const r = runCli(['export', '--study', 'zdt1', '--pick', 'f2<=4', '--format', 'json', '--out', join(dir, 'c.json'), '--storage', db], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(readFileSync(join(dir, 'c.json'), 'utf8'));
    expect(doc.objectives.f2).toBeLessThanOrEqual(4);
    const all = JSON.parse(runCli(['status', '--study', 'zdt1', '--storage', db, '--json'], { cwd: dir }).stdout).trials;
    const feasible = all.filter((t: { values: { f2: number } }) => t.values.f2 <= 4);
    expect(doc.objectives.f1).toBe(Math.min(...feasible.map((t: { values: { f1: number } }) => t.values.f1)));
  });

  it('--trial N exports that complete trial (one picked from the front by hand)', () => {
    const all = JSON.parse(runCli(['status', '--study', 'zdt1', '--storage', db, '--json'], { cwd: dir }).stdout).trials as { number: number; params: unknown; values: unknown }[];
    const chosen = all[all.length - 3];
    const r = runCli(['export', '--study', 'zdt1', '--trial', String(chosen.number), '--format', 'json', '--out', join(dir, 't.json'), '--storage', db], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(readFileSync(join(dir, 't.json'), 'utf8'));
    expect(doc).toMatchObject({ trial: chosen.number, pick: `trial:${chosen.number}`, params: chosen.params, objectives: chosen.values });
  });

  const bad = (args: string[], pattern: RegExp) => {
    const r = runCli(args, { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(pattern);
  };
  it('bad input: unknown study, malformed or unknown pick rule, no feasible trial, missing output folder', () => {
    bad(['export', '--study', 'zdt2', '--storage', db], /no study named "zdt2".*did you mean "zdt1"/);
    bad(['pareto', '--study', 'nope', '--storage', db], /no study named "nope"/);
    bad(['export', '--study', 'zdt1', '--pick', 'latency<>5', '--storage', db], /latency<>5/);
    bad(['export', '--study', 'zdt1', '--pick', 'latency_ms<=5', '--storage', db], /unknown .*latency_ms/);
    bad(['export', '--study', 'zdt1', '--pick', 'f1<=-1', '--storage', db], /no trial satisfies "f1<=-1".*lowest f1 seen is/);
    bad(['export', '--study', 'zdt1', '--out', '/no/such/folder/x.yaml', '--storage', db], /--out: folder \/no\/such\/folder does not exist/);
    bad(['pareto', '--study', 'zdt1', '--out', '/no/such/folder/p.svg', '--storage', db], /--out: folder \/no\/such\/folder does not exist/);
    bad(['export', '--study', 'zdt1', '--trial', '999', '--storage', db], /^segtune: --trial: study "zdt1" has no trial 999 \(trials 0 to 29\)$/m);
    bad(['export', '--study', 'zdt1', '--trial', '1', '--pick', 'knee', '--storage', db], /^segtune: export: give --trial N or --pick RULE, not both$/m);
  });
});
