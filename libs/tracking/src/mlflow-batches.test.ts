import { describe, expect, it } from 'vitest';
import type { OutboxEvent } from '@segtune/core';
import { BATCH_LIMITS, buildBatches, splitBatch, type RunLookup } from './mlflow-batches';
import type { StudyFinishedPayload, StudyInfo, StudyStartedPayload, TrialFinishedPayload, TrialReportedPayload, TrialStartedPayload } from './mlflow-payloads';
import type { RunState, StudyState } from './mlflow-runs';

const info: StudyInfo = { id: 1, name: 's', createdAt: 5, objectives: ['loss', 'ms'], directions: ['minimize', 'minimize'], sampler: { kind: 'tpe', gamma: 0.2 }, seed: 3, maxTrials: 10, storage: 'memory' };
const ref = { id: 1, name: 's', createdAt: 5, objectives: ['loss', 'ms'] };

function run(id: string, params: Record<string, string> = {}, keyMap: Record<string, string> = {}): RunState {
  return { runId: id, experimentId: '1', artifactUri: `mlflow-artifacts:/1/${id}/artifacts`, params: new Map(Object.entries(params)), keyMap };
}

function lookup(children: Record<number, RunState>): RunLookup & { st: StudyState } {
  const st: StudyState = { experimentId: '1', parent: run('parent'), children: new Map(Object.entries(children).map(([k, v]) => [Number(k), v])), childrenStale: false };
  return {
    st,
    study: () => st,
    trial: (_ref, n) => {
      const r = st.children.get(n);
      if (!r) throw new Error(`no run for trial ${n}`);
      return r;
    },
  };
}

let nextId = 1;
function ev(kind: string, payload: unknown): OutboxEvent {
  return { id: nextId++, studyId: 1, sink: 'mlflow', kind, payload, createdAt: 0, attempts: 0 };
}

const started = (number: number, params: TrialStartedPayload['params'] = { lr: 0.1 }): OutboxEvent => ev('trial-started', { study: ref, number, trialId: 10 + number, params, attrs: { worker: 'w', gpu: null, custom: 3 }, ts: 100 } satisfies TrialStartedPayload);
const reported = (number: number, step: number, values: Record<string, number>): OutboxEvent => ev('trial-reported', { study: ref, number, step, values, ts: 200 + step } satisfies TrialReportedPayload);
const finished = (number: number): OutboxEvent =>
  ev('trial-finished', { study: ref, number, trialId: 10 + number, state: 'failed', metrics: { loss: 0.5 }, params: { lr: 0.1 }, attrs: { reason: 'oom' }, lastStep: 4, ts: 300 } satisfies TrialFinishedPayload);

describe('buildBatches', () => {
  it("turns a study's start into the parent run's params, state, status and space file", () => {
    const runs = lookup({});
    const [b, ...rest] = buildBatches([ev('study-started', { study: info, spaceSource: 'name: s\n', spaceName: 's.yaml', ts: 1 } satisfies StudyStartedPayload)], runs);
    expect(rest).toEqual([]);
    expect(b.run).toBe(runs.st.parent);
    expect(Object.fromEntries(b.params.map((p) => [p.key, p.value]))).toEqual({ objectives: 'loss:minimize,ms:minimize', sampler: 'tpe', 'sampler.gamma': '0.2', scheduler: 'none', seed: '3', max_trials: '10' });
    expect(b.tags).toEqual([{ key: 'segtune.state', value: 'running' }]);
    expect(b.update).toEqual({ status: 'RUNNING' });
    expect(b.artifacts).toEqual([{ path: 's.yaml', body: 'name: s\n', type: 'application/yaml' }]);
  });

  it("gathers a trial's events into one batch for its run, with the original timestamps", () => {
    const t0 = run('t0');
    const t1 = run('t1');
    const batches = buildBatches([started(0), started(1), reported(0, 0, { loss: 0.9 }), reported(0, 1, { loss: 0.7 }), finished(0)], lookup({ 0: t0, 1: t1 }));
    expect(batches.map((b) => b.run.runId)).toEqual(['t0', 't1']);
    const [b0] = batches;
    expect(b0.params).toEqual([
      { key: 'lr', value: '0.1' },
      { key: 'lr', value: '0.1' },
    ]);
    expect(b0.metrics).toEqual([
      { key: 'loss', value: 0.9, timestamp: 200, step: 0 },
      { key: 'loss', value: 0.7, timestamp: 201, step: 1 },
      { key: 'final/loss', value: 0.5, timestamp: 300, step: 4 },
    ]);
    expect(b0.tags).toEqual([
      { key: 'segtune.worker', value: 'w' },
      { key: 'segtune.gpu', value: 'cpu' },
      { key: 'segtune.attr.custom', value: '3' },
      { key: 'segtune.reason', value: 'oom' },
      { key: 'segtune.state', value: 'failed' },
    ]);
    expect(b0.update).toEqual({ status: 'FAILED', endTime: 300 });
    expect(b0.keyMap).toBeUndefined();
  });

  it('leaves out params the run holds already and keeps a changed value as a tag', () => {
    const [b] = buildBatches([started(0, { lr: 0.1, width: 8 })], lookup({ 0: run('t0', { lr: '0.2', width: '8' }) }));
    expect(b.params).toEqual([]);
    expect(b.tags).toContainEqual({ key: 'segtune.param_changed.lr', value: '0.1' });
    expect(b.tags.some((t) => t.key.includes('width'))).toBe(false);
  });

  it("maps names MLflow refuses and records the mapping, without changing the run until it is sent", () => {
    const t0 = run('t0');
    const events = [reported(0, 0, { 'iou@0.5': 0.3 })];
    const [b] = buildBatches(events, lookup({ 0: t0 }));
    expect(b.metrics[0].key).toBe('iou_0.5');
    expect(b.keyMap).toEqual({ 'iou_0.5': 'iou@0.5' });
    expect(b.tags).toContainEqual({ key: 'segtune.key_map', value: JSON.stringify({ 'iou_0.5': 'iou@0.5' }) });
    expect(t0.keyMap).toEqual({});
    // Built again (a resend after a failure), the mapping tag goes again.
    expect(buildBatches(events, lookup({ 0: t0 }))[0].keyMap).toEqual({ 'iou_0.5': 'iou@0.5' });
    // Once the run holds it, it is not sent again.
    expect(buildBatches(events, lookup({ 0: run('t0', {}, { 'iou_0.5': 'iou@0.5' }) }))[0].tags).toEqual([]);
  });

  it("turns a study's end into best values, the front as a series, counts and the front's files", () => {
    const runs = lookup({ 2: run('t2'), 5: run('t5') });
    const payload: StudyFinishedPayload = {
      study: info,
      best: [
        { number: 5, values: [0.2, 30], params: { lr: 0.01, opt: 'a,b' } },
        { number: 2, values: [0.1, 40], params: { lr: 0.02 } },
      ],
      counts: { complete: 7, failed: 1 },
      ts: 9,
    };
    const [b] = buildBatches([ev('study-finished', payload)], runs);
    expect(b.run).toBe(runs.st.parent);
    const m = (key: string) => b.metrics.filter((x) => x.key === key).map((x) => [x.step, x.value]);
    expect(m('best/loss')).toEqual([[0, 0.1]]);
    expect(m('best/ms')).toEqual([[0, 30]]);
    expect(m('pareto/loss')).toEqual([[0, 0.1], [1, 0.2]]);
    expect(m('pareto/size')).toEqual([[0, 2]]);
    expect(m('trials/complete')).toEqual([[0, 7]]);
    expect(b.tags).toEqual([{ key: 'segtune.best_trials', value: '2,5' }, { key: 'segtune.state', value: 'finished' }]);
    expect(b.update).toEqual({ status: 'FINISHED', endTime: 9 });
    const json = JSON.parse(b.artifacts.find((a) => a.path === 'pareto_front.json')!.body) as { trials: { number: number; run_id: string }[] };
    expect(json.trials.map((t) => [t.number, t.run_id])).toEqual([[2, 't2'], [5, 't5']]);
    expect(b.artifacts.find((a) => a.path === 'pareto_front.csv')!.body).toBe('trial,loss,ms,lr,opt\n2,0.1,40,0.02,\n5,0.2,30,0.01,"a,b"\n');
  });

  it('skips event kinds it does not know and asks for no run for them', () => {
    expect(buildBatches([ev('trial-annotated', { study: ref, number: 9 })], lookup({}))).toEqual([]);
  });

  it('refuses to build for a trial whose run was not prepared', () => {
    expect(() => buildBatches([started(3)], lookup({}))).toThrow('no run for trial 3');
  });
});

describe('splitBatch', () => {
  it('keeps every request within MLflow limits and loses nothing finite', () => {
    const chunks = splitBatch({
      params: Array.from({ length: 120 }, (_, i) => ({ key: `p${i}`, value: 'v'.repeat(6000) })),
      tags: Array.from({ length: 100 }, (_, i) => ({ key: `t${i}`, value: 'w'.repeat(9000) })),
      metrics: Array.from({ length: 1500 }, (_, i) => ({ key: 'm', value: i, timestamp: i, step: i })).concat([{ key: 'nan', value: NaN, timestamp: 0, step: 0 }]),
    });
    let params = 0;
    let tags = 0;
    let metrics = 0;
    for (const c of chunks) {
      expect(c.params.length).toBeLessThanOrEqual(BATCH_LIMITS.params);
      expect(c.tags.length).toBeLessThanOrEqual(BATCH_LIMITS.tags);
      expect(c.metrics.length).toBeLessThanOrEqual(BATCH_LIMITS.metrics);
      expect(c.params.length + c.tags.length + c.metrics.length).toBeLessThanOrEqual(BATCH_LIMITS.entities);
      expect(Buffer.byteLength(JSON.stringify({ run_id: 'f'.repeat(32), ...c }))).toBeLessThanOrEqual(BATCH_LIMITS.bytes);
      params += c.params.length;
      tags += c.tags.length;
      metrics += c.metrics.length;
      for (const t of c.tags) expect(t.value).toHaveLength(8000);
    }
    expect([params, tags, metrics]).toEqual([120, 100, 1500]);
    // 100 tags of 8 kB and 120 params of 6 kB are 1.5 MB: the byte limit splits them.
    expect(chunks.length).toBeGreaterThanOrEqual(3);
  });

  it('keeps the first value of a repeated param and the last of a repeated tag', () => {
    const [c] = splitBatch({ params: [{ key: 'a', value: '1' }, { key: 'a', value: '2' }], tags: [{ key: 't', value: 'x' }, { key: 't', value: 'y' }] });
    expect(c.params).toEqual([{ key: 'a', value: '1' }]);
    expect(c.tags).toEqual([{ key: 't', value: 'y' }]);
  });

  it('sends nothing for an empty batch', () => {
    expect(splitBatch({})).toEqual([]);
  });
});

