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
 * scheduler to see. A no-op without a trial limit: then any trial may yet be copied.
 */
export function checkpointReleaser(o: {
  study: Study;
  artifactDirOf: (trialNumber: number) => string | undefined;
  maxTrials?: number;
  onError?: (e: Error) => void;
}): () => Promise<void> {
  const { study } = o;
  const scheduler = study.scheduler;
  const done = new Set<string>();
  // What this worker recorded, per trial: the history it reads may not show its last write yet.
  const recorded = new Map<number, Set<number>>();
  let running: Promise<void> = Promise.resolve();
  const release = async (): Promise<void> => {
    if (o.maxTrials === undefined || !scheduler.releasableCheckpoints) return;
    const trials = await study.trials();
    const byNumber = new Map(trials.map((t) => [t.number, t]));
    const newSteps = new Map<number, number[]>();
    for (const { trialNumber, step } of scheduler.releasableCheckpoints(trials, o.maxTrials)) {
      const root = o.artifactDirOf(trialNumber);
      const key = `${trialNumber}/${step}`;
      if (root === undefined || done.has(key)) continue;
      done.add(key);
      await rm(checkpointDirAt(root, step), { recursive: true, force: true });
      const trial = byNumber.get(trialNumber);
      if (trial && !releasedSteps(trial.attrs).includes(step) && !recorded.get(trialNumber)?.has(step)) newSteps.set(trialNumber, [...(newSteps.get(trialNumber) ?? []), step]);
    }
    for (const [n, steps] of newSteps) {
      const trial = byNumber.get(n)!;
      const mine = recorded.get(n) ?? new Set<number>();
      for (const s of steps) mine.add(s);
      recorded.set(n, mine);
      const all = [...new Set([...releasedSteps(trial.attrs), ...mine])].sort((a, b) => a - b);
      await study.storage.updateTrialAttrs(trial.id, { [RELEASED_ATTR]: all });
    }
  };
  // One pass at a time, so two finishing trials do not delete and record the same steps twice.
  return () =>
    (running = running.then(release).catch((e: Error) => o.onError?.(new Error(`releasing kept checkpoints: ${e.message}`))));
}
