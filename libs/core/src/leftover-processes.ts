import { readdirSync, readFileSync } from 'node:fs';

/**
 * A process's start time as the kernel counts it (clock ticks since boot, field 22 of
 * /proc/PID/stat), or undefined where there is no such process or no /proc. Together with the
 * pid it names one process for good: a pid reused later has a later start time.
 */
export function processStartTime(pid: number): string | undefined {
  return statOf(pid)?.start;
}

function statOf(pid: number): { pgrp: number; start: string } | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (field 2) may hold spaces and parentheses: split after its last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state): pgrp is field 5, starttime field 22.
  const pgrp = Number(fields[2]);
  const start = fields[19];
  return Number.isInteger(pgrp) && start ? { pgrp, start } : undefined;
}

/** The attributes a command trial records while it runs, so that a later run can end it. */
export interface ProcessGroupAttrs {
  host?: unknown;
  command_pgid?: unknown;
  command_started?: unknown;
}

/**
 * Ends what is left of a command trial's process group after the segtune process that ran it
 * died (`kill -9`): the trial's attrs name the group (its leader's pid) and the leader's start
 * time. The group is signalled only when its leader is that very process, or, with the leader
 * gone, only its members that started after it (a pid is not reused while its group has
 * members). Returns the number of processes signalled. Call it only on the host in `attrs.host`.
 */
export function endLeftoverProcessGroup(attrs: ProcessGroupAttrs | Record<string, unknown>, signal: NodeJS.Signals = 'SIGKILL'): number {
  const { command_pgid: pgid, command_started: started } = attrs as ProcessGroupAttrs;
  if (typeof pgid !== 'number' || !Number.isInteger(pgid) || pgid <= 1 || typeof started !== 'string') return 0;
  const leader = statOf(pgid);
  if (leader) {
    // That pid now belongs to another process: the trial's group is gone.
    if (leader.start !== started) return 0;
    try {
      process.kill(-pgid, signal);
    } catch {
      return 0;
    }
    return 1;
  }
  let count = 0;
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((d) => /^\d+$/.test(d));
  } catch {
    return 0;
  }
  for (const d of pids) {
    const s = statOf(Number(d));
    if (!s || s.pgrp !== pgid || BigInt(s.start) < BigInt(started)) continue;
    try {
      process.kill(Number(d), signal);
      count++;
    } catch {
      // Gone meanwhile.
    }
  }
  return count;
}
