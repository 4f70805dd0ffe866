// Seeded fault injection through the real `segtune search` with 2 workers, for a command and a
// module workload: every trial ends in the state and with the reason its fault calls for, and
// no process of the run is left afterwards (issue 14).
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, mkdirSync, readdirSync, rmSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { runCli, repoRoot } from './support/cli';
import { COMMAND_FAULTS as COMMAND, MODULE_FAULTS as MODULE, faultPlan as plan, faultSpace as space, type Expected } from './support/fault-plan';
import { isRunning, processesWithEnv, waitGone } from './support/processes';

const SEED = 14;

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'segtune-faults-'));
  copyFileSync(join(repoRoot, 'tests/fixtures/fault-command.mjs'), join(dir, 'fault-command.mjs'));
  copyFileSync(join(repoRoot, 'tests/fixtures/fault-module.mjs'), join(dir, 'fault-module.mjs'));
});
afterAll(() => {
  // Nothing a failed assertion left behind may outlive the test.
  for (const pid of [...processesWithEnv('SEGTUNE_FAULT_RUN=command'), ...processesWithEnv('SEGTUNE_FAULT_RUN=module')]) process.kill(pid, 'SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

function trialsOf(db: string) {
  const d = new Database(db, { readonly: true });
  try {
    return (d.prepare('SELECT number, state, params, attrs FROM trials ORDER BY number').all() as { number: number; state: string; params: string; attrs: string }[]).map((r) => ({
      number: r.number,
      state: r.state,
      params: JSON.parse(r.params) as { fault: string },
      attrs: JSON.parse(r.attrs) as { reason?: string; error?: string },
    }));
  } finally {
    d.close();
  }
}

async function runFaults(kind: 'command' | 'module', faults: Record<string, Expected>, workload: string, flags: string[]) {
  const runs = plan(faults, SEED);
  writeFileSync(join(dir, `${kind}.yaml`), space(`faults-${kind}`, faults, workload, runs));
  const pidDir = join(dir, `pids-${kind}`);
  mkdirSync(pidDir);
  const db = join(dir, `${kind}.db`);
  const r = runCli(['search', `${kind}.yaml`, '--workers', '2', '--trial-timeout', '8s', '--storage', db, '--no-export', '--quiet', ...flags], {
    cwd: dir,
    env: { PID_DIR: pidDir, SEGTUNE_FAULT_RUN: kind },
    timeoutMs: 90_000,
  });
  expect(r.code, r.stderr).toBe(0);
  const trials = trialsOf(db);
  expect(trials).toHaveLength(runs.length);
  const accounted: Record<string, number> = {};
  for (const t of trials) {
    const want = faults[t.params.fault];
    const got = { state: t.state, reason: t.attrs.reason };
    expect(got, `trial ${t.number} (${t.params.fault}): ${t.attrs.error ?? ''}`).toEqual({ state: want.state, reason: want.reason });
    if (want.error) expect(t.attrs.error, `trial ${t.number} (${t.params.fault})`).toMatch(want.error);
    accounted[t.params.fault] = (accounted[t.params.fault] ?? 0) + 1;
  }
  expect(Object.keys(accounted).sort()).toEqual(Object.keys(faults).sort());
  // No process of the run is left: not the commands, not their children, not segtune's own.
  const pids = readdirSync(pidDir).map((f) => Number(f.replace('.pid', '')));
  for (const pid of pids) expect(await waitGone(pid), `pid ${pid} left running`).toBe(true);
  expect(processesWithEnv(`SEGTUNE_FAULT_RUN=${kind}`).filter(isRunning)).toEqual([]);
  return { trials, pids };
}

describe(`seeded fault injection (seed ${SEED}), 2 workers`, () => {
  it('command workload: throw, hang, exit, OOM, NaN, garbage, silent exit, background child, SIGKILL of itself', async () => {
    const { pids } = await runFaults('command', COMMAND, '{ kind: command, argv: [node, ./fault-command.mjs, "{fault}", "{x}"], grace_seconds: 0.3 }', []);
    // One pid per trial, and one more per background child.
    expect(pids.length).toBe(22 + 2);
  });

  it('module workload: throw, hang, exit, OOM, NaN, garbage, silent return', async () => {
    await runFaults('module', MODULE, '{ kind: module, path: ./fault-module.mjs }', ['--heap-limit-mb', '64']);
  });
});
