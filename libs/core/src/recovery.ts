import { readlinkSync } from 'node:fs';
import { hostname } from 'node:os';
import { endLeftoverProcessGroup } from './leftover-processes';
import type { Storage } from './storage';
import type { Trial } from './trial';

let pidNamespace: string | undefined | null = null;

/** The pid namespace this process lives in (containers on one host name have their own). */
function ownPidNamespace(): string | undefined {
  if (pidNamespace === null) {
    try {
      pidNamespace = readlinkSync('/proc/self/ns/pid');
    } catch {
      pidNamespace = undefined;
    }
  }
  return pidNamespace;
}

/** Identifies this process on the trials it runs, so a later run can tell whether it died. */
export function processIdentity(): { host: string; pid: number; pidns?: string } {
  const pidns = ownPidNamespace();
  return pidns ? { host: hostname(), pid: process.pid, pidns } : { host: hostname(), pid: process.pid };
}

/**
 * Whether a trial's pid can be checked from here: the same host and the same pid namespace
 * (two containers may share a host name, never a pid namespace).
 */
export function sameMachine(attrs: Trial['attrs']): boolean {
  const me = processIdentity();
  if (attrs.host !== me.host) return false;
  return attrs.pidns === undefined || me.pidns === undefined || attrs.pidns === me.pidns;
}

/** Whether a process with this pid exists (one of another user counts: EPERM). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Fails at once the running trials whose process ran on this machine and no longer exists (a
 * killed `segtune search` or worker): no need to wait for their heartbeat to go stale. Ends
 * what is left of their commands. Returns the trials it failed.
 */
export async function failDeadLocalTrials(storage: Storage, studyId: number): Promise<Trial[]> {
  const running = await storage.getTrials(studyId, { states: ['running'] });
  const failed: Trial[] = [];
  for (const t of running) {
    const pid = typeof t.attrs.pid === 'number' ? t.attrs.pid : undefined;
    if (pid !== undefined && pid !== process.pid && sameMachine(t.attrs) && !processAlive(pid)) {
      try {
        failed.push(await storage.finishTrial(t.id, { state: 'failed', attrs: { reason: 'crash', error: `the process running it (pid ${pid}) died` } }));
      } catch {
        // Finished meanwhile by someone else: nothing to recover.
      }
    }
  }
  endLeftoverCommands(failed);
  return failed;
}

/**
 * Fails the running trials of a study whose process is gone: on this host, a pid that no
 * longer exists (a killed `segtune search`); elsewhere, a heartbeat older than `graceMs`.
 * Returns the trials it failed. Used by `--resume` before new trials start.
 */
export async function failDeadTrials(storage: Storage, studyId: number, graceMs: number): Promise<Trial[]> {
  const failed = await failDeadLocalTrials(storage, studyId);
  const stale = await storage.failStaleTrials(studyId, graceMs, 'stale', `no heartbeat for ${Math.round(graceMs / 1000)} s`);
  endLeftoverCommands(stale);
  return [...failed, ...stale];
}

/**
 * Ends the command process groups that trials recovered as dead left running on this host (a
 * training script keeps its GPU memory while it lives). Returns how many processes it signalled.
 */
export function endLeftoverCommands(trials: readonly Trial[]): number {
  let n = 0;
  for (const t of trials) if (sameMachine(t.attrs)) n += endLeftoverProcessGroup(t.attrs);
  return n;
}
