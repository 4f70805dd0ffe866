import { hostname } from 'node:os';
import { endLeftoverProcessGroup } from './leftover-processes';
import type { Storage } from './storage';
import type { Trial } from './trial';

/** Identifies this process on the trials it runs, so a later run can tell whether it died. */
export function processIdentity(): { host: string; pid: number } {
  return { host: hostname(), pid: process.pid };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Fails the running trials of a study whose process is gone: on this host, a pid that no
 * longer exists (a killed `segtune search`); elsewhere, a heartbeat older than `graceMs`.
 * Returns the trials it failed. Used by `--resume` before new trials start.
 */
export async function failDeadTrials(storage: Storage, studyId: number, graceMs: number): Promise<Trial[]> {
  const me = processIdentity();
  const running = await storage.getTrials(studyId, { states: ['running'] });
  const failed: Trial[] = [];
  for (const t of running) {
    const pid = typeof t.attrs.pid === 'number' ? t.attrs.pid : undefined;
    if (t.attrs.host === me.host && pid !== undefined && pid !== me.pid && !alive(pid)) {
      try {
        failed.push(await storage.finishTrial(t.id, { state: 'failed', attrs: { reason: 'crash', error: `the process running it (pid ${pid}) died` } }));
      } catch {
        // Finished meanwhile by someone else: nothing to recover.
      }
    }
  }
  failed.push(...(await storage.failStaleTrials(studyId, graceMs, 'stale', `no heartbeat for ${Math.round(graceMs / 1000)} s`)));
  endLeftoverCommands(failed);
  return failed;
}

/**
 * Ends the command process groups that trials recovered as dead left running on this host (a
 * training script keeps its GPU memory while it lives). Returns how many processes it signalled.
 */
export function endLeftoverCommands(trials: readonly Trial[]): number {
  const me = processIdentity();
  let n = 0;
  for (const t of trials) if (t.attrs.host === me.host) n += endLeftoverProcessGroup(t.attrs);
  return n;
}
