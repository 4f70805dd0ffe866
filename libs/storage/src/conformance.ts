// The conformance suite every Storage backend runs (memory, SQLite, PostgreSQL). Not part of
// the package's public surface: test files import it by path.
import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { StudyExistsError, TrialNotFoundError, TrialStateError, type Storage, type StudySpec } from '@segtune/core';

const spec = (name: string): StudySpec => ({
  name,
  objectives: [{ name: 'value', direction: 'minimize' }],
  seed: 7,
  budget: { name: 'epochs', min: 1, max: 9 },
  sampler: { kind: 'random' },
  attrs: { note: 'x' },
});

export function storageConformance(label: string, open: () => Promise<Storage>, cleanup?: () => Promise<void>): void {
  describe(`storage conformance: ${label}`, () => {
    let s: Storage;
    beforeEach(async () => {
      s = await open();
    });
    afterEach(async () => {
      await s.close();
      await cleanup?.();
    });

    it('creates, finds and lists studies; a second study of the same name is refused', async () => {
      const a = await s.createStudy(spec('a'));
      const b = await s.createStudy(spec('b'));
      expect(a.id).not.toBe(b.id);
      await expect(s.createStudy(spec('a'))).rejects.toBeInstanceOf(StudyExistsError);
      const got = await s.getStudy('a');
      expect(got).toMatchObject({ name: 'a', seed: 7, objectives: [{ name: 'value', direction: 'minimize' }], budget: { max: 9 }, attrs: { note: 'x' } });
      expect(await s.getStudy('nope')).toBeUndefined();
      expect((await s.listStudies()).map((x) => x.name)).toEqual(['a', 'b']);
      await s.setStudyAttrs(a.id, { best: 1 });
      expect((await s.getStudy('a'))!.attrs).toEqual({ note: 'x', best: 1 });
    });

    it('numbers trials densely per study, also under concurrent creation', async () => {
      const a = await s.createStudy(spec('a'));
      const b = await s.createStudy(spec('b'));
      const made = await Promise.all(Array.from({ length: 40 }, (_, i) => s.createTrial(i % 2 ? a.id : b.id, { state: 'running', params: { x: i } })));
      const numsA = made.filter((t) => t!.studyId === a.id).map((t) => t!.number).sort((x, y) => x - y);
      expect(numsA).toEqual(Array.from({ length: 20 }, (_, i) => i));
      expect(new Set(made.map((t) => t!.id)).size).toBe(40);
      expect(await s.countTrials(a.id)).toBe(20);
      expect(await s.countTrials(a.id, ['running'])).toBe(20);
      expect(await s.countTrials(a.id, ['complete'])).toBe(0);
    });

    it('hands each waiting trial to exactly one claimer, oldest first', async () => {
      const a = await s.createStudy(spec('a'));
      for (const x of [1, 2, 3]) await s.createTrial(a.id, { state: 'waiting', params: { x }, attrs: { enqueued: true } });
      const claims = await Promise.all(Array.from({ length: 8 }, () => s.claimWaitingTrial(a.id, { worker: 'w' })));
      const got = claims.filter((c) => c !== undefined);
      expect(got.map((c) => c!.params.x).sort()).toEqual([1, 2, 3]);
      expect(got.every((c) => c!.state === 'running' && c!.attrs.worker === 'w' && c!.attrs.enqueued === true)).toBe(true);
      expect(await s.claimWaitingTrial(a.id)).toBeUndefined();
    });

    it('refuses running trials beyond maxTrials, counting only non-waiting ones', async () => {
      const a = await s.createStudy(spec('a'));
      await s.createTrial(a.id, { state: 'waiting', params: { x: 0 } });
      expect(await s.createTrial(a.id, { state: 'running', params: {} }, { maxTrials: 2 })).toBeDefined();
      expect(await s.claimWaitingTrial(a.id, {}, { maxTrials: 2 })).toBeDefined();
      expect(await s.createTrial(a.id, { state: 'running', params: {} }, { maxTrials: 2 })).toBeUndefined();
      await s.createTrial(a.id, { state: 'waiting', params: { x: 1 } });
      expect(await s.claimWaitingTrial(a.id, {}, { maxTrials: 2 })).toBeUndefined();
      const results = await Promise.all(Array.from({ length: 6 }, () => s.createTrial(a.id, { state: 'running', params: {} }, { maxTrials: 5 })));
      expect(results.filter(Boolean).length).toBe(3);
    });

    it('stores params, intermediate values, values, metrics and attrs', async () => {
      const a = await s.createStudy(spec('a'));
      const t = (await s.createTrial(a.id, { state: 'running', params: {}, attrs: { worker: 'w1' } }))!;
      await s.setTrialParams(t.id, { lr: 0.01, opt: 'adam', deep: true });
      await s.reportIntermediate(t.id, 1, { value: 0.5 });
      await s.reportIntermediate(t.id, 2, { value: 0.25, extra: 3 });
      await s.updateTrialAttrs(t.id, { backend: 'wasm' });
      const done = await s.finishTrial(t.id, { state: 'complete', values: [0.125], metrics: { value: 0.125, latency_ms: 4 } });
      expect(done.state).toBe('complete');
      const back = await s.getTrial(t.id);
      expect(back.params).toEqual({ lr: 0.01, opt: 'adam', deep: true });
      expect(back.intermediate).toEqual({ 1: { value: 0.5 }, 2: { value: 0.25, extra: 3 } });
      expect(back.values).toEqual([0.125]);
      expect(back.metrics).toEqual({ value: 0.125, latency_ms: 4 });
      expect(back.attrs).toMatchObject({ worker: 'w1', backend: 'wasm' });
      expect(back.finishedAt).toBeGreaterThanOrEqual(back.startedAt!);
      await expect(s.getTrial(987654)).rejects.toBeInstanceOf(TrialNotFoundError);
    });

    it('sets params and merges attrs in one write, and refuses both on a finished trial', async () => {
      const a = await s.createStudy(spec('a'));
      const t = (await s.createTrial(a.id, { state: 'running', params: {}, attrs: { worker: 'w1', bracket: 9 } }))!;
      const before = (await s.getTrial(t.id)).seq;
      await s.setTrialParams(t.id, { x: 0.5 }, { bracket: 2, resumed_from_trial: 0 });
      const back = await s.getTrial(t.id);
      expect(back.params).toEqual({ x: 0.5 });
      expect(back.attrs).toEqual({ worker: 'w1', bracket: 2, resumed_from_trial: 0 });
      expect(back.seq).toBeGreaterThan(before);
      // Readers that sync by sequence number see the change.
      expect((await s.getTrials(a.id, { sinceSeq: before })).map((x) => x.id)).toEqual([t.id]);
      await s.finishTrial(t.id, { state: 'complete', values: [1] });
      await expect(s.setTrialParams(t.id, { x: 2 }, { bracket: 3 })).rejects.toBeInstanceOf(TrialStateError);
      expect(await s.getTrial(t.id)).toMatchObject({ params: { x: 0.5 }, attrs: { bracket: 2 } });
      await expect(s.setTrialParams(987654, { x: 2 }, { bracket: 3 })).rejects.toBeInstanceOf(TrialNotFoundError);
    });

    it('rejects impossible state transitions and changes nothing', async () => {
      const a = await s.createStudy(spec('a'));
      const t = (await s.createTrial(a.id, { state: 'running', params: { x: 1 } }))!;
      await s.finishTrial(t.id, { state: 'complete', values: [1], metrics: { value: 1 } });
      await expect(s.finishTrial(t.id, { state: 'failed', attrs: { reason: 'late' } })).rejects.toBeInstanceOf(TrialStateError);
      await expect(s.finishTrial(t.id, { state: 'complete', values: [2] })).rejects.toBeInstanceOf(TrialStateError);
      await expect(s.reportIntermediate(t.id, 3, { value: 1 })).rejects.toBeInstanceOf(TrialStateError);
      await expect(s.setTrialParams(t.id, { x: 2 })).rejects.toBeInstanceOf(TrialStateError);
      const back = await s.getTrial(t.id);
      expect(back).toMatchObject({ state: 'complete', values: [1], params: { x: 1 } });
      expect(back.attrs.reason).toBeUndefined();
      const w = (await s.createTrial(a.id, { state: 'waiting', params: { x: 3 } }))!;
      await expect(s.finishTrial(w.id, { state: 'complete', values: [1] })).rejects.toBeInstanceOf(TrialStateError);
      expect((await s.finishTrial(w.id, { state: 'failed', attrs: { reason: 'cancelled' } })).state).toBe('failed');
    });

    it('syncs incrementally: sinceSeq returns only trials changed after it', async () => {
      const a = await s.createStudy(spec('a'));
      const t1 = (await s.createTrial(a.id, { state: 'running', params: { x: 1 } }))!;
      const t2 = (await s.createTrial(a.id, { state: 'running', params: { x: 2 } }))!;
      const all = await s.getTrials(a.id);
      const mark = Math.max(...all.map((t) => t.seq));
      expect(await s.getTrials(a.id, { sinceSeq: mark })).toEqual([]);
      await s.reportIntermediate(t2.id, 1, { value: 3 });
      const changed = await s.getTrials(a.id, { sinceSeq: mark });
      expect(changed.map((t) => t.id)).toEqual([t2.id]);
      expect(changed[0].seq).toBeGreaterThan(mark);
      expect((await s.getTrials(a.id, { states: ['running'] })).map((t) => t.id).sort()).toEqual([t1.id, t2.id].sort());
    });

    it('fails running trials whose heartbeat is older than the grace period', async () => {
      const a = await s.createStudy(spec('a'));
      const old = (await s.createTrial(a.id, { state: 'running', params: { x: 1 } }))!;
      const fresh = (await s.createTrial(a.id, { state: 'running', params: { x: 2 } }))!;
      await new Promise((r) => setTimeout(r, 60));
      await s.heartbeat([fresh.id]);
      const stale = await s.failStaleTrials(a.id, 40, 'stale', 'no heartbeat for 40 ms');
      expect(stale.map((t) => t.id)).toEqual([old.id]);
      expect(await s.getTrial(old.id)).toMatchObject({ state: 'failed', attrs: { reason: 'stale', error: 'no heartbeat for 40 ms' } });
      expect((await s.getTrial(fresh.id)).state).toBe('running');
    });

    it('keeps an outbox in order per sink, until acknowledged', async () => {
      const a = await s.createStudy(spec('a'));
      await s.outboxAppend(a.id, 'mlflow', [
        { kind: 'k1', payload: { n: 1 } },
        { kind: 'k2', payload: { n: 2 } },
      ]);
      await s.outboxAppend(a.id, 'other', [{ kind: 'k', payload: null }]);
      await s.outboxAppend(a.id, 'mlflow', [{ kind: 'k3', payload: { n: 3, deep: [1, 'x'] } }]);
      expect(await s.outboxCount('mlflow')).toBe(3);
      const first = await s.outboxPeek('mlflow', 2);
      expect(first.map((e) => e.kind)).toEqual(['k1', 'k2']);
      await s.outboxAck(first.map((e) => e.id));
      const rest = await s.outboxPeek('mlflow', 10);
      expect(rest).toHaveLength(1);
      expect(rest[0]).toMatchObject({ kind: 'k3', payload: { n: 3, deep: [1, 'x'] }, studyId: a.id, sink: 'mlflow' });
      expect(await s.outboxCount('other')).toBe(1);
    });
  });
}
