import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { endLeftoverProcessGroup, processStartTime } from './leftover-processes';

function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

async function gone(pid: number): Promise<boolean> {
  for (let i = 0; i < 100 && running(pid); i++) await new Promise((r) => setTimeout(r, 20));
  return !running(pid);
}

/** A detached group: a shell leader and a background sleep, as a training script with a loader. */
async function group(): Promise<{ leader: number; child: number }> {
  const p = spawn('sh', ['-c', 'sleep 30 & echo $!; wait'], { detached: true, stdio: ['ignore', 'pipe', 'ignore'] });
  p.unref();
  const child = await new Promise<number>((res) => p.stdout!.once('data', (d: Buffer) => res(Number(String(d).trim()))));
  p.stdout!.destroy();
  return { leader: p.pid!, child };
}

describe('endLeftoverProcessGroup', () => {
  it('ends a recorded group whose leader is the same process', async () => {
    const { leader, child } = await group();
    const started = processStartTime(leader);
    expect(started).toMatch(/^\d+$/);
    expect(endLeftoverProcessGroup({ command_pgid: leader, command_started: started })).toBe(1);
    expect(await gone(leader)).toBe(true);
    expect(await gone(child)).toBe(true);
  });

  it('never signals a pid that now belongs to another process', async () => {
    const { leader, child } = await group();
    try {
      // A start time that is not this leader's: the recorded group is gone, this is a reused pid.
      expect(endLeftoverProcessGroup({ command_pgid: leader, command_started: String(BigInt(processStartTime(leader)!) - 1n) })).toBe(0);
      expect(running(leader) && running(child)).toBe(true);
      expect(endLeftoverProcessGroup({ command_pgid: leader })).toBe(0);
      expect(endLeftoverProcessGroup({ command_pgid: 1, command_started: processStartTime(1) })).toBe(0);
    } finally {
      process.kill(-leader, 'SIGKILL');
    }
  });

  it('ends the members left in a group whose leader exited', async () => {
    const p = spawn('sh', ['-c', 'sleep 30 & echo $!'], { detached: true, stdio: ['ignore', 'pipe', 'ignore'] });
    // Listen for the exit at once: the shell may be gone before its output is read.
    const exited = new Promise((r) => p.once('exit', r));
    const child = await new Promise<number>((res) => p.stdout!.once('data', (d: Buffer) => res(Number(String(d).trim()))));
    const started = processStartTime(p.pid!) ?? String(BigInt(processStartTime(child)!));
    await exited;
    expect(running(child)).toBe(true);
    expect(endLeftoverProcessGroup({ command_pgid: p.pid, command_started: started })).toBe(1);
    expect(await gone(child)).toBe(true);
  });
});
