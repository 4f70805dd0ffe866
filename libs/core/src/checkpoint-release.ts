import { rm } from 'node:fs/promises';
import type { Study } from './study';
import { checkpointDirAt } from './workload';

/** The trial attr that lists the steps whose kept checkpoint was deleted (Scheduler.releasableCheckpoints). */
export const RELEASED_ATTR = 'checkpoints_released';

/** The steps of `attrs`' released checkpoints. */
export function releasedSteps(attrs: Record<string, unknown>): number[] {
  const v = attrs[RELEASED_ATTR];
  return Array.isArray(v) ? v.filter((s): s is number => typeof s === 'number') : [];
}

/**
 * What the controller calls after each finished trial, for schedulers that keep a checkpoint
 * per trial and step (PBT): deletes the kept checkpoints the scheduler says no decision can
 * continue from, so a long study's disk use follows the trials that may still be copied rather
 * than every trial times every interval. Each worker deletes the folders it has (they are on
 * its disk, or a shared one) and records the steps in the trial's attrs once, for every worker's
 * scheduler to see. None without a trial limit: then any trial may yet be copied.
 */
export function checkpointReleaser(o: {
  study: Study;
  artifactDirOf: (trialNumber: number) => string | undefined;
  maxTrials?: number;
  onError?: (e: Error) => void;
}): (() => Promise<void>) | undefined {
  const { study, maxTrials } = o;
  const scheduler = study.scheduler;
  if (maxTrials === undefined || !scheduler.releasableCheckpoints) return undefined;
  const releasable = scheduler.releasableCheckpoints.bind(scheduler);
  // The steps this worker deleted, per trial. Its history may not show its own last write yet,
  // so what it records is the union of these and what the history shows.
  const deleted = new Map<number, Set<number>>();
  let running: Promise<void> = Promise.resolve();
  const release = async (): Promise<void> => {
    const trials = await study.trials();
    const touched = new Set<number>();
    for (const { trialNumber, step } of releasable(trials, maxTrials)) {
      const root = o.artifactDirOf(trialNumber);
      const mine = deleted.get(trialNumber) ?? new Set<number>();
      if (root === undefined || mine.has(step)) continue;
      await rm(checkpointDirAt(root, step), { recursive: true, force: true });
      deleted.set(trialNumber, mine.add(step));
      touched.add(trialNumber);
    }
    for (const trial of trials) {
      if (!touched.has(trial.number)) continue;
      const stored = releasedSteps(trial.attrs);
      const all = [...new Set([...stored, ...deleted.get(trial.number)!])].sort((a, b) => a - b);
      if (all.length > stored.length) await study.storage.updateTrialAttrs(trial.id, { [RELEASED_ATTR]: all });
    }
  };
  // One pass at a time, so two finishing trials do not delete and record the same steps twice.
  return () =>
    (running = running.then(release).catch((e: Error) => o.onError?.(new Error(`releasing kept checkpoints: ${e.message}`))));
}
