import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Pruned, Rng, type Sampler, type Scheduler, type WorkloadContext } from '@segtune/core';
import {
  bestReachableAccuracy,
  curveShape,
  simulate,
  simulatorMetrics,
  simulatorProblem,
  simulatorWorkload,
  trueAccuracy,
  SIMULATOR_DEFAULTS,
} from './simulator';

const random: Sampler = { name: 'random', suggest: (c) => c.space.decode(c.space.params.map(() => c.rng.random())) };

describe('learning-curve simulator', () => {
  it('curves are deterministic, saturating, and bigger models cost more per epoch', () => {
    const p = { ...SIMULATOR_DEFAULTS };
    expect(simulatorMetrics(p, 5, { seed: 3 })).toEqual(simulatorMetrics({ ...p }, 5, { seed: 3 }));
    expect(simulatorMetrics(p, 5, { seed: 3 }).accuracy).not.toBe(simulatorMetrics(p, 5, { seed: 4 }).accuracy);
    const curve = Array.from({ length: 27 }, (_, i) => trueAccuracy(p, i + 1));
    for (let i = 1; i < curve.length; i++) expect(curve[i]).toBeGreaterThan(curve[i - 1]);
    expect(curve[26] - curve[25]).toBeLessThan(curve[1] - curve[0]);
    expect(curveShape({ ...p, width: 64 }).cost).toBeGreaterThan(curveShape(p).cost);
    expect(curveShape({ ...p, depth: 5 }).cost).toBeGreaterThan(curveShape(p).cost);
    expect(curveShape({ ...p, width: 64 }).latency).toBeGreaterThan(curveShape(p).latency);
  });

  it('no configuration beats the computed best reachable accuracy', () => {
    const best = bestReachableAccuracy();
    const problem = simulatorProblem();
    const rng = new Rng(1);
    let top = 0;
    for (let i = 0; i < 3000; i++) top = Math.max(top, problem.trueValues(problem.space.decode(problem.space.params.map(() => rng.random())))[0]);
    expect(top).toBeLessThanOrEqual(best + 1e-12);
    expect(top).toBeGreaterThan(best - 0.05);
  });

  it('a simulation is deterministic for a seed and keeps at most N trials running', async () => {
    const problem = simulatorProblem();
    const stopAt3: Scheduler = { name: 'three', decide: (c) => (c.step >= 3 && c.trial.number % 2 === 1 ? 'stop' : 'continue') };
    const run = () => simulate({ problem, sampler: random, scheduler: stopAt3, workers: 4, wallSeconds: 3000, seed: 2 });
    const a = await run();
    const b = await run();
    expect(a.trials.map((t) => [t.state, t.params, t.intermediate])).toEqual(b.trials.map((t) => [t.state, t.params, t.intermediate]));
    expect(a.trials.filter((t) => t.state === 'pruned').every((t) => Object.keys(t.intermediate).length === 3)).toBe(true);
    expect(a.utilisation).toBeGreaterThan(0.99);
    expect(a.utilisation).toBeLessThanOrEqual(1 + 1e-9);
    // Never more than 4 trials overlap in virtual time.
    const edges = a.trials.flatMap((t) => [
      [t.startedAt!, 1],
      [t.finishedAt ?? Infinity, -1],
    ]);
    edges.sort((x, y) => x[0] - y[0] || x[1] - y[1]);
    let live = 0;
    for (const [, d] of edges) {
      live += d;
      expect(live).toBeLessThanOrEqual(4);
    }
  });

  it('injected failures and hangs end as failed trials (a hang after the stale grace), and the run goes on', async () => {
    const problem = simulatorProblem();
    const r = await simulate({ problem, sampler: random, workers: 3, wallSeconds: 20000, seed: 1, failures: { failProbability: 0.2, hangProbability: 0.2, staleSeconds: 500 } });
    const failed = r.trials.filter((t) => t.state === 'failed');
    expect(failed.some((t) => t.attrs.reason === 'error')).toBe(true);
    expect(failed.some((t) => t.attrs.reason === 'stale')).toBe(true);
    expect(r.completions.length).toBeGreaterThan(3);
    expect(r.utilisation).toBeLessThan(1);
  });

  it('pausing drivers: a held trial frees its worker and resumes once released', async () => {
    const problem = simulatorProblem();
    // Hold every trial at step 1 until 4 trials have reported it, then let all go on.
    const gate = {
      name: 'gate',
      decide: () => 'continue' as const,
      hold: (c: { step: number; history: readonly { intermediate: Record<number, unknown> }[] }) => c.step === 1 && c.history.filter((t) => t.intermediate[1]).length < 4,
      canStart: (n: number) => n < 4,
    };
    const r = await simulate({ problem, sampler: random, scheduler: gate as Scheduler, workers: 2, wallSeconds: 1e6, seed: 1 });
    expect(r.trials).toHaveLength(4);
    expect(r.trials.every((t) => t.state === 'complete')).toBe(true);
  });

  it('the simulator workload reports every epoch and resumes a paused configuration from its checkpoint', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'segtune-sim-'));
    try {
      const work = simulatorWorkload({ kind: 'simulator', noise: 0 });
      const params = { width: 16, depth: 3, lr: 0.01, batch_size: 32, dropout: 0.1, weight_decay: 1e-4 };
      const steps: number[] = [];
      const attrs: Record<string, unknown> = {};
      const ctx = (n: number, stopAt?: number, resumeFrom?: WorkloadContext['resumeFrom']): WorkloadContext => ({
        trialNumber: n,
        seed: n,
        budget: { name: 'epochs', min: 1, max: 9 },
        signal: new AbortController().signal,
        device: { gpu: null },
        setAttrs: (a) => Object.assign(attrs, a),
        artifactDir: join(dir, `trial-${n}`),
        resumeFrom,
        report: async (step) => {
          steps.push(step);
          if (step === stopAt) throw new Pruned(step);
        },
      });
      await expect(work(params, ctx(0, 3))).rejects.toThrow(Pruned);
      expect(steps).toEqual([1, 2, 3]);
      steps.length = 0;
      // A new trial of the same params starts over unless the scheduler resumes it.
      await expect(work(params, ctx(1, 1))).rejects.toThrow(Pruned);
      expect(steps).toEqual([1]);
      steps.length = 0;
      const final = (await work(params, ctx(2, undefined, { trialNumber: 0, step: 3, artifactDir: join(dir, 'trial-0') }))) as Record<string, number>;
      expect(steps).toEqual([4, 5, 6, 7, 8, 9]);
      expect(final.accuracy).toBeCloseTo(trueAccuracy(params, 9), 10);
      expect(attrs.resume_error).toBeUndefined();
      // Resumed from a folder without a checkpoint: from the start, and the record says so.
      steps.length = 0;
      await work(params, ctx(3, undefined, { trialNumber: 9, step: 3, artifactDir: join(dir, 'trial-9') }));
      expect(steps[0]).toBe(1);
      expect(attrs).toMatchObject({ resumed_from_step: 0, resume_error: expect.stringContaining('no checkpoint') });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
