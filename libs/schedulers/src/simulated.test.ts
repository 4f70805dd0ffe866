import { describe, expect, it } from 'vitest';
import { simulate, simulatorProblem } from '@segtune/benchmarks';
import { RandomSampler } from '@segtune/samplers';
import { createSchedulerAndSampler } from './registry';
import { SuccessiveHalvingScheduler } from './successive-halving';
import type { AshaScheduler } from './asha';
import { configKey } from './rungs';

// The schedulers driven by the learning-curve simulator (virtual clock, several workers).
const problem = simulatorProblem({ budget: { name: 'epochs', min: 1, max: 9 } });

describe('schedulers on the simulator', () => {
  it('synchronous SH halves every cohort exactly: 9 → 3 → 1, with faults not blocking a rung', async () => {
    const { scheduler, sampler } = createSchedulerAndSampler('sha', problem.budget, problem.objectives, new RandomSampler());
    const r = await simulate({ problem, sampler, scheduler, workers: 4, wallSeconds: 40000, seed: 3, failures: { failProbability: 0.1, hangProbability: 0.05, staleSeconds: 300 } });
    const sh = scheduler as SuccessiveHalvingScheduler;
    const cohorts = Math.floor(r.trials.length / 9);
    expect(cohorts).toBeGreaterThan(3);
    for (let c = 0; c < cohorts - 1; c++) {
      const members = r.trials.filter((t) => sh.cohortOf(t.number) === c);
      expect(members.every((t) => t.state !== 'running')).toBe(true);
      const reached3 = members.filter((t) => t.intermediate[3]).length;
      const failed = members.filter((t) => t.state === 'failed').length;
      if (failed === 0) {
        expect(reached3).toBe(3);
        expect(members.filter((t) => t.state === 'complete')).toHaveLength(1);
      } else expect(reached3).toBeLessThanOrEqual(3);
    }
    expect(r.utilisation).toBeLessThan(0.99); // workers wait at the barriers
  });

  it('ASHA keeps every worker busy and completes trials despite failing and hanging ones', async () => {
    const { scheduler, sampler } = createSchedulerAndSampler('asha', problem.budget, problem.objectives, new RandomSampler());
    const r = await simulate({ problem, sampler, scheduler, workers: 4, wallSeconds: 20000, seed: 3, failures: { failProbability: 0.1 } });
    expect(r.utilisation).toBeGreaterThan(0.999);
    expect(r.completions.length).toBeGreaterThan(3);
    expect(r.trials.filter((t) => t.state === 'pruned').length).toBeGreaterThan(r.completions.length);
  });

  it('promotion mode resumes paused configurations instead of retraining them', async () => {
    const { scheduler, sampler } = createSchedulerAndSampler({ kind: 'asha', mode: 'promotion' }, problem.budget, problem.objectives, new RandomSampler());
    const r = await simulate({ problem, sampler, scheduler, workers: 4, wallSeconds: 20000, seed: 3 });
    const resumed = r.trials.filter((t) => Object.keys(t.intermediate).length > 0 && !t.intermediate[1]);
    expect(resumed.length).toBeGreaterThan(0);
    // Each resumed trial's record names the step it continued from, and its reports start after it.
    for (const t of resumed) expect(Math.min(...Object.keys(t.intermediate).map(Number))).toBe((t.attrs.resumed_from_step as number) + 1);
    expect(r.trials.filter((t) => t.attrs.resumed_from_step !== undefined)).toHaveLength(resumed.length);
    expect(r.completions.length).toBeGreaterThan(0);
    // No epoch is trained twice: the trials of one configuration report disjoint, contiguous steps
    // from 1, each resumed trial starting right after its configuration's last reported step.
    const byConfig = new Map<string, number[][]>();
    for (const t of r.trials) {
      const steps = Object.keys(t.intermediate).map(Number).sort((a, b) => a - b);
      if (!steps.length) continue;
      const key = configKey(t.params);
      byConfig.set(key, [...(byConfig.get(key) ?? []), steps]);
    }
    let multi = 0;
    for (const runs of byConfig.values()) {
      const all = runs.flat();
      expect(all).toEqual(Array.from({ length: all.length }, (_, i) => i + 1));
      if (runs.length > 1) multi++;
    }
    expect(multi).toBe(new Set(resumed.map((t) => configKey(t.params))).size);
    // A configuration is resumed only from the top 1/η of the rung it paused at: every resumed
    // trial's configuration was stopped (paused) exactly at a rung.
    const ladder = (scheduler as AshaScheduler).ladders[0];
    for (const t of resumed) expect(ladder).toContain(Math.min(...Object.keys(t.intermediate).map(Number)) - 1);
  });
});
