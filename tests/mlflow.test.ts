// MLflow tracking against a real MLflow server (tests/support/mlflow-server.ts), read back with
// MLflow's own Python client as well as ours.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Storage } from '@segtune/core';
import { MemoryStorage, SqliteStorage } from '@segtune/storage';
import { createMlflowTracker, isMlflowError, mapKey, MlflowClient, MlflowError, trialRunName } from '@segtune/tracking';
import { freePort, provideMlflowServer, type MlflowServer, type ReadBack } from './support/mlflow-server';
import { runDemoStudy } from './support/mlflow-study';
import { runCli } from './support/cli';
import { createStudy } from '../apps/cli/src/library/study';

const provided = await provideMlflowServer();
const server = provided.server as MlflowServer;
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'segtune-mlflow-test-'));
});

afterAll(async () => {
  await provided.server?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

type Run = ReadBack['runs'][number];

const fmt = (xs: number[]) => `median ${[...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)].toFixed(0)} max ${Math.max(...xs).toFixed(0)}`;

/** Every (key, step) of a run's metric histories, with how often MLflow holds it. */
function pairCounts(run: Run): Map<string, number> {
  const out = new Map<string, number>();
  for (const [key, hist] of Object.entries(run.metrics)) for (const [step] of hist) out.set(`${key}@${step}`, (out.get(`${key}@${step}`) ?? 0) + 1);
  return out;
}

/** Checks a finished study as MLflow's Python client sees it: 1 parent, n nested runs, nothing twice. */
function expectComplete(back: ReadBack, name: string, trials: number, epochs: number, failed: number[] = []): { parent: Run; children: Run[] } {
  const parents = back.runs.filter((r) => r.tags['segtune.kind'] === 'study');
  expect(parents).toHaveLength(1);
  const parent = parents[0];
  expect(parent.run_name).toBe(name);
  expect(parent.parent).toBeNull();
  const children = back.runs.filter((r) => r.parent === parent.run_id);
  expect(children).toHaveLength(trials);
  expect(back.runs).toHaveLength(trials + 1);
  expect(children.map((r) => r.run_name).sort()).toEqual(Array.from({ length: trials }, (_, i) => trialRunName(i)));
  for (const c of children) {
    const n = Number(c.tags['segtune.trial_number']);
    expect(c.run_name).toBe(trialRunName(n));
    expect(Object.keys(c.params).sort()).toEqual(['batch_size', 'lr', 'optimizer', 'width']);
    // Names that follow segtune's rule need no mapping.
    expect(c.tags['segtune.key_map']).toBeUndefined();
    expect(c.tags['segtune.gpu']).toBe('cpu');
    expect(c.tags['segtune.backend']).toBe('cpu');
    const pairs = pairCounts(c);
    if (failed.includes(n)) {
      // Failed after its second report: two steps, no final values, the reason kept.
      expect(c.tags['segtune.state']).toBe('failed');
      expect(c.status).toBe('FAILED');
      expect(c.tags['segtune.reason']).toBe('oom');
      expect(c.tags['segtune.error']).toBe('out of memory at batch 3');
      expect([...pairs.keys()].sort()).toEqual(['loss@0', 'loss@1', 'miou@0', 'miou@1']);
      expect([...pairs.values()].every((v) => v === 1)).toBe(true);
      continue;
    }
    expect(c.tags['segtune.state']).toBe('complete');
    expect(c.status).toBe('FINISHED');
    expect(c.tags['segtune.reason']).toBeUndefined();
    for (const key of ['miou', 'loss']) for (let s = 0; s < epochs; s++) expect(pairs.get(`${key}@${s}`), `${c.run_name} ${key}@${s}`).toBe(1);
    for (const key of ['final/miou', 'final/loss', 'final/params_k']) expect(pairs.get(`${key}@${epochs - 1}`), `${c.run_name} ${key}`).toBe(1);
    expect(pairs.size).toBe(2 * epochs + 3);
  }
  return { parent, children };
}

describe.skipIf(!server)(`MLflow tracking against a real server${provided.skip ? ` (skipped: ${provided.skip})` : ''}`, () => {
  describe('REST client', () => {
    it('gets or creates experiments, and reads a missing one as undefined', async () => {
      const c = new MlflowClient({ uri: server.uri });
      expect(await c.getExperimentByName('client-exp')).toBeUndefined();
      const id = await c.getOrCreateExperiment('client-exp');
      expect(await c.getOrCreateExperiment('client-exp')).toBe(id);
      expect((await c.getExperimentByName('client-exp'))?.experimentId).toBe(id);
    });

    it('splits log-batch within MLflow limits, and a replay adds nothing', async () => {
      const c = new MlflowClient({ uri: server.uri });
      const exp = await c.getOrCreateExperiment('client-batch');
      const run = await c.createRun({ experimentId: exp, runName: 'big' });
      const metrics = Array.from({ length: 1500 }, (_, i) => ({ key: `m${i % 3}`, value: i / 7, timestamp: 1_700_000_000_000 + i, step: i }));
      const params = Array.from({ length: 250 }, (_, i) => ({ key: `p${i}`, value: i === 0 ? 'x'.repeat(7000) : String(i) }));
      const tags = Array.from({ length: 130 }, (_, i) => ({ key: `t${i}`, value: 'y'.repeat(8000) }));
      const calls = await c.logBatch(run.runId, { metrics, params, tags });
      // 250 params need 3 calls; 130 tags of 8 kB (1.04 MB) exceed one request by size and count.
      expect(calls).toBeGreaterThanOrEqual(4);
      const got = await c.getRun(run.runId);
      expect(Object.keys(got.params)).toHaveLength(250);
      expect(got.params.p0).toHaveLength(6000);
      expect(got.params.p0.endsWith('...')).toBe(true);
      expect(Object.keys(got.tags).filter((k) => k.startsWith('t'))).toHaveLength(130);
      expect(await c.getMetricHistory(run.runId, 'm1')).toHaveLength(500);
      await c.logBatch(run.runId, { metrics, params, tags });
      expect(await c.getMetricHistory(run.runId, 'm1')).toHaveLength(500);
    });

    it('reports a param re-logged with another value as one clear line', async () => {
      const c = new MlflowClient({ uri: server.uri });
      const exp = await c.getOrCreateExperiment('client-batch');
      const run = await c.createRun({ experimentId: exp, runName: 'conflict' });
      await c.logBatch(run.runId, { params: [{ key: 'lr', value: '0.1' }] });
      const err = await c.logBatch(run.runId, { params: [{ key: 'lr', value: '0.2' }] }).catch((e: unknown) => e);
      expect(isMlflowError(err)).toBe(true);
      const e = err as MlflowError;
      expect(e.status).toBe(400);
      expect(e.code).toBe('INVALID_PARAMETER_VALUE');
      expect(e.retryable).toBe(false);
      expect(e.message).toMatch(/^MLflow POST runs\/log-batch failed: 400 INVALID_PARAMETER_VALUE: Changing param values is not allowed/);
      expect(e.message).not.toContain('\n');
    });

    it('maps names that MLflow refuses to keys it accepts', async () => {
      const c = new MlflowClient({ uri: server.uri });
      const exp = await c.getOrCreateExperiment('client-keys');
      const run = await c.createRun({ experimentId: exp, runName: 'keys' });
      const names = ['lr@init', '../up', '/abs/', 'a//b', 'dropout (%)', 'né ✓', 'x'.repeat(300), './.', 'ok name: fine/1'];
      const keys = names.map(mapKey);
      expect(keys.slice(0, 6)).toEqual(['lr_init', '__/up', 'abs', 'a/b', 'dropout ___', 'né _']);
      expect(keys[6]).toHaveLength(250);
      expect(keys[8]).toBe('ok name: fine/1');
      await c.logBatch(run.runId, { params: keys.map((key, i) => ({ key, value: names[i] })), metrics: keys.map((key, i) => ({ key, value: i, timestamp: 1, step: 0 })) });
      const got = await c.getRun(run.runId);
      expect(Object.keys(got.params).sort()).toEqual([...keys].sort());
      expect(Object.keys(got.metrics)).toHaveLength(names.length);
    });

    it('uploads artifacts through the artifact proxy', async () => {
      const c = new MlflowClient({ uri: server.uri });
      const exp = await c.getOrCreateExperiment('client-artifacts');
      const run = await c.createRun({ experimentId: exp, runName: 'art' });
      expect(run.artifactUri).toMatch(/^mlflow-artifacts:\//);
      await c.uploadArtifact(run.artifactUri, 'space.yaml', 'name: x\n');
      await c.uploadArtifact(run.artifactUri, 'plots/front.csv', 'a,b\n1,2\n');
      expect((await c.listArtifacts(run.artifactUri)).map((f) => f.path).sort()).toEqual(['plots', 'space.yaml']);
      expect(await c.downloadArtifact(run.artifactUri, 'plots/front.csv')).toBe('a,b\n1,2\n');
    });

    it("surfaces the server's plain-text 403 guard and unreachable servers as one line", async () => {
      const cors = new MlflowClient({ uri: server.uri, headers: { Origin: 'http://evil.example' } });
      const e403 = (await cors.createExperiment('never').catch((e: unknown) => e)) as MlflowError;
      expect(e403.status).toBe(403);
      expect(e403.code).toBeUndefined();
      expect(e403.message).toMatch(/403: .*cross-origin|403: .*CORS/i);
      expect(e403.message).toContain('--allowed-hosts');
      const port = await freePort();
      const closed = new MlflowClient({ uri: `http://127.0.0.1:${port}`, retries: 1, baseDelayMs: 10 });
      const down = (await closed.getExperimentByName('x').catch((e: unknown) => e)) as MlflowError;
      expect(down.retryable).toBe(true);
      expect(down.message).toBe(`MLflow unreachable at http://127.0.0.1:${port} (GET experiments/get-by-name: ECONNREFUSED)`);
      expect(closed.requests).toBe(2);
    });
  });

  it('logs a 20-trial, 5-epoch study as 1 parent and 20 nested runs, read back by MLflow itself', async () => {
    const storage = new SqliteStorage(join(dir, 'study.db'));
    const warnings: string[] = [];
    const tracker = createMlflowTracker({ uri: server.uri, storage, onWarning: (l) => warnings.push(l) });
    const { study } = await runDemoStudy({ storage, name: 'nested-20', trials: 20, epochs: 5, trackers: [tracker], failTrials: [3] });
    const url = await tracker.runUrl(30_000);
    await tracker.flush(60_000);
    await tracker.close();
    expect(await storage.outboxCount('mlflow')).toBe(0);
    expect(warnings).toEqual([]);

    const back = await server.readBack('nested-20');
    const { parent, children } = expectComplete(back, 'nested-20', 20, 5, [3]);
    expect(url).toBe(`${server.uri}/#/experiments/${back.experiment_id}/runs/${parent.run_id}`);
    // Params and final values agree with the storage, trial by trial.
    for (const t of await study.trials()) {
      if (t.state !== 'complete') continue;
      const run = children.find((r) => r.run_name === trialRunName(t.number))!;
      expect(run.params.lr).toBe(String(t.params.lr));
      expect(run.params.batch_size).toBe(String(t.params.batch_size));
      expect(run.metrics['final/miou'][0][1]).toBeCloseTo(t.values![0], 12);
      expect(run.metrics.miou.map(([step, v]) => [step, v])).toEqual([0, 1, 2, 3, 4].map((s) => [s, t.intermediate[s].miou]));
    }
    expect(parent.params).toMatchObject({ sampler: 'random', scheduler: 'none', objectives: 'miou:maximize', seed: '7', max_trials: '20' });
    expect(parent.status).toBe('FINISHED');
    expect(parent.artifacts.sort()).toEqual(['mlflow-demo.yaml', 'pareto_front.csv', 'pareto_front.json']);
    const bestValue = Math.max(...children.filter((r) => r.metrics['final/miou']).map((r) => r.metrics['final/miou'][0][1]));
    expect(parent.metrics['best/miou'][0][1]).toBe(bestValue);
    expect(parent.metrics['trials/complete'][0][1]).toBe(19);
    expect(parent.metrics['trials/failed'][0][1]).toBe(1);
    // Our own client reads the same.
    const c = new MlflowClient({ uri: server.uri });
    const ours = await c.searchAllRuns({ experimentIds: [back.experiment_id], filter: `tags.\`mlflow.parentRunId\` = '${parent.run_id}'` });
    expect(ours).toHaveLength(20);
    expect(await c.getMetricHistory(children[0].run_id, 'loss')).toHaveLength(5);
    await storage.close();
  });

  it('nests the trials of several workers under one parent run', async () => {
    const storage = new SqliteStorage(join(dir, 'workers.db'));
    const warnings: string[] = [];
    const tracker = (sink: string) => createMlflowTracker({ uri: server.uri, storage, sink, onWarning: (l) => warnings.push(l) });
    const [a, b] = [tracker('mlflow:a'), tracker('mlflow:b')];
    // Worker a creates the study; worker b joins it at once: both look for the parent run together.
    const first = runDemoStudy({ storage, name: 'workers', trials: 12, epochs: 3, stepDelayMs: 5, trackers: [a], worker: 'a' });
    while (!(await storage.getStudy('workers'))) await new Promise((r) => setTimeout(r, 5));
    const second = runDemoStudy({ storage, name: 'workers', trials: 12, epochs: 3, stepDelayMs: 5, trackers: [b], worker: 'b', join: true });
    const [ra, rb] = await Promise.all([first, second]);
    expect(ra.finished.length).toBeGreaterThan(0);
    expect(rb.finished.length).toBeGreaterThan(0);
    await Promise.all([a.flush(60_000), b.flush(60_000)]);
    await Promise.all([a.close(), b.close()]);
    expect(warnings).toEqual([]);
    const { children } = expectComplete(await server.readBack('workers'), 'workers', 12, 3);
    expect(new Set(children.map((c) => c.tags['segtune.worker']))).toEqual(new Set(['a', 'b']));
    await storage.close();
  });

  it('sends nothing twice when segtune restarts after sending but before acknowledging', async () => {
    const storage = new SqliteStorage(join(dir, 'replay.db'));
    // The first process "dies" after every send: its acknowledgements never reach the storage.
    const noAck: Storage = Object.assign(Object.create(storage) as Storage, { outboxAck: async () => undefined });
    const first = createMlflowTracker({ uri: server.uri, storage: noAck, onWarning: () => undefined });
    await runDemoStudy({ storage, name: 'replay', trials: 6, epochs: 3, trackers: [first] });
    const total = 1 + 6 * (1 + 3 + 1) + 1;
    // Wait until the first process has sent every event at least once (no flush: it never drains).
    for (let i = 0; i < 1200 && first.stats().sentEvents < total; i++) await new Promise((r) => setTimeout(r, 50));
    await first.close();
    expect(first.stats().sentEvents).toBeGreaterThanOrEqual(total);
    expect(await storage.outboxCount('mlflow')).toBe(total); // all sent, all still queued

    const warnings: string[] = [];
    const second = createMlflowTracker({ uri: server.uri, storage, onWarning: (l) => warnings.push(l) });
    await second.flush(60_000);
    await second.close();
    expect(await storage.outboxCount('mlflow')).toBe(0);
    expect(warnings).toEqual([]);
    expectComplete(await server.readBack('replay'), 'replay', 6, 3);
    await storage.close();
  });

  it('keeps searching while MLflow is down and logs everything once it is back', async () => {
    const storage = new MemoryStorage();
    const warnings: string[] = [];
    const tracker = createMlflowTracker({ uri: server.uri, storage, onWarning: (l) => warnings.push(l), retryMinMs: 200, retryMaxMs: 1000 });
    let down = false;
    let restarting: Promise<void> | undefined;
    // Trial 6's workload blocks until the server is confirmed dead (process gone, /health
    // refused), so that trials 6..15 run during the outage however long the kill takes.
    let confirmDead!: () => void;
    const dead = new Promise<void>((resolve) => (confirmDead = resolve));
    let deadConfirmed = false;
    const finishedWhileDown: number[] = [];
    const finishedAt: number[] = [];
    let queuedWhileDown = 0;
    const { finished } = await runDemoStudy({
      storage,
      name: 'outage',
      trials: 20,
      epochs: 5,
      stepDelayMs: 40,
      trackers: [tracker],
      beforeTrial: (n) => (n === 6 ? dead : undefined),
      onTrialFinished: (t) => {
        finishedAt[t.number] = performance.now();
        if (down) finishedWhileDown.push(t.number);
        // Neither the kill nor the restart is awaited here: the search must not wait for MLflow.
        if (t.number === 5) {
          void server
            .kill()
            .then(async () => void (deadConfirmed = !(await server.healthy())))
            .finally(() => {
              down = true;
              confirmDead();
            });
        }
        if (t.number === 15) {
          restarting = (async () => {
            queuedWhileDown = await storage.outboxCount('mlflow');
            down = false;
            await server.restart();
          })();
        }
      },
    });
    expect(finished).toHaveLength(20);
    expect(deadConfirmed).toBe(true);
    // For the record, not asserted (shared machines): trial cadence before and during the outage.
    const gaps = finishedAt.slice(1).map((t, i) => t - finishedAt[i]);
    console.log(`outage test: trial gaps before the kill ${fmt(gaps.slice(0, 5))} ms, while down ${fmt(gaps.slice(6, 15))} ms, during restart ${fmt(gaps.slice(15))} ms`);
    // Trials 6..15 ran while the server was dead: 6 started only once it was.
    expect(finishedWhileDown.filter((n) => n <= 15)).toEqual([6, 7, 8, 9, 10, 11, 12, 13, 14, 15]);
    expect(queuedWhileDown).toBeGreaterThan(9 * 6);
    await restarting;
    await tracker.flush(90_000);
    await tracker.close();
    expect(await storage.outboxCount('mlflow')).toBe(0);
    expect(warnings.filter((w) => w.startsWith('MLflow unreachable'))).toHaveLength(1);
    expect(warnings.filter((w) => w.startsWith('MLflow is reachable again'))).toHaveLength(1);
    expect(warnings).toHaveLength(2);
    expectComplete(await server.readBack('outage'), 'outage', 20, 5);
  });

  it('the library logs a define-by-run study the same way: one parent run, a nested run per trial, finished at close', async () => {
    const study = await createStudy({ name: 'lib-mlflow', storage: join(dir, 'lib.db'), directions: ['minimize'], sampler: 'tpe', seed: 4, mlflow: server.uri });
    await study.optimize(async (t) => {
      const x = t.suggestFloat('x', -2, 2);
      await t.report(0, (x - 1) ** 2 + 1);
      return (x - 1) ** 2;
    }, { trials: 6 });
    await study.close();
    const back = await server.readBack('lib-mlflow');
    const parents = back.runs.filter((x) => x.tags['segtune.kind'] === 'study');
    expect(parents).toHaveLength(1);
    expect(parents[0].run_name).toBe('lib-mlflow');
    expect(parents[0].tags['segtune.state']).toBe('finished');
    const children = back.runs.filter((x) => x.parent === parents[0].run_id);
    expect(children).toHaveLength(6);
    for (const c of children) {
      expect(Object.keys(c.params)).toEqual(['x']);
      expect(c.status).toBe('FINISHED');
      expect(Object.keys(c.metrics).sort()).toEqual(['final/value', 'value']);
    }
  });

  describe('segtune search --mlflow', () => {
    it('prints the run URL at start and logs every trial under the study run', async () => {
      const r = runCli(['search', 'search-spaces/branin.yaml', '--trials', '8', '--sampler', 'random', '--seed', '3', '--study', 'cli-mlflow', '--storage', join(dir, 'cli.db'), '--mlflow', server.uri, '--no-export']);
      expect(r.stderr, r.stderr).not.toMatch(/warning|error/i);
      expect(r.code).toBe(0);
      const url = /^mlflow: (\S+)$/m.exec(r.stderr)?.[1];
      expect(url).toMatch(new RegExp(`^${server.uri.replace(/[.]/g, '\\.')}/#/experiments/\\d+/runs/[0-9a-f]{32}$`));
      const back = await server.readBack('cli-mlflow');
      const parent = back.runs.find((x) => x.tags['segtune.kind'] === 'study')!;
      expect(url!.endsWith(parent.run_id)).toBe(true);
      const children = back.runs.filter((x) => x.parent === parent.run_id);
      expect(children).toHaveLength(8);
      for (const c of children) expect(Object.keys(c.params).sort()).toEqual(['x1', 'x2']);
    });

    it('goes on with one warning line while MLflow is unreachable', async () => {
      const port = await freePort();
      const r = runCli(['search', 'search-spaces/branin.yaml', '--trials', '6', '--sampler', 'random', '--study', 'cli-offline', '--storage', join(dir, 'offline.db'), '--mlflow', `http://127.0.0.1:${port}`, '--no-export']);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/6 trials \(6 complete/);
      expect(r.stderr.split('\n').filter((l) => /^warning: MLflow unreachable/.test(l))).toHaveLength(1);
      // The search ends with how many events wait in the storage for the next run.
      expect(r.stderr).toMatch(/MLflow tracking event\(s\) not sent yet .*wait in sqlite:/);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    });
  });
});

describe('MLflow tracker without a server', () => {
  it('never throws into the search, queues every event durably and warns once', async () => {
    const storage = new MemoryStorage();
    const port = await freePort();
    const warnings: string[] = [];
    const tracker = createMlflowTracker({ uri: `http://127.0.0.1:${port}`, storage, onWarning: (l) => warnings.push(l), retryMinMs: 50, retryMaxMs: 200, client: { retries: 0 } });
    const { finished } = await runDemoStudy({ storage, name: 'offline', trials: 8, epochs: 4, stepDelayMs: 5, trackers: [tracker] });
    expect(finished).toHaveLength(8);
    expect(await tracker.runUrl(200)).toBeUndefined();
    await tracker.flush(300);
    await tracker.close();
    // study-started, 8 × (started + 4 reports + finished), study-finished: all still queued.
    expect(await storage.outboxCount('mlflow')).toBe(1 + 8 * 6 + 1);
    expect(warnings[0]).toMatch(new RegExp(`^MLflow unreachable at http://127\\.0\\.0\\.1:${port} \\(.*ECONNREFUSED\\); the search goes on`));
    expect(warnings.filter((w) => w.startsWith('MLflow unreachable'))).toHaveLength(1);
    expect(warnings[warnings.length - 1]).toMatch(/^50 MLflow tracking event\(s\) not sent yet \(MLflow unreachable at .*\); they wait in memory/);
    const kinds = (await storage.outboxPeek('mlflow', 100)).map((e) => e.kind);
    expect(kinds[0]).toBe('study-started');
    expect(kinds[kinds.length - 1]).toBe('study-finished');
    expect(kinds.slice(1, 7)).toEqual(['trial-started', 'trial-reported', 'trial-reported', 'trial-reported', 'trial-reported', 'trial-finished']);
  });
});
