// Shared by this package's tests: fixture paths, task builders and a small driver loop that
// keeps an executor full, the way the controller does.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Decision, Executor, MetricValues, TrialAttrs, TrialOutcome, TrialTask } from '@segtune/core';
import type { Params } from '@segtune/space';

export const fixtures = join(dirname(fileURLToPath(import.meta.url)), '..', 'test-fixtures');
export const testResolver = join(fixtures, 'resolver.mjs');

export function moduleTask(trialNumber: number, params: Params, path = 'faults.mjs', extra: Partial<TrialTask> = {}): TrialTask {
  return { trialId: trialNumber + 1, trialNumber, params, workload: { kind: 'module', path }, spaceDir: fixtures, objectiveNames: ['loss'], seed: 1000 + trialNumber, ...extra };
}

export interface Driven {
  task: TrialTask;
  outcome: TrialOutcome;
  reports: { step: number; values: MetricValues }[];
  started?: TrialAttrs;
}

/** Runs every task, at most `executor.capacity` at once; `decide` answers each report. */
export async function driveAll(executor: Executor, tasks: TrialTask[], decide: (task: TrialTask, step: number) => Decision = () => 'continue'): Promise<Driven[]> {
  const results: Driven[] = new Array(tasks.length);
  let next = 0;
  const lane = async () => {
    while (next < tasks.length) {
      const i = next++;
      const task = tasks[i];
      const d: Partial<Driven> & { reports: Driven['reports'] } = { task, reports: [] };
      d.outcome = await executor.run(task, {
        onReport: async (step, values) => {
          d.reports.push({ step, values });
          return decide(task, step);
        },
        onStart: (attrs) => {
          d.started = attrs;
        },
      });
      results[i] = d as Driven;
    }
  };
  await Promise.all(Array.from({ length: executor.capacity }, lane));
  return results;
}

export function countResources(type: string): number {
  return process.getActiveResourcesInfo().filter((t) => t === type).length;
}

/** Whether a process runs (a zombie waiting for its reaper does not count). */
export function isRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/** Waits up to `ms` for a process to stop running; true when it did. */
export async function waitGone(pid: number, ms = 2_000): Promise<boolean> {
  const until = Date.now() + ms;
  while (isRunning(pid)) {
    if (Date.now() > until) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
  return true;
}
