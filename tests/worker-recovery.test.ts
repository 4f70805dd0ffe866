// A dead worker's trial never stays `running` (issue 14, item 5): on the same host a dead pid is
// recovered at once; elsewhere after the grace (a flag); and a worker that reaches the study's
// limit first waits up to the grace for such trials before it exits.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { type Trial } from '@segtune/core';
import { PostgresStorage, SqliteStorage } from '@segtune/storage';
import { createTestDatabase, pgSkipPolicy, pgUnavailableReason, type TestDatabase } from '../libs/storage/src/pg-test-database';
import { runWorker, type WorkerOptions } from '../apps/cli/src/commands/worker';

const root = resolve(import.meta.dirname, '..');
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

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'segtune-recover-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const quiet = { stdout: { write: () => true } as unknown as NodeJS.WritableStream, stderr: { write: () => true } as unknown as NodeJS.WriteStream, handleSignals: false };

describe('a worker that reaches the limit first', () => {
  it("fails another machine's silent trial after the grace instead of leaving it running, without --retry-failed", async () => {
    const db = join(dir, 'limit.db');
    const file = join(dir, 'limit.yaml');
    writeFileSync(file, space('limit', 4, 0));
    // The study, with one trial that a worker on another machine claimed and then went silent.
    await runWorker({ storage: db, study: 'limit', space: file, workers: 1, trials: 1, quiet: true }, quiet);
    const s = new SqliteStorage(db);
    const study = (await s.getStudy('limit'))!;
    const ghost = (await s.createTrial(study.id, { state: 'running', params: { x1: 1, x2: 1 }, attrs: { host: 'another-machine', pid: 4242, worker: 'another-machine:4242' } }))!;
    await s.close();

    const t0 = Date.now();
    const r = await runWorker({ storage: db, study: 'limit', grace: '1s', workers: 1, trials: 4, quiet: true }, quiet);
    const waited = Date.now() - t0;
    expect(r.recovered).toBe(1);
    const after = new SqliteStorage(db, { readonly: true });
    try {
      const trials = await after.getTrials(study.id);
      expect(trials.filter((t) => t.state === 'running')).toEqual([]);
      expect(trials.find((t) => t.id === ghost.id)).toMatchObject({ state: 'failed', attrs: { reason: 'stale' } });
      expect(trials.filter((t) => t.state === 'complete')).toHaveLength(3);
    } finally {
      await after.close();
    }
    // It waited for the grace (1 s), not for the 60 s default nor forever.
    expect(waited).toBeGreaterThanOrEqual(900);
    expect(waited).toBeLessThan(1_000 + 5_000);
  });

  it('fails a trial of a dead process on this host at once', async () => {
    const db = join(dir, 'dead.db');
    const file = join(dir, 'dead.yaml');
    writeFileSync(file, space('dead', 3, 0));
    await runWorker({ storage: db, study: 'dead', space: file, workers: 1, trials: 1, quiet: true }, quiet);
    // A pid that existed and is gone: a finished child of ours.
    const child = spawn(process.execPath, ['-e', '0']);
    await new Promise((r) => child.once('exit', r));
    const s = new SqliteStorage(db);
    const study = (await s.getStudy('dead'))!;
    const { hostname } = await import('node:os');
    const orphan = (await s.createTrial(study.id, { state: 'running', params: { x1: 1, x2: 1 }, attrs: { host: hostname(), pid: child.pid! } }))!;
    await s.close();
    const t0 = Date.now();
    const r = await runWorker({ storage: db, study: 'dead', grace: '60s', workers: 1, quiet: true }, quiet);
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(r.recovered).toBe(1);
    const after = new SqliteStorage(db, { readonly: true });
    try {
      expect(await after.getTrial(orphan.id)).toMatchObject({ state: 'failed', attrs: { reason: 'crash', error: `the process running it (pid ${child.pid}) died` } });
    } finally {
      await after.close();
    }
  });
});

const policy = pgSkipPolicy(await pgUnavailableReason());
if (policy.failInCi) {
  it('PostgreSQL is reachable (CI is set, so its absence fails the run)', () => {
    throw new Error(policy.label);
  });
}

describe.skipIf(policy.skip)(`a PostgreSQL worker killed mid-trial${policy.label}`, () => {
  let db: TestDatabase;
  const children: ChildProcess[] = [];
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await db?.drop();
  });

  function startWorker(options: WorkerOptions) {
    const proc = spawn(process.execPath, ['--import', 'tsx', join(root, 'tests/support/pg-worker.ts'), JSON.stringify(options)], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(proc);
    let text = '';
    proc.stdout!.on('data', (d: Buffer) => (text += d));
    proc.stderr!.on('data', (d: Buffer) => (text += d));
    const exit = new Promise<number | null>((r) => proc.on('exit', (code) => r(code)));
    return { proc, exit, out: () => text };
  }

  it('is recovered by the survivor within the grace plus 5 s, and nothing is left running', async () => {
    const file = join(dir, 'pgkill.yaml');
    writeFileSync(file, space('pgkill', 8, 0.3));
    const graceMs = 3_000;
    const options: WorkerOptions = { storage: db.url, study: 'pgkill', space: file, workers: 1, graceMs, quiet: true };
    const s = await PostgresStorage.open(db.url);
    try {
      const victim = startWorker(options);
      let running: Trial | undefined;
      for (let i = 0; i < 600 && !running; i++) {
        await new Promise((r) => setTimeout(r, 50));
        const study = await s.getStudy('pgkill');
        if (study) running = (await s.getTrials(study.id, { states: ['running'] })).find((t) => t.attrs.pid === victim.proc.pid && t.intermediate[1] !== undefined);
      }
      expect(running, victim.out()).toBeDefined();
      const survivor = startWorker(options);
      victim.proc.kill('SIGKILL');
      const killedAt = Date.now();
      expect(await victim.exit).toBeNull();
      expect(await survivor.exit, survivor.out()).toBe(0);
      const study = (await s.getStudy('pgkill'))!;
      const trials = await s.getTrials(study.id);
      const dead = trials.find((t) => t.id === running!.id)!;
      expect(dead).toMatchObject({ state: 'failed', attrs: { reason: 'crash' } });
      const recoveryMs = dead.finishedAt! - killedAt;
      expect(recoveryMs).toBeLessThan(graceMs + 5_000);
      expect(trials.filter((t) => t.state === 'running' || t.state === 'waiting')).toEqual([]);
    } finally {
      await s.close();
    }
  });
});
