// The CLI builds samplers and schedulers through one factory: promotion mode resumes paused
// configurations from their checkpoints, BOHB keeps its model, and --sampler keeps the space
// file's options of the same kind.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { runCli } from './support/cli';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'segtune-strategies-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const SIM = (scheduler: string, sampler = '') => `name: sim
objectives: [{ name: accuracy, direction: maximize }]
params:
  width: { type: int, low: 8, high: 128, log: true }
  depth: { type: int, low: 2, high: 6 }
  lr: { type: float, low: 0.0001, high: 1, log: true }
budget: { name: epochs, min: 1, max: 9 }
scheduler: ${scheduler}
${sampler}
workload: { kind: simulator, noise: 0 }
`;

interface Row {
  number: number;
  state: string;
  params: string;
  inter: string;
  attrs: string;
}

function trialsOf(db: string): { number: number; state: string; params: string; inter: string; steps: number[]; attrs: Record<string, unknown> }[] {
  const d = new Database(db, { readonly: true });
  try {
    const rows = d.prepare('SELECT number, state, params, intermediate AS inter, attrs FROM trials ORDER BY number').all() as Row[];
    return rows.map((r) => ({
      number: r.number,
      state: r.state,
      params: r.params,
      inter: r.inter ?? '{}',
      steps: Object.keys(JSON.parse(r.inter ?? '{}') as object).map(Number).sort((a, b) => a - b),
      attrs: JSON.parse(r.attrs) as Record<string, unknown>,
    }));
  } finally {
    d.close();
  }
}

describe('strategies through the CLI', () => {
  it('scheduler asha in promotion mode resumes paused configurations from their checkpoints', () => {
    writeFileSync(join(dir, 'promo.yaml'), SIM('{ kind: asha, mode: promotion, reduction_factor: 3 }', 'sampler: { kind: random }'));
    const db = join(dir, 'promo.db');
    const r = runCli(['search', 'promo.yaml', '--trials', '30', '--storage', db, '--seed', '4', '--workers', '2', '--executor', 'inline', '--no-export', '--quiet'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    const trials = trialsOf(db);
    const resumed = trials.filter((t) => t.attrs.resumed_from_step !== undefined);
    expect(resumed.length).toBeGreaterThan(0);
    for (const t of resumed) {
      const from = trials.find((x) => x.number === t.attrs.resumed_from_trial)!;
      // Same configuration, reports continue right after the checkpoint's step.
      expect(t.params).toBe(from.params);
      expect(from.state).toBe('pruned');
      expect(from.steps[from.steps.length - 1]).toBe(t.attrs.resumed_from_step);
      expect(t.steps[0]).toBe((t.attrs.resumed_from_step as number) + 1);
      expect(t.attrs.resume_error).toBeUndefined();
    }
    // No epoch trained twice: a configuration's runs report disjoint, contiguous steps from 1.
    const byConfig = new Map<string, number[]>();
    for (const t of trials) byConfig.set(t.params, [...(byConfig.get(t.params) ?? []), ...t.steps]);
    for (const steps of byConfig.values()) expect(steps).toEqual(Array.from({ length: steps.length }, (_, i) => i + 1));
  });

  it('scheduler pbt replaces the bottom quarter with perturbed copies of top trials, continued from their checkpoints', () => {
    writeFileSync(join(dir, 'pbt.yaml'), SIM('{ kind: pbt, population_size: 4, perturbation_interval: 3 }', 'sampler: { kind: random }').replace('name: sim', 'name: pbt'));
    const db = join(dir, 'pbt.db');
    const r = runCli(['search', 'pbt.yaml', '--trials', '24', '--storage', db, '--seed', '3', '--workers', '1', '--executor', 'inline', '--no-export', '--quiet'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    const trials = trialsOf(db);
    const replacements = trials.filter((t) => t.attrs.pbt_parent !== undefined);
    expect(replacements.length).toBeGreaterThan(2);
    for (const t of replacements) {
      expect(t.attrs.resume_transfer).toBe(true);
      // From the parent's state kept at the interval step (its latest may be further, or final).
      expect(t.attrs.resume_error).toBeUndefined();
      expect(t.attrs.resumed_from_step as number).toBeGreaterThanOrEqual(3);
      expect((t.attrs.resumed_from_step as number) % 3).toBe(0);
      expect(t.steps[0]).toBe((t.attrs.resumed_from_step as number) + 1);
      expect(trials.find((x) => x.number === t.attrs.pbt_replaces)!.state).toBe('pruned');
      // Only the float param is perturbed: the ints are the parent's.
      const parent = JSON.parse(trials.find((x) => x.number === t.attrs.pbt_parent)!.params) as Record<string, number>;
      const own = JSON.parse(t.params) as Record<string, number>;
      expect([own.width, own.depth]).toEqual([parent.width, parent.depth]);
    }
    // Kept checkpoints below every place a replacement can copy from (24 trials: the first 7
    // ranked at a step) were deleted as the study went, and recorded; the others are there.
    const stepDir = (n: number, step: number) => join(dir, 'results', 'pbt', `trial-${n}`, `step-${step}`);
    const released = trials.flatMap((t) => ((t.attrs.checkpoints_released as number[] | undefined) ?? []).map((step) => ({ n: t.number, step })));
    expect(released.length).toBeGreaterThan(0);
    for (const { n, step } of released) expect(existsSync(stepDir(n, step)), `trial ${n} step ${step}`).toBe(false);
    const value = (t: (typeof trials)[number], step: number) => (JSON.parse(t.inter) as Record<string, Record<string, number>>)[String(step)]?.accuracy;
    for (const step of [3, 6]) {
      const ranked = trials.filter((t) => value(t, step) !== undefined).sort((a, b) => value(b, step) - value(a, step) || a.number - b.number);
      ranked.forEach((t, place) => {
        const gone = released.some((r) => r.n === t.number && r.step === step);
        if (place < 7) expect(gone, `place ${place} at step ${step}`).toBe(false);
        expect(existsSync(stepDir(t.number, step))).toBe(!gone);
      });
    }
  });

  it('bohb with a sampler block is refused in one line instead of losing its model', () => {
    writeFileSync(join(dir, 'bohb.yaml'), SIM('{ kind: bohb }', 'sampler: { kind: tpe }'));
    const r = runCli(['search', 'bohb.yaml', '--trials', '2', '--storage', join(dir, 'bohb.db')], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^segtune: sampler "tpe": scheduler "bohb" proposes configurations with its own model and takes no sampler/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    writeFileSync(join(dir, 'bohb2.yaml'), SIM('{ kind: bohb }'));
    const flag = runCli(['search', 'bohb2.yaml', '--sampler', 'gp', '--trials', '2', '--storage', join(dir, 'bohb.db')], { cwd: dir });
    expect(flag.code).toBe(2);
    expect(flag.stderr).toMatch(/--sampler gp: scheduler "bohb"/);
    // Without a sampler, BOHB runs its own model sampler.
    const ok = runCli(['search', 'bohb2.yaml', '--trials', '3', '--storage', join(dir, 'bohb.db'), '--seed', '1', '--executor', 'inline', '--no-export'], { cwd: dir });
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stderr).toMatch(/sampler bohb, scheduler bohb/);
  });

  it('--sampler of the same kind keeps the file\'s options; another kind says it set them aside', () => {
    writeFileSync(join(dir, 'tpe.yaml'), SIM('{ kind: none }', 'sampler: { kind: tpe, gamma: 0.1, n_startup_trials: 3 }').replace('name: sim', 'name: tpe'));
    const db = join(dir, 'tpe.db');
    const same = runCli(['search', 'tpe.yaml', '--sampler', 'tpe', '--trials', '2', '--storage', db, '--seed', '1', '--executor', 'inline', '--no-export', '--json'], { cwd: dir });
    expect(same.code, same.stderr).toBe(0);
    expect(same.stderr).not.toMatch(/warning/);
    expect(JSON.parse(same.stdout).sampler).toEqual({ kind: 'tpe', gamma: 0.1, n_startup_trials: 3 });
    const other = runCli(['search', 'tpe.yaml', '--sampler', 'random', '--study', 'tpe2', '--trials', '2', '--storage', db, '--seed', '1', '--executor', 'inline', '--no-export'], { cwd: dir });
    expect(other.code, other.stderr).toBe(0);
    expect(other.stderr).toMatch(/^warning: --sampler random: the space file's sampler options \(tpe: gamma, n_startup_trials\) were not used$/m);
  });
});
