import { describe, it, expect } from 'vitest';
import { Study, TrialStateError, runController, START_ATTRS_DELAY_MS, type Executor, type RunOptions, type Scheduler, type Sampler, type TrialAttrs, type Trial, type TrialOutcome, type TrialTask } from '@segtune/core';
import { parseSpace } from '@segtune/space';
import { MemoryStorage, SqliteStorage } from '@segtune/storage';
import { RandomSampler } from '@segtune/samplers';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FunctionExecutor, sleep } from './support/function-executor';

const SPACE = `name: quad
objectives: [{ name: value, direction: minimize }]
params:
  x: { type: float, low: -3, high: 3 }
  k: { type: int, low: 1, high: 4 }
budget: { name: epochs, min: 1, max: 4 }
workload: { kind: benchmark, function: branin }
`;

async function makeStudy(options: { sampler?: Sampler; scheduler?: Scheduler; storage?: MemoryStorage | SqliteStorage; seed?: number } = {}) {
  const loaded = parseSpace(SPACE, 'quad.yaml');
  const storage = options.storage ?? new MemoryStorage();
  const record = await storage.createStudy({ name: 'quad', objectives: loaded.spec.objectives, budget: loaded.spec.budget, seed: options.seed ?? 3 });
  const study = new Study({ storage, record, space: loaded.space, sampler: options.sampler ?? new RandomSampler(), scheduler: options.scheduler });
  return { study, storage, loaded };
}

describe('Study ask / report / tell', () => {
  it('numbers trials densely, hands out enqueued configurations first, and stores outcomes', async () => {
    const { study } = await makeStudy();
    await study.enqueue({ x: 1.5, k: 2 });
    const t0 = (await study.ask())!;
    expect(t0).toMatchObject({ number: 0, state: 'running', params: { x: 1.5, k: 2 } });
    expect(t0.attrs.enqueued).toBe(true);
    const t1 = (await study.ask())!;
    expect(t1.number).toBe(1);
    expect(t1.params.x).toBeGreaterThanOrEqual(-3);
    await study.tell(t0, { state: 'complete', metrics: { value: 2.5, extra: 1 } });
    const done = (await study.trials()).find((t) => t.number === 0)!;
    expect(done).toMatchObject({ state: 'complete', values: [2.5], metrics: { value: 2.5, extra: 1 } });
    await expect(study.tell(t0, { state: 'complete', metrics: { value: 1 } })).rejects.toBeInstanceOf(TrialStateError);
    await expect(study.enqueue({ x: 9, k: 2 })).rejects.toThrow(/"x": 9 is outside \[-3, 3\]/);
  });

  it('completes a partial enqueued configuration with the sampler, keeping the given values (Optuna enqueue_trial)', async () => {
    // A sampler that proposes a fixed configuration: the given value must win over its x, and its
    // k must fill the param left out; the context is that of any trial of that number.
    const seen: number[] = [];
    const sampler: Sampler = { name: 'fixed', suggest: (ctx) => (seen.push(ctx.trialNumber, ctx.history.length), { x: -2, k: 3 }) };
    const { study } = await makeStudy({ sampler });
    const first = (await study.ask())!;
    await study.tell(first, { state: 'complete', metrics: { value: 1 } });
    await study.enqueue({ x: 0.25 });
    const t = (await study.ask())!;
    expect(t.params).toEqual({ x: 0.25, k: 3 });
    expect(t.attrs).toMatchObject({ enqueued: true, fixed_params: ['x'] });
    expect(seen).toEqual([0, 0, 1, 1]);
    // Stored too, so other workers and the executor see the whole configuration.
    expect((await study.trials()).find((x) => x.number === 1)!.params).toEqual({ x: 0.25, k: 3 });
    // A full one is not touched by the sampler and gets no fixed_params.
    await study.enqueue({ x: 1, k: 1 });
    const full = (await study.ask())!;
    expect(full.params).toEqual({ x: 1, k: 1 });
    expect(full.attrs.fixed_params).toBeUndefined();
    expect(seen).toHaveLength(4);
    await expect(study.enqueue({ k: 9 })).rejects.toThrow(/"k": 9 is outside \[1, 4\]/);
    await expect(study.enqueue({ nope: 1 })).rejects.toThrow(/unknown param "nope"/);
  });

  it('a partial enqueue into a conditional space: the given parent opens its branch, the sampler fills it', async () => {
    const loaded = parseSpace(
      `name: cond
objectives: [{ name: value, direction: minimize }]
params:
  opt: { type: categorical, choices: [sgd, adam] }
  momentum: { type: float, low: 0, high: 1, when: { opt: sgd } }
  beta: { type: float, low: 0.5, high: 0.999, when: { opt: adam } }
workload: { kind: benchmark, function: branin }
`,
      'cond.yaml',
    );
    const storage = new MemoryStorage();
    const record = await storage.createStudy({ name: 'cond', objectives: loaded.spec.objectives, seed: 5 });
    // The sampler proposes the other branch: its beta is dropped, momentum is drawn for the
    // branch the given opt opened.
    const sampler: Sampler = { name: 'other-branch', suggest: () => ({ opt: 'adam', beta: 0.9 }) };
    const study = new Study({ storage, record, space: loaded.space, sampler });
    await study.enqueue({ opt: 'sgd' });
    const t = (await study.ask())!;
    expect(Object.keys(t.params)).toEqual(['opt', 'momentum']);
    expect(t.params.opt).toBe('sgd');
    expect(t.params.momentum).toBeGreaterThanOrEqual(0);
    expect(t.params.momentum).toBeLessThanOrEqual(1);
    // A child given without its parent is kept when the sampler's parent opens it...
    await study.enqueue({ beta: 0.6 });
    expect((await study.ask())!.params).toEqual({ opt: 'adam', beta: 0.6 });
    // ...and refused up front when the given parent closes it.
    await expect(study.enqueue({ opt: 'sgd', beta: 0.6 })).rejects.toThrow(/"beta" is inactive given opt="sgd"/);
  });

  it('is reproducible: the same seed gives the same suggestions', async () => {
    const a = await makeStudy({ seed: 11 });
    const b = await makeStudy({ seed: 11 });
    const c = await makeStudy({ seed: 12 });
    const pa = [], pb = [], pc = [];
    for (let i = 0; i < 5; i++) {
      pa.push((await a.study.ask())!.params);
      pb.push((await b.study.ask())!.params);
      pc.push((await c.study.ask())!.params);
    }
    expect(pa).toEqual(pb);
    expect(pa).not.toEqual(pc);
  });

  it('fails a trial whose objective is not finite, so samplers never see the value', async () => {
    const seen: number[][] = [];
    const spy: Sampler = {
      name: 'spy',
      suggest(ctx) {
        for (const t of ctx.history) if (t.values) seen.push(t.values);
        return ctx.space.decode(ctx.space.params.map(() => ctx.rng.random()));
      },
    };
    const { study } = await makeStudy({ sampler: spy });
    const t = (await study.ask())!;
    const done = await study.tell(t, { state: 'complete', metrics: { value: Number.NaN } });
    expect(done).toMatchObject({ state: 'failed', attrs: { reason: 'non-finite', error: 'objective "value" is NaN' } });
    expect(done.values).toBeUndefined();
    const u = (await study.ask())!;
    const missing = await study.tell(u, { state: 'complete', metrics: { other: 1 } });
    expect(missing.attrs.error).toBe('objective "value" was not returned');
    await study.ask();
    expect(seen).toEqual([]);
  });

  it('routes reports to the scheduler and drops non-finite intermediate values', async () => {
    const calls: number[] = [];
    const stopAtTwo: Scheduler = { name: 'stop-at-2', decide: ({ step }) => (calls.push(step), step >= 2 ? 'stop' : 'continue') };
    const { study } = await makeStudy({ scheduler: stopAtTwo });
    const t = (await study.ask())!;
    expect(await study.report(t, 1, { value: 3 })).toBe('continue');
    expect(await study.report(t, 2, { value: 2, bad: Number.POSITIVE_INFINITY })).toBe('stop');
    const stored = (await study.trials())[0];
    expect(stored.intermediate).toEqual({ 1: { value: 3 }, 2: { value: 2 } });
    expect(calls).toEqual([1, 2]);
  });
});

describe('Study.trials: the synced history', () => {
  it('stays in number order as changed trials arrive in any order, each replacing its older copy, and hands out a copy', async () => {
    const { study, storage } = await makeStudy();
    const trial = (id: number, seq: number, state: Trial['state'] = 'running'): Trial => ({ id, studyId: study.id, number: id, state, params: { x: id, k: 1 }, intermediate: {}, attrs: {}, createdAt: 0, seq });
    // What each sync reads: as another worker's commits can arrive (a lower number after a
    // higher one, a batch out of order, a newer copy of a trial already held).
    const batches: Trial[][] = [[trial(0, 1), trial(2, 3), trial(3, 4)], [trial(1, 5), trial(3, 6, 'complete')], [trial(5, 8), trial(4, 7)], []];
    const since: number[] = [];
    storage.getTrials = async (_id, query) => {
      since.push(query?.sinceSeq ?? 0);
      return batches.shift()!;
    };
    const view = (ts: Trial[]) => ts.map((t) => `${t.number}${t.state === 'complete' ? 'c' : ''}`).join(' ');
    expect(view(await study.trials())).toBe('0 2 3');
    expect(view(await study.trials())).toBe('0 1 2 3c');
    const third = await study.trials();
    expect(view(third)).toBe('0 1 2 3c 4 5');
    third.reverse().pop();
    expect(view(await study.trials())).toBe('0 1 2 3c 4 5');
    expect(since).toEqual([0, 4, 6, 8]);
  });
});

describe('runController', () => {
  it('runs up to the trial limit with bounded concurrency, over SQLite', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'segtune-ctl-'));
    const storage = new SqliteStorage(join(dir, 's.db'));
    const { study } = await makeStudy({ storage });
    const exec = new FunctionExecutor(async (p) => {
      await sleep(5);
      return (p.x as number) ** 2;
    }, 3);
    const res = await runController({ study, executor: exec, workload: { kind: 'benchmark', function: 'x' }, spaceDir: dir, maxTrials: 12 });
    expect(res.stoppedBy).toBe('trials');
    const trials = await study.trials();
    expect(trials.map((t) => t.number)).toEqual([...Array(12).keys()]);
    expect(trials.every((t) => t.state === 'complete')).toBe(true);
    expect(exec.maxRunning).toBe(3);
    await storage.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a failing or pruned trial does not stop the study', async () => {
    const stopEarly: Scheduler = { name: 's', decide: ({ trial, step }) => (trial.number % 3 === 1 && step >= 2 ? 'stop' : 'continue') };
    const { study } = await makeStudy({ scheduler: stopEarly });
    const exec = new FunctionExecutor(async (p, ctx) => {
      if (ctx.trialNumber % 3 === 2) throw new Error('boom\nsecond line');
      for (let e = 1; e <= 4; e++) await ctx.report(e, { value: (p.x as number) ** 2 + 1 / e });
      return (p.x as number) ** 2;
    });
    await runController({ study, executor: exec, workload: { kind: 'benchmark', function: 'x' }, spaceDir: '.', maxTrials: 9 });
    const trials = await study.trials();
    expect(trials.map((t) => t.state)).toEqual(['complete', 'pruned', 'failed', 'complete', 'pruned', 'failed', 'complete', 'pruned', 'failed']);
    expect(trials[2].attrs).toMatchObject({ reason: 'error', error: 'boom' });
    expect(Object.keys(trials[1].intermediate)).toEqual(['1', '2']);
  });

  it('stop signal: no new trials, running ones finish; abort signal: running ones fail as interrupted', async () => {
    const { study } = await makeStudy();
    const stop = new AbortController();
    const exec = new FunctionExecutor(async (_p, ctx) => {
      if (ctx.trialNumber === 3) stop.abort();
      await sleep(20);
      return 1;
    }, 2);
    const res = await runController({ study, executor: exec, workload: { kind: 'benchmark', function: 'x' }, spaceDir: '.', maxTrials: 50, stopSignal: stop.signal });
    expect(res.stoppedBy).toBe('interrupted');
    const trials = await study.trials();
    expect(trials.length).toBeLessThanOrEqual(5);
    expect(trials.every((t) => t.state === 'complete')).toBe(true);

    const other = await makeStudy();
    const abort = new AbortController();
    const slow = new FunctionExecutor(async (_p, ctx) => {
      if (ctx.trialNumber === 1) setTimeout(() => abort.abort(), 10);
      await sleep(5_000, ctx.signal);
      return 1;
    }, 2);
    const r2 = await runController({ study: other.study, executor: slow, workload: { kind: 'benchmark', function: 'x' }, spaceDir: '.', maxTrials: 50, abortSignal: abort.signal });
    expect(r2.stoppedBy).toBe('interrupted');
    const t2 = await other.study.trials();
    expect(t2).toHaveLength(2);
    expect(t2.every((t) => t.state === 'failed' && t.attrs.reason === 'interrupted')).toBe(true);
  });

  it('stops starting trials when the timeout passes (virtual clock)', async () => {
    const { study } = await makeStudy();
    let clock = 0;
    const exec = new FunctionExecutor(async () => {
      clock += 100;
      return 1;
    }, 1);
    const res = await runController({ study, executor: exec, workload: { kind: 'benchmark', function: 'x' }, spaceDir: '.', timeoutMs: 1_000, now: () => clock });
    expect(res.stoppedBy).toBe('timeout');
    expect((await study.trials()).length).toBe(10);
  });
});

/** Records the storage writes a study makes, with the trial's state in storage at the time. */
class CountingStorage extends MemoryStorage {
  readonly attrWrites: { trialId: number; attrs: TrialAttrs }[] = [];
  readonly paramWrites: { trialId: number; attrs?: TrialAttrs }[] = [];
  override async updateTrialAttrs(trialId: number, attrs: TrialAttrs): Promise<void> {
    this.attrWrites.push({ trialId, attrs });
    return super.updateTrialAttrs(trialId, attrs);
  }
  override async setTrialParams(trialId: number, params: Record<string, unknown>, attrs?: TrialAttrs): Promise<void> {
    this.paramWrites.push({ trialId, attrs });
    return super.setTrialParams(trialId, params as never, attrs);
  }
}

/** An executor that announces a start (as the pool and process executors do), then runs `body`. */
class StartingExecutor implements Executor {
  readonly capacity = 1;
  constructor(private readonly body: (options: RunOptions) => Promise<void>) {}
  async run(_task: TrialTask, options: RunOptions): Promise<TrialOutcome> {
    options.onStart?.({ worker: 'pid1/t1', gpu: 0, backend: 'wasm' });
    await this.body(options);
    return { state: 'complete', metrics: { value: 1 }, attrs: { worker: 'pid1/t1', duration: 2 } };
  }
  async close(): Promise<void> {}
}

describe('runController: the writes a trial costs', () => {
  it('a short trial: its start attrs go with its finish, and a scheduler bracket with its params (no attrs write of their own)', async () => {
    const storage = new CountingStorage();
    const bracketed: Scheduler = { name: 'b', decide: () => 'continue', bracketFor: (n) => n % 2 };
    const { study } = await makeStudy({ storage, scheduler: bracketed });
    await runController({ study, executor: new StartingExecutor(async () => undefined), workload: { kind: 'benchmark', function: 'x' }, spaceDir: '.', maxTrials: 4 });
    const trials = await study.trials();
    expect(trials.map((t) => t.state)).toEqual(['complete', 'complete', 'complete', 'complete']);
    for (const t of trials) expect(t.attrs).toMatchObject({ worker: 'pid1/t1', gpu: 0, backend: 'wasm', duration: 2, bracket: t.number % 2 });
    expect(storage.attrWrites).toEqual([]);
    expect(storage.paramWrites.map((w) => w.attrs)).toEqual([{ bracket: 0 }, { bracket: 1 }, { bracket: 0 }, { bracket: 1 }]);
  });

  it('a longer trial shows its start attrs while it runs; attrs it sets are written at once and a late start write does not undo them', async () => {
    const storage = new CountingStorage();
    const { study } = await makeStudy({ storage });
    let seenEarly: TrialAttrs | undefined;
    let seenLate: TrialAttrs | undefined;
    const exec = new StartingExecutor(async (options) => {
      // Before the delay: nothing written yet, then the trial's own attrs (with the start ones).
      seenEarly = (await study.trials())[0].attrs;
      options.onAttrs?.({ backend: 'tensorflow', command_pid: 42 });
      await sleep(START_ATTRS_DELAY_MS + 150);
      seenLate = (await study.trials())[0].attrs;
    });
    await runController({ study, executor: exec, workload: { kind: 'benchmark', function: 'x' }, spaceDir: '.', maxTrials: 1 });
    expect(seenEarly?.worker).not.toBe('pid1/t1');
    expect(storage.attrWrites.map((w) => w.attrs)).toEqual([{ worker: 'pid1/t1', gpu: 0, backend: 'tensorflow', command_pid: 42 }]);
    expect(seenLate).toMatchObject({ worker: 'pid1/t1', gpu: 0, backend: 'tensorflow', command_pid: 42 });
    expect((await study.trials())[0].attrs).toMatchObject({ backend: 'tensorflow', command_pid: 42, duration: 2 });

    // No attrs of its own: the start attrs are written after the delay, while it runs.
    const other = new CountingStorage();
    const made = await makeStudy({ storage: other });
    let during: TrialAttrs | undefined;
    const slow = new StartingExecutor(async () => {
      await sleep(START_ATTRS_DELAY_MS + 150);
      during = (await made.study.trials())[0].attrs;
    });
    await runController({ study: made.study, executor: slow, workload: { kind: 'benchmark', function: 'x' }, spaceDir: '.', maxTrials: 1 });
    expect(during).toMatchObject({ worker: 'pid1/t1', gpu: 0, backend: 'wasm' });
    expect(other.attrWrites.length).toBe(1);
  });
});
