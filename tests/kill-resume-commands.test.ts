import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { existsSync, mkdtempSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { runCli, startCli, waitFor, repoRoot } from './support/cli';
import { isRunning, waitGone } from './support/processes';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'segtune-killcmd-'));
  copyFileSync(join(repoRoot, 'tests/fixtures/pid-sleeper.mjs'), join(dir, 'pid-sleeper.mjs'));
  writeFileSync(
    join(dir, 'cmd.yaml'),
    `name: cmdkill
objectives: [{ name: value, direction: minimize }]
params:
  x: { type: float, low: -2, high: 2 }
sampler: { kind: random }
workload: { kind: command, argv: [node, ./pid-sleeper.mjs, "{x}"] }
`,
  );
});
afterAll(() => {
  // Whatever a failed run left behind must not outlive the test.
  for (const pid of pidsIn(join(dir, 'first'))) if (isRunning(pid)) process.kill(pid, 'SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

function pidsIn(folder: string): number[] {
  if (!existsSync(folder)) return [];
  return readdirSync(folder).flatMap((f) => readFileSync(join(folder, f), 'utf8').trim().split(' ').map(Number));
}

describe('kill -9 of segtune with command trials running', () => {
  it('--resume ends every process of the first run before new trials start', async () => {
    const db = join(dir, 'cmd.db');
    const first = join(dir, 'first');
    mkdirSync(first);
    const run = startCli(['search', 'cmd.yaml', '--trials', '6', '--storage', db, '--seed', '1', '--workers', '2'], { cwd: dir, env: { PID_DIR: first, PID_SLEEPER_HANG: '1' } });
    await waitFor(() => readdirSync(first).length >= 2, 30_000, 'two command trials running');
    // The group and its leader's start time are stored while the trial runs.
    await waitFor(() => {
      const d = new Database(db, { readonly: true });
      try {
        const rows = d.prepare(`SELECT attrs FROM trials WHERE state = 'running'`).all() as { attrs: string }[];
        return rows.length === 2 && rows.every((r) => typeof JSON.parse(r.attrs).command_pgid === 'number' && /^\d+$/.test(JSON.parse(r.attrs).command_started));
      } finally {
        d.close();
      }
    }, 10_000, 'the process groups in the running trials');
    run.child.kill('SIGKILL');
    await run.exited;
    const leftovers = pidsIn(first);
    expect(leftovers).toHaveLength(4);
    // Without recovery they would live on (their own process group survives segtune).
    expect(leftovers.every(isRunning)).toBe(true);

    const r = runCli(['search', 'cmd.yaml', '--resume', '--storage', db], { cwd: dir, env: { PID_DIR: '' } });
    expect(r.stderr).toMatch(/resume: 2 trial\(s\) that were running are now failed/);
    expect(r.code).toBe(0);
    for (const pid of leftovers) expect(await waitGone(pid), `pid ${pid} of the first run`).toBe(true);
    const d = new Database(db, { readonly: true });
    const states = d.prepare('SELECT state, COUNT(*) AS n FROM trials GROUP BY state ORDER BY state').all();
    d.close();
    expect(states).toEqual([
      { state: 'complete', n: 4 },
      { state: 'failed', n: 2 },
    ]);
  });
});
