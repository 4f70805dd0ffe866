import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '@segtune/core';
import { ensureBundled } from './ensure-bundled';
import { PoolExecutor } from './pool-executor';
import { countResources, driveAll, moduleTask, testResolver } from './testing';

beforeAll(async () => {
  await ensureBundled();
}, 120_000);

type Fault = 'ok' | 'throw' | 'hang' | 'hang-polite' | 'spin' | 'exit' | 'oom' | 'stop';

const EXPECTED: Record<Fault, { state: string; reason?: string }> = {
  ok: { state: 'complete' },
  throw: { state: 'failed', reason: 'error' },
  hang: { state: 'failed', reason: 'timeout' },
  'hang-polite': { state: 'failed', reason: 'timeout' },
  spin: { state: 'failed', reason: 'timeout' },
  exit: { state: 'failed', reason: 'crash' },
  oom: { state: 'failed', reason: 'oom' },
  stop: { state: 'pruned' },
};

describe('PoolExecutor reliability', () => {
  it('accounts for 200 trials with injected faults and leaves no thread behind', async () => {
    // 20% throw, 5% hang past the timeout (ignoring the signal, honouring it, or spinning
    // synchronously), 5% process.exit, 5% out of memory, 5% stopped by the scheduler.
    const faults: Fault[] = [
      ...Array<Fault>(40).fill('throw'),
      ...Array<Fault>(4).fill('hang'),
      ...Array<Fault>(3).fill('hang-polite'),
      ...Array<Fault>(3).fill('spin'),
      ...Array<Fault>(10).fill('exit'),
      ...Array<Fault>(10).fill('oom'),
      ...Array<Fault>(10).fill('stop'),
    ];
    while (faults.length < 200) faults.push('ok');
    const rng = new Rng(7);
    for (let i = faults.length - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      [faults[i], faults[j]] = [faults[j], faults[i]];
    }
    // Running out of heap takes V8 a few full collections, slow on a loaded machine: those trials
    // get a generous limit of their own, so that no timing decides the outcome.
    const tasks = faults.map((fault, i) => moduleTask(i, { fault, x: i / 10 }, 'faults.mjs', fault === 'oom' ? { timeoutMs: 60_000 } : {}));

    const portsBefore = countResources('MessagePort');
    const executor = new PoolExecutor({ resolverModule: testResolver, workers: 4, heapLimitMb: 32, timeoutMs: 1000, abortGraceMs: 300 });
    let results;
    try {
      results = await driveAll(executor, tasks, (task, step) => (task.params.fault === 'stop' && step >= 3 ? 'stop' : 'continue'));
    } finally {
      await executor.close();
    }

    expect(results).toHaveLength(200);
    const wrong: string[] = [];
    for (const r of results) {
      const fault = r.task.params.fault as Fault;
      const want = EXPECTED[fault];
      const got = r.outcome;
      const reason = got.state === 'failed' ? got.reason : undefined;
      if (got.state !== want.state || reason !== want.reason) wrong.push(`#${r.task.trialNumber} ${fault}: ${got.state}/${reason} ${got.state === 'failed' ? got.error : ''}`);
      // Every outcome names the thread it ran on and its GPU (none here).
      expect(got.attrs.worker).toMatch(/^pid\d+\/t\d+$/);
      expect(got.attrs.gpu).toBeNull();
    }
    expect(wrong).toEqual([]);

    for (const r of results.filter((r) => r.task.params.fault === 'ok')) {
      expect(r.outcome.state === 'complete' && r.outcome.metrics.loss).toBeCloseTo(((r.task.params.x as number) ** 2), 12);
      expect(r.outcome.attrs.backend).toBe('test-backend');
      expect(r.reports).toEqual([{ step: 0, values: { loss: r.task.params.x } }]);
    }
    for (const r of results.filter((r) => r.task.params.fault === 'stop')) {
      expect(r.outcome).toMatchObject({ state: 'pruned', step: 3 });
      expect(r.reports.map((x) => x.step)).toEqual([1, 2, 3]);
    }
    // Ten threads exited and ten ran out of memory: each was replaced by a new one.
    const threads = new Set(results.map((r) => r.outcome.attrs.worker));
    expect(threads.size).toBeGreaterThanOrEqual(4 + 20);
    expect(executor.threadCount).toBe(0);
    expect(countResources('MessagePort')).toBeLessThanOrEqual(portsBefore);
  }, 90_000);
});

describe('PoolExecutor', () => {
  let executor: PoolExecutor;
  beforeAll(() => {
    executor = new PoolExecutor({ resolverModule: testResolver, workers: 2, heapLimitMb: 64, abortGraceMs: 300 });
  });
  afterAll(async () => {
    await executor.close();
  });

  const run = (params: Record<string, string | number>, decide: 'continue' | 'stop' = 'continue', extra = {}) =>
    executor.run(moduleTask(3, params, 'faults.mjs', extra), { onReport: async () => decide });

  it('passes seed, trial number and device to the workload and reports start attributes', async () => {
    let started: Record<string, unknown> | undefined;
    const outcome = await executor.run(moduleTask(5, { x: 3 }, 'faults.mjs', { backend: 'wasm' }), {
      onReport: async () => 'continue',
      onStart: (a) => (started = a),
    });
    expect(outcome.state).toBe('complete');
    if (outcome.state !== 'complete') return;
    expect(outcome.metrics).toMatchObject({ loss: 9, seed: 1005, device_gpu: -1, pid: process.pid });
    expect(started).toMatchObject({ worker: outcome.attrs.worker, gpu: null, backend: 'wasm' });
    // The workload's own setAttrs wins over the forced backend.
    expect(outcome.attrs.backend).toBe('test-backend');
  });

  it('classifies CUDA/TF out-of-memory messages as oom', async () => {
    expect(await run({ fault: 'cuda-oom' })).toMatchObject({ state: 'failed', reason: 'oom' });
  });

  it('ends a trial that swallowed Pruned as pruned', async () => {
    expect(await run({ fault: 'swallow-stop' }, 'stop')).toMatchObject({ state: 'pruned', step: 1 });
  });

  it('fails a non-numeric objective with a clear message', async () => {
    const o = await run({ fault: 'not-a-number' });
    expect(o).toMatchObject({ state: 'failed', reason: 'error' });
    expect(o.state === 'failed' && o.error).toContain('objective "loss" is the string "low"');
  });

  it('fails a trial whose report cannot be stored, without crashing', async () => {
    const o = await executor.run(moduleTask(1, { fault: 'stop' }), {
      onReport: async () => {
        throw new Error('database is locked');
      },
    });
    expect(o).toMatchObject({ state: 'failed', reason: 'error' });
    expect(o.state === 'failed' && o.error).toContain('database is locked');
  });

  it('fails an interrupted trial with reason interrupted', async () => {
    const abort = new AbortController();
    const running = executor.run(moduleTask(2, { fault: 'hang-polite' }), {
      onReport: async () => 'continue',
      onStart: () => setTimeout(() => abort.abort(), 20),
      signal: abort.signal,
    });
    expect(await running).toMatchObject({ state: 'failed', reason: 'interrupted' });
  });

  it('ends a thread that ignores its timeout at most about a second after the limit, whatever the abort grace', async () => {
    const slow = new PoolExecutor({ resolverModule: testResolver, workers: 1, abortGraceMs: 5_000 });
    try {
      const t0 = Date.now();
      const o = await slow.run(moduleTask(1, { fault: 'hang' }, 'faults.mjs', { timeoutMs: 200 }), { onReport: async () => 'continue' });
      expect(o).toMatchObject({ state: 'failed', reason: 'timeout' });
      // 200 ms limit + 1 s grace; before, the 5 s interrupt grace applied to timeouts too.
      expect(Date.now() - t0).toBeLessThan(4_000);
    } finally {
      await slow.close();
    }
  });

  it('uses the task timeout over the default and names it', async () => {
    const o = await run({ fault: 'hang-polite' }, 'continue', { timeoutMs: 150 });
    expect(o).toMatchObject({ state: 'failed', reason: 'timeout', error: 'trial timed out after 150 ms' });
  });

  it('fails a workload the resolver cannot load as an error, not a crash', async () => {
    const o = await executor.run(moduleTask(1, {}, 'missing-workload.mjs'), { onReport: async () => 'continue' });
    expect(o).toMatchObject({ state: 'failed', reason: 'error' });
    expect(o.state === 'failed' && o.error).toMatch(/could not load the module workload/);
  });
});
