// Seeded fault injection through the real `segtune search` with 2 workers, for a command and a
// module workload: every trial ends in the state and with the reason its fault calls for, and
// no process of the run is left afterwards (issue 14).
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, mkdirSync, readdirSync, rmSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Rng } from '@segtune/core';
import { runCli, repoRoot } from './support/cli';
import { isRunning, processesWithEnv, waitGone } from './support/processes';

const SEED = 14;
type Expected = { state: string; reason?: string; error?: RegExp };

const COMMAND: Record<string, Expected> = {
  ok: { state: 'complete' },
  throw: { state: 'failed', reason: 'error', error: /exited with code 1: .*ValueError: injected failure/ },
  hang: { state: 'failed', reason: 'timeout', error: /trial timed out after 4 s/ },
  exit: { state: 'failed', reason: 'error', error: /exited with code 3/ },
  oom: { state: 'failed', reason: 'oom', error: /CUDA out of memory/ },
  nan: { state: 'failed', reason: 'non-finite', error: /objective "value" is NaN/ },
  garbage: { state: 'failed', reason: 'no-result', error: /without a result line.*stdout: .*value = 0\.25 \(done\)/ },
  silent: { state: 'failed', reason: 'no-result', error: /without a result line/ },
  background: { state: 'complete' },
  sigkill: { state: 'failed', reason: 'crash', error: /was killed by SIGKILL/ },
};

const MODULE: Record<string, Expected> = {
  ok: { state: 'complete' },
  throw: { state: 'failed', reason: 'error', error: /injected failure in trial \d+/ },
  hang: { state: 'failed', reason: 'timeout', error: /trial timed out after 4 s/ },
  exit: { state: 'failed', reason: 'crash', error: /exited with code 3/ },
  oom: { state: 'failed', reason: 'oom', error: /ran out of memory/ },
  nan: { state: 'failed', reason: 'non-finite', error: /objective "value" is NaN/ },
  garbage: { state: 'failed', reason: 'error', error: /objective "value" is the string "low"/ },
  silent: { state: 'failed', reason: 'error', error: /returned undefined/ },
};

/** Each fault twice (ok four times), in an order shuffled by the seed. */
function plan(faults: Record<string, Expected>, seed: number): { fault: string; x: number }[] {
  const list = Object.keys(faults).flatMap((f) => (f === 'ok' ? [f, f, f, f] : [f, f]));
  const rng = new Rng(seed);
  return rng.shuffle(list).map((fault) => ({ fault, x: Math.round(rng.uniform(0, 1) * 1000) / 1000 }));
}

function space(name: string, faults: Record<string, Expected>, workload: string, runs: { fault: string; x: number }[]): string {
  return `name: ${name}
objectives: [{ name: value, direction: minimize }]
params:
  fault: { type: categorical, choices: [${Object.keys(faults).join(', ')}] }
  x: { type: float, low: 0, high: 1 }
sampler: { kind: random }
workload: ${workload}
trials: ${runs.length}
enqueue:
${runs.map((r) => `  - { fault: ${r.fault}, x: ${r.x} }`).join('\n')}
`;
}

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
  const r = runCli(['search', `${kind}.yaml`, '--workers', '2', '--trial-timeout', '4s', '--storage', db, '--no-export', '--quiet', ...flags], {
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
