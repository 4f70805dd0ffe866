import { readdirSync, readFileSync } from 'node:fs';

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
export async function waitGone(pid: number, ms = 3_000): Promise<boolean> {
  const until = Date.now() + ms;
  while (isRunning(pid)) {
    if (Date.now() > until) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
  return true;
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
