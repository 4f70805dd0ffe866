import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { StudyEvent, StudyRecord, Trial } from '@segtune/core';
import { createMlflowTracker, MlflowTracker, type MlflowTrackerOptions } from './outbox-tracker';
import { FakeMlflow, type FakeRequest, type Fault } from './testing/fake-mlflow';
import { MemoryOutbox } from './testing/memory-outbox';

const study: StudyRecord = { id: 1, name: 'fake', createdAt: 1_700_000_000_000, objectives: [{ name: 'loss', direction: 'minimize' }], seed: 1, sampler: { kind: 'random' }, attrs: {} };

function trial(number: number, patch: Partial<Trial> = {}): Trial {
  return { id: 100 + number, studyId: 1, number, state: 'running', params: { lr: 0.1 * (number + 1), width: 8 * (number + 1) }, intermediate: {}, attrs: { worker: 'w1' }, createdAt: 1, startedAt: 1_700_000_001_000 + number, seq: 0, ...patch };
}

/** study-started, per trial started + 2 reports + finished, study-finished: 2 + 4 × trials events. */
function studyEvents(trials: number, extra: (n: number) => Record<string, number> = () => ({})): StudyEvent[] {
  const out: StudyEvent[] = [{ kind: 'study-started', study }];
  const done: Trial[] = [];
  for (let n = 0; n < trials; n++) {
    out.push({ kind: 'trial-started', study, trial: trial(n) });
    const intermediate: Trial['intermediate'] = {};
    for (let step = 0; step < 2; step++) {
      const values = { loss: 1 / (n + step + 1), ...(step === 0 ? extra(n) : {}) };
      intermediate[step] = values;
      out.push({ kind: 'trial-reported', study, trial: trial(n), step, values });
    }
    const finished = trial(n, { state: 'complete', values: [1 / (n + 2)], metrics: { loss: 1 / (n + 2) }, intermediate, finishedAt: 1_700_000_002_000 + n });
    done.push(finished);
    out.push({ kind: 'trial-finished', study, trial: finished });
  }
  out.push({ kind: 'study-finished', study, best: [done[done.length - 1]] });
  return out;
}

let server: FakeMlflow;
let outbox: MemoryOutbox;
let warnings: string[];
const trackers: MlflowTracker[] = [];

beforeEach(async () => {
  server = await new FakeMlflow().start();
  outbox = new MemoryOutbox();
  outbox.trialCounts = { complete: 3 };
  warnings = [];
});

afterEach(async () => {
  for (const t of trackers.splice(0)) await t.close();
  await server.stop();
});

function tracker(options: Partial<MlflowTrackerOptions> = {}): MlflowTracker {
  const t = createMlflowTracker({
    uri: server.uri,
    storage: outbox.asStorage(),
    onWarning: (l) => warnings.push(l),
    // Long enough that a local create (well under 100 ms) never withdraws its parent run.
    parentSettleMs: 400,
    coalesceMs: 0,
    retryMinMs: 5,
    retryMaxMs: 20,
    ...options,
    client: { retries: 2, baseDelayMs: 1, maxDelayMs: 5, ...options.client },
  });
  trackers.push(t);
  return t;
}

/** Faults by endpoint, each answering its first `times` matching requests. */
function faults(...rules: { endpoint: string; fault: Fault; times: number; match?: (r: FakeRequest) => boolean }[]) {
  return (req: FakeRequest): Fault | undefined => {
    const rule = rules.find((r) => r.times > 0 && r.endpoint === req.endpoint && (r.match?.(req) ?? true));
    if (!rule) return undefined;
    rule.times--;
    return rule.fault;
  };
}

/** The study as the fake server holds it: one parent, one run per trial, every value once. */
function expectComplete(trials: number): void {
  const runs = server.activeRuns('fake');
  const parents = runs.filter((r) => r.tags.get('segtune.kind') === 'study');
  expect(parents).toHaveLength(1);
  const parent = parents[0];
  expect(parent.info.status).toBe('FINISHED');
  expect(Object.fromEntries(parent.params)).toMatchObject({ sampler: 'random', seed: '1', objectives: 'loss:minimize' });
  expect([...parent.metrics.values()].find((m) => m.key === 'trials/complete')?.value).toBe(3);
  const children = runs.filter((r) => r.tags.get('mlflow.parentRunId') === parent.info.run_id);
  expect(children.map((c) => c.info.run_name).sort()).toEqual(Array.from({ length: trials }, (_, n) => `trial-000${n}`));
  expect(runs).toHaveLength(trials + 1);
  for (const c of children) {
    const n = Number(c.tags.get('segtune.trial_number'));
    expect(Object.fromEntries(c.params)).toEqual({ lr: String(0.1 * (n + 1)), width: String(8 * (n + 1)) });
    expect(c.tags.get('segtune.worker')).toBe('w1');
    expect(c.tags.get('segtune.state')).toBe('complete');
    expect(c.info.status).toBe('FINISHED');
    expect([...c.metrics.values()].map((m) => `${m.key}@${m.step}`).sort()).toEqual(['final/loss@1', 'loss@0', 'loss@1']);
  }
  expect([...server.artifacts.keys()].map((k) => k.split('/').pop()).sort()).toEqual(['pareto_front.csv', 'pareto_front.json']);
}

function expectCreatedOnce(trials: number): void {
  expect(Object.fromEntries([...server.creates].filter(([name]) => name.startsWith('trial-')))).toEqual(Object.fromEntries(Array.from({ length: trials }, (_, n) => [`trial-000${n}`, 1])));
}

describe('MlflowTracker against a local HTTP server', () => {
  it('logs a study as one parent run and nested trial runs, and says where', async () => {
    const t = tracker();
    for (const e of studyEvents(3)) t.handle(e);
    const url = await t.runUrl(10_000);
    await t.flush(10_000);
    expectComplete(3);
    const parent = server.activeRuns('fake').find((r) => r.tags.get('segtune.kind') === 'study')!;
    expect(url).toBe(`${server.uri}/#/experiments/1/runs/${parent.info.run_id}`);
    expect(await outbox.outboxCount('mlflow')).toBe(0);
    expect(warnings).toEqual([]);
    // Nothing sent twice: each param once per run, and each trial's run created once.
    expect(server.repeatedParams).toBe(0);
    expectCreatedOnce(3);
    const status = t.status();
    expect(status).toMatchObject({ uri: server.uri, sink: 'mlflow', down: false, sentEvents: 2 + 4 * 3, rejectedEvents: 0 });
    expect(status.runUrl).toBe(await t.runUrl());
    expect(status.experimentUrl).toBe(`${server.uri}/#/experiments/1`);
    expect(status.requests).toBe(t.stats().requests);
  });

  it('resends after 5xx answers and creates no run twice when a create answer is lost', async () => {
    server.fault = faults(
      { endpoint: 'runs/log-batch', fault: { status: 503, code: 'TEMPORARILY_UNAVAILABLE' }, times: 4 },
      // The server made these runs but the answers never came: the tracker must find them.
      { endpoint: 'runs/create', fault: { status: 500, when: 'after' }, times: 1, match: (r) => r.body.run_name === 'trial-0001' },
      { endpoint: 'runs/create', fault: { drop: true, when: 'after' }, times: 1, match: (r) => r.body.run_name === 'trial-0002' },
      { endpoint: 'runs/update', fault: { drop: true, when: 'after' }, times: 2 },
    );
    const t = tracker();
    for (const e of studyEvents(3)) t.handle(e);
    await t.flush(30_000);
    expect(await outbox.outboxCount('mlflow')).toBe(0);
    expectComplete(3);
    // The lost creates were found by tag, not repeated.
    expectCreatedOnce(3);
    expect(t.status().rejectedEvents).toBe(0);
    expect(warnings[0]).toMatch(/^MLflow (at .* is failing|unreachable at)/);
    expect(warnings[warnings.length - 1]).toBe(`MLflow is reachable again at ${server.uri}; sending the queued tracking events`);
  });

  it('skips only the event MLflow rejects (4xx), without retrying it, and sends the rest', async () => {
    const reject = (r: FakeRequest) => (r.body.metrics ?? []).some((m: { key: string }) => m.key === 'bad');
    server.fault = faults({ endpoint: 'runs/log-batch', fault: { status: 400, code: 'INVALID_PARAMETER_VALUE', message: 'bad metric' }, times: 2, match: reject });
    const t = tracker();
    for (const e of studyEvents(3, (n): Record<string, number> => (n === 1 ? { bad: 1 } : {}))) t.handle(e);
    await t.flush(30_000);
    expect(await outbox.outboxCount('mlflow')).toBe(0);
    expect(warnings).toEqual([`MLflow rejected trial-reported of trial 1 (study fake); skipped: MLflow POST runs/log-batch failed: 400 INVALID_PARAMETER_VALUE: bad metric`]);
    expect(t.status()).toMatchObject({ rejectedEvents: 1, sentEvents: 2 + 4 * 3 - 1 });
    // The rejected event's step-0 loss went with it; everything else arrived once.
    const runs = server.activeRuns('fake');
    const one = runs.find((r) => r.info.run_name === 'trial-0001')!;
    expect([...one.metrics.values()].map((m) => `${m.key}@${m.step}`).sort()).toEqual(['final/loss@1', 'loss@1']);
    expect(runs).toHaveLength(4);
    expect(server.repeatedParams).toBe(0);
  });

  it('waits out dropped connections (one warning), then sends everything once', async () => {
    let dropping = true;
    server.fault = () => (dropping ? { drop: true } : undefined);
    const t = tracker();
    for (const e of studyEvents(3)) t.handle(e);
    await t.flush(300);
    expect(t.status().down).toBe(true);
    expect(await t.runUrl(100)).toBeUndefined();
    expect(await outbox.outboxCount('mlflow')).toBe(2 + 4 * 3);
    expect(warnings[0]).toMatch(new RegExp(`^MLflow unreachable at ${server.uri.replace(/\./g, '\\.')} \\(GET experiments/get-by-name: .*\\); the search goes on and tracking events wait in memory until it is back$`));
    expect(warnings[1]).toMatch(/^14 MLflow tracking event\(s\) not sent yet \(MLflow unreachable at .*\); they wait in memory/);
    expect(server.count('health')).toBeGreaterThan(0);
    dropping = false;
    await t.flush(30_000);
    expect(await outbox.outboxCount('mlflow')).toBe(0);
    expectComplete(3);
    expect(warnings.filter((w) => w.startsWith('MLflow unreachable'))).toHaveLength(1);
    expect(warnings.filter((w) => w.startsWith('MLflow is reachable again'))).toHaveLength(1);
    expect(await t.runUrl()).toBe(t.status().runUrl);
  });

  it('treats answers slower than the client timeout as no answer, and loses nothing', async () => {
    let slow = true;
    server.fault = (r) => (slow && r.endpoint !== 'health' ? { delayMs: 400 } : undefined);
    const t = tracker({ client: { timeoutMs: 100, retries: 0 } });
    for (const e of studyEvents(2)) t.handle(e);
    // Block until the tracker has given up on a slow answer, instead of guessing how long that takes.
    while (!warnings.length) await new Promise((r) => setTimeout(r, 20));
    expect(warnings[0]).toMatch(/^MLflow unreachable at .*no answer within 100 ms\); the search goes on/);
    slow = false;
    await t.flush(30_000);
    expect(await outbox.outboxCount('mlflow')).toBe(0);
    expect(server.activeRuns('fake').filter((r) => r.tags.get('segtune.kind') === 'trial')).toHaveLength(2);
  });

  it('a second tracker on the same storage sends what the first left, once', async () => {
    server.fault = () => ({ drop: true });
    const first = tracker();
    for (const e of studyEvents(3)) first.handle(e);
    await first.flush(200);
    await first.close();
    expect(await outbox.outboxCount('mlflow')).toBe(14);
    server.fault = undefined;
    const second = tracker();
    await second.flush(30_000);
    expect(await outbox.outboxCount('mlflow')).toBe(0);
    expectComplete(3);
    expect(server.repeatedParams).toBe(0);
  });

  it('ignores malformed events with one warning per kind and never throws', async () => {
    const t = tracker();
    t.handle({ kind: 'trial-started', study } as unknown as StudyEvent);
    t.handle({ kind: 'trial-started', study } as unknown as StudyEvent);
    await t.flush(5_000);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/^MLflow tracking ignored a malformed trial-started event: /);
  });
});
