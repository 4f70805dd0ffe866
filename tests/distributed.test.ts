// Many `segtune worker` processes on one PostgreSQL study (issue 7): real child processes, a
// fresh database per run, dropped afterwards.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { UserError, type Trial } from '@segtune/core';
import { PostgresStorage } from '@segtune/storage';
import { createTestDatabase, pgSkipPolicy, pgUnavailableReason, type TestDatabase } from '../libs/storage/src/pg-test-database';
import { runWorker, type WorkerOptions } from '../apps/cli/src/commands/worker';
import { runCli } from './support/cli';

const root = resolve(import.meta.dirname, '..');
const policy = pgSkipPolicy(await pgUnavailableReason());
if (policy.failInCi) {
  it('PostgreSQL is reachable (CI is set, so its absence fails the run)', () => {
    throw new Error(policy.label);
  });
}

interface Child {
  proc: ChildProcess;
  ready: Promise<void>;
  exit: Promise<number | null>;
  out: () => string;
}

function startWorker(options: WorkerOptions, barrier?: string): Child {
  const proc = spawn(process.execPath, ['--import', 'tsx', join(root, 'tests/support/pg-worker.ts'), JSON.stringify(options)], {
    cwd: root,
    env: { ...process.env, SEGTUNE_TEST_BARRIER: barrier ?? '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  let onReady: () => void;
  const ready = new Promise<void>((r) => (onReady = r));
  proc.stdout!.on('data', (d: Buffer) => {
    text += d.toString();
    if (text.includes('ready\n')) onReady();
  });
  proc.stderr!.on('data', (d: Buffer) => (text += d.toString()));
  const exit = new Promise<number | null>((r) => proc.on('exit', (code) => r(code)));
  if (!barrier) onReady!();
  return { proc, ready, exit, out: () => text };
}

const space = (name: string, trials: number, stepSeconds: number) => `name: ${name}
objectives: [{ name: value, direction: minimize }]
params:
  x1: { type: float, low: -5, high: 10 }
  x2: { type: float, low: 0, high: 15 }
budget: { name: epochs, min: 1, max: 3 }
sampler: { kind: random }
workload: { kind: benchmark, function: branin, step_seconds: ${stepSeconds} }
trials: ${trials}
seed: 3
`;

describe.skipIf(policy.skip)(`distributed workers on PostgreSQL${policy.label}`, () => {
  let db: TestDatabase;
  let dir: string;
  const children: ChildProcess[] = [];
  beforeAll(async () => {
    db = await createTestDatabase();
    dir = mkdtempSync(join(tmpdir(), 'segtune-dist-'));
  });
  afterAll(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await db?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('four workers starting at once on an empty database share one 100-trial study: numbers 0..99, each once, every report stored', async () => {
    const file = join(dir, 'four.yaml');
    writeFileSync(file, space('four', 100, 0.03));
    const barrier = join(dir, 'go-four');
    // Same moment, empty database: all four migrate (under the advisory lock) and race to create
    // the study from --space; one creates it, the others join it.
    const workers = Array.from({ length: 4 }, () => startWorker({ storage: db.url, study: 'four', space: file, workers: 2, heartbeatMs: 500, graceMs: 10_000 }, barrier));
    children.push(...workers.map((w) => w.proc));
    await Promise.all(workers.map((w) => w.ready));
    writeFileSync(barrier, '');
    const codes = await Promise.all(workers.map((w) => w.exit));
    expect(codes, workers.map((w) => w.out()).join('\n---\n')).toEqual([0, 0, 0, 0]);

    const s = await PostgresStorage.open(db.url);
    try {
      const study = (await s.getStudy('four'))!;
      expect(study.limits?.trials).toBe(100);
      const trials = await s.getTrials(study.id);
      expect(trials.map((t) => t.number)).toEqual(Array.from({ length: 100 }, (_, i) => i));
      expect(trials.every((t) => t.state === 'complete')).toBe(true);
      for (const t of trials) {
        expect(Object.keys(t.intermediate).map(Number)).toEqual([1, 2, 3]);
        expect(Number.isFinite(t.intermediate[3].value)).toBe(true);
        expect(t.values![0]).toBeCloseTo(t.intermediate[3].value, 9);
      }
      // Every process ran some of them: one study, four workers (attrs.pid is the process).
      expect(new Set(trials.map((t) => t.attrs.pid))).toEqual(new Set(workers.map((w) => w.proc.pid)));
      expect(await s.refusedTransitions(study.id)).toEqual([]);
    } finally {
      await s.close();
    }
  });

  it('a worker killed with SIGKILL mid-trial: a survivor on the same host sees its pid is gone, fails the trial and reruns it', async () => {
    const file = join(dir, 'kill.yaml');
    writeFileSync(file, space('kill', 12, 0.25));
    const options: WorkerOptions = { storage: db.url, study: 'kill', space: file, workers: 1, retryFailed: 1, heartbeatMs: 200, graceMs: 2_000 };
    const s = await PostgresStorage.open(db.url);
    try {
      const victim = startWorker(options);
      children.push(victim.proc);
      // The victim's first trial is running: then the other two start and the victim dies.
      let running: Trial | undefined;
      for (let i = 0; i < 600 && !running; i++) {
        await new Promise((r) => setTimeout(r, 50));
        const study = await s.getStudy('kill');
        if (study) running = (await s.getTrials(study.id, { states: ['running'] })).find((t) => t.attrs.pid === victim.proc.pid && t.intermediate[1] !== undefined);
      }
      expect(running, victim.out()).toBeDefined();
      const survivors = [startWorker(options), startWorker(options)];
      children.push(...survivors.map((w) => w.proc));
      victim.proc.kill('SIGKILL');
      expect(await victim.exit).toBeNull();
      const codes = await Promise.all(survivors.map((w) => w.exit));
      expect(codes, survivors.map((w) => w.out()).join('\n---\n')).toEqual([0, 0]);

      const study = (await s.getStudy('kill'))!;
      const trials = await s.getTrials(study.id);
      const dead = trials.find((t) => t.id === running!.id)!;
      // On the same host a dead pid is recovered at once (crash), not after the grace (stale).
      expect(dead).toMatchObject({ state: 'failed', attrs: { reason: 'crash', pid: victim.proc.pid } });
      const rerun = trials.filter((t) => t.attrs.retry_of === dead.number);
      expect(rerun).toHaveLength(1);
      expect(rerun[0]).toMatchObject({ state: 'complete', params: dead.params, attrs: { retries: 1, enqueued: true } });
      expect(survivors.map((w) => w.proc.pid)).toContain(rerun[0].attrs.pid);
      expect(dead.attrs.retried_as).toBe(rerun[0].number);
      // The limit counts configurations: 12 trials plus the rerun, numbered densely, all finished.
      expect(trials.map((t) => t.number)).toEqual(Array.from({ length: 13 }, (_, i) => i));
      expect(trials.filter((t) => t.state === 'complete')).toHaveLength(12);
      expect(trials.some((t) => t.state === 'running' || t.state === 'waiting')).toBe(false);
      expect(survivors.map((w) => w.out()).join('\n')).toMatch(/failed 1 stale \(1 rerun\)/);
    } finally {
      await s.close();
    }
  });

  it('the segtune command: search creates a study on PostgreSQL, worker joins it and runs it to its new limit', () => {
    // On a machine with a GPU: a benchmark never uses one, so no GPU process is started for it.
    const gpu = { env: { SEGTUNE_FAKE_GPUS: '0:H200:143000:0' } };
    const first = runCli(['search', 'search-spaces/branin.yaml', '--storage', db.url, '--study', 'cli-shared', '--trials', '6', '--sampler', 'random', '--workers', '1', '--no-export', '--quiet'], gpu);
    expect(first.stderr).not.toMatch(/error|warning/i);
    expect(first.code).toBe(0);
    const second = runCli(['worker', '--storage', db.url, '--study', 'cli-shared', '--trials', '10', '--workers', '2', '--json', '--quiet'], gpu);
    expect(second.stderr, second.stderr).not.toMatch(/error|warning/i);
    expect(second.code).toBe(0);
    const doc = JSON.parse(second.stdout);
    expect(doc.worker).toMatchObject({ finished: 4, stopped_by: 'trials' });
    expect(doc.trials.map((t: { number: number }) => t.number)).toEqual([...Array(10).keys()]);
    expect(doc.trials.every((t: { state: string }) => t.state === 'complete')).toBe(true);
    // The search's trials and the worker's ran on their own thread (a built-in benchmark function
    // only awaits), not in a GPU process.
    expect(doc.trials.map((t: { attrs: { worker: string } }) => t.attrs.worker)).toEqual(Array.from({ length: 10 }, () => expect.stringMatching(/^pid\d+\/main$/)));
  });

  it('bad storage and an unknown study are one-line UserErrors, the password never shown', async () => {
    const refused = await runWorker({ storage: 'postgresql://ann:pa55word@127.0.0.1:1/x', study: 's' }, { handleSignals: false }).catch((e: Error) => e);
    expect(refused).toBeInstanceOf(UserError);
    expect((refused as Error).message).toMatch(/^--storage: cannot connect to postgresql:\/\/ann:\*\*\*@127\.0\.0\.1:1\/x: connection refused/);
    expect((refused as Error).message).not.toContain('pa55word');
    const unknown = await runWorker({ storage: db.url, study: 'fuor' }, { handleSignals: false }).catch((e: Error) => e);
    expect(unknown).toBeInstanceOf(UserError);
    expect((unknown as Error).message).toMatch(/^--study: no study named "fuor" in postgresql:\/\/.*\(did you mean "four"\?\)?.*known: .*four/);
    const retry = await runWorker({ storage: db.url, study: 'four', retryFailed: -1 }, { handleSignals: false }).catch((e: Error) => e);
    expect((retry as Error).message).toBe('--retry-failed: expected an integer >= 0, got -1');
  });
});
