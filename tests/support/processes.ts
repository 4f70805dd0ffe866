import { readdirSync, readFileSync } from 'node:fs';
import { isRunning, waitGone as waitGoneFor } from '@segtune/executor/testing';

export { isRunning } from '@segtune/executor/testing';

/** Waits up to `ms` (default 3 s here: the CLI's process trees) for a process to stop running. */
export function waitGone(pid: number, ms = 3_000): Promise<boolean> {
  return waitGoneFor(pid, ms);
}

/** Running processes whose environment holds `marker` (KEY=VALUE), this process excluded. */
export function processesWithEnv(marker: string): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d) || Number(d) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${d}/environ`, 'utf8').split('\0').includes(marker) && isRunning(Number(d))) out.push(Number(d));
    } catch {
      // Gone, or not ours to read.
    }
  }
  return out;
}
