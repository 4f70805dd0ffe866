import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TrialOutcome } from '@segtune/core';
import { createExecutor } from './create-executor';
import { ensureBundled } from './ensure-bundled';
import { ProcessExecutor } from './process-executor';
import { isAlive } from './process-group';
import { driveAll, fixtures, moduleTask, testResolver } from './testing';

const FAKE = '0:H200:1000:0,1:H200:1000:200';
let savedFake: string | undefined;

beforeAll(async () => {
  await ensureBundled();
  savedFake = process.env.SEGTUNE_FAKE_GPUS;
  process.env.SEGTUNE_FAKE_GPUS = FAKE;
}, 120_000);

afterAll(() => {
  if (savedFake === undefined) delete process.env.SEGTUNE_FAKE_GPUS;
  else process.env.SEGTUNE_FAKE_GPUS = savedFake;
});

/** The most intervals [start, end) that overlap at any instant. */
function maxOverlap(intervals: [number, number][]): number {
  const events = intervals.flatMap(([s, e]) => [
    [s, 1],
    [e, -1],
  ]);
  // Ends before starts at the same instant: a trial that ended when another began did not overlap.
  events.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let now = 0;
  let max = 0;
  for (const [, d] of events) max = Math.max(max, (now += d));
  return max;
}

function metrics(o: TrialOutcome): Record<string, number> {
  if (o.state !== 'complete') throw new Error(`trial not complete: ${JSON.stringify(o)}`);
  return o.metrics;
}

/** Wall-clock intervals of the probes, grouped by a key. */
function intervalsBy(results: TrialOutcome[], key: (o: TrialOutcome, m: Record<string, number>) => number): Map<number, [number, number][]> {
  const by = new Map<number, [number, number][]>();
  for (const o of results) {
    const m = metrics(o);
    const k = key(o, m);
    by.set(k, [...(by.get(k) ?? []), [m.start, m.end]]);
  }
  return by;
}

describe('ProcessExecutor on a fake inventory of two GPUs', () => {
  it('binds every trial to its process\'s GPU, one trial per process, never more than two on a GPU', async () => {
    const executor = await createExecutor({ resolverModule: testResolver, gpus: 'all', trialsPerGpu: 2, heapLimitMb: 64, timeoutMs: 30_000 });
    expect(executor).toBeInstanceOf(ProcessExecutor);
    expect(executor.capacity).toBe(4);
    const procs = executor as ProcessExecutor;
    const pids = procs.pids;
    // Two processes per GPU: two trials of one GPU never share a process.
    expect(new Set(pids).size).toBe(4);
    let results;
    try {
      // More in flight than the GPUs hold: the executor, not the caller, must keep to two each.
      const tasks = Array.from({ length: 40 }, (_, i) => moduleTask(i, { ms: 20 + (i % 5) * 10 }, 'gpu-probe.mjs'));
      results = await Promise.all(tasks.map((t) => executor.run(t, { onReport: async () => 'continue' })));
    } finally {
      await executor.close();
    }
    for (const o of results) {
      const m = metrics(o);
      // The trial saw exactly its own process's CUDA_VISIBLE_DEVICES, and device 0 in it.
      expect(m.cvd).toBe(o.attrs.gpu);
      expect(m.device_gpu).toBe(0);
      expect(o.attrs.worker).toMatch(new RegExp(`^gpu${o.attrs.gpu}/pid${m.pid}/t\\d+$`));
      expect(pids).toContain(m.pid);
    }
    const byGpu = intervalsBy(results, (o) => o.attrs.gpu as number);
    expect([...byGpu.keys()].sort()).toEqual([0, 1]);
    for (const intervals of byGpu.values()) expect(maxOverlap(intervals)).toBeLessThanOrEqual(2);
    for (const intervals of intervalsBy(results, (_o, m) => m.pid).values()) expect(maxOverlap(intervals)).toBe(1);
    expect(Object.values(procs.peakRunning())).toEqual([2, 2]);
    // No trial process is left.
    expect(pids.filter(isAlive)).toEqual([]);
  }, 90_000);
});

describe('ProcessExecutor on the CPUs (--executor process)', () => {
  it('runs each trial in a process of its own, one at a time per process, with no GPU', async () => {
    const executor = await createExecutor({ kind: 'process', resolverModule: testResolver, workers: 2, inventory: [], timeoutMs: 30_000, abortGraceMs: 200 });
    expect(executor).toBeInstanceOf(ProcessExecutor);
    expect(executor.capacity).toBe(2);
    const procs = executor as ProcessExecutor;
    const pids = procs.pids;
    expect(new Set(pids).size).toBe(2);
    expect(pids).not.toContain(process.pid);
    try {
      const results = await Promise.all(Array.from({ length: 12 }, (_, i) => executor.run(moduleTask(i, { ms: 15 }, 'gpu-probe.mjs'), { onReport: async () => 'continue' })));
      for (const o of results) {
        const m = metrics(o);
        expect(o.attrs.gpu).toBeNull();
        expect(m.device_gpu).toBe(-1);
        expect(o.attrs.worker).toMatch(new RegExp(`^pid${m.pid}/t\\d+$`));
      }
      const byPid = intervalsBy(results, (_o, m) => m.pid);
      expect([...byPid.keys()].sort()).toEqual([...pids].sort());
      for (const intervals of byPid.values()) expect(maxOverlap(intervals)).toBe(1);
      expect(procs.peakRunning()).toEqual({});

      // A trial that ignores its timeout has its thread terminated; its process is not reused.
      let hung: number | undefined;
      const t = await executor.run(moduleTask(20, { fault: 'hang' }, 'faults.mjs', { timeoutMs: 300 }), {
        onReport: async () => 'continue',
        onStart: (a) => (hung = Number(/pid(\d+)/.exec(String(a.worker))![1])),
      });
      expect(t).toMatchObject({ state: 'failed', reason: 'timeout' });
      await procs.whenReady();
      expect(procs.pids).toHaveLength(2);
      expect(procs.pids).not.toContain(hung);
      const after = await executor.run(moduleTask(21, { ms: 5 }, 'gpu-probe.mjs'), { onReport: async () => 'continue' });
      expect(after.state).toBe('complete');
      expect(metrics(after).pid).not.toBe(hung);
    } finally {
      await executor.close();
    }
    expect(pids.filter(isAlive)).toEqual([]);
  }, 90_000);
});

describe('createExecutor with a resolver that asks for isolation', () => {
  it('runs the trials that need a process in processes, those that may on this thread here and the rest in threads, starting each only when needed', async () => {
    const executor = await createExecutor({ resolverModule: join(fixtures, 'isolating-resolver.mjs'), workers: 2, inventory: [] });
    const routed = executor as unknown as { started: { main: boolean; threads: boolean; processes: boolean } };
    expect(routed.started).toEqual({ main: false, threads: false, processes: false });
    try {
      const threaded = await executor.run(moduleTask(0, { ms: 5 }, 'gpu-probe.mjs'), { onReport: async () => 'continue' });
      expect(metrics(threaded).pid).toBe(process.pid);
      expect(threaded.attrs.worker).toMatch(new RegExp(`^pid${process.pid}/t\\d+$`));
      expect(routed.started).toEqual({ main: false, threads: true, processes: false });
      const here = await Promise.all([3, 4].map((i) => executor.run(moduleTask(i, { ms: 30 }, 'gpu-probe.mjs', { backend: 'here' }), { onReport: async () => 'continue' })));
      for (const o of here) {
        expect(o.state).toBe('complete');
        expect(metrics(o).pid).toBe(process.pid);
        expect(o.attrs.worker).toBe(`pid${process.pid}/main`);
      }
      // The two ran at once: this thread's executor takes the search's whole capacity.
      expect(maxOverlap(here.map((o): [number, number] => [metrics(o).start, metrics(o).end]))).toBe(2);
      expect(routed.started).toEqual({ main: true, threads: true, processes: false });
      const own = await Promise.all([1, 2].map((i) => executor.run(moduleTask(i, { ms: 30 }, 'gpu-probe.mjs', { backend: 'native' }), { onReport: async () => 'continue' })));
      const ownPids = own.map((o) => metrics(o).pid);
      expect(ownPids).not.toContain(process.pid);
      expect(new Set(ownPids).size).toBe(2);
      expect(own.map((o) => o.attrs.backend)).toEqual(['native', 'native']);
      expect(routed.started).toEqual({ main: true, threads: true, processes: true });
    } finally {
      await executor.close();
    }
  }, 60_000);

  it('leaves the GPUs alone for a workload that runs on this thread, unless GPUs are asked for', async () => {
    const gpu = [{ index: 0, name: 'fake', memoryTotalMb: 1000, memoryUsedMb: 0 }];
    const here = { spec: { kind: 'module', path: 'gpu-probe.mjs' } as never, backend: 'here' };
    const task = moduleTask(0, { ms: 5 }, 'gpu-probe.mjs', { backend: 'here' });
    const run = async (o: Partial<Parameters<typeof createExecutor>[0]>) => {
      const executor = await createExecutor({ resolverModule: join(fixtures, 'isolating-resolver.mjs'), workers: 3, inventory: gpu, ...o });
      try {
        const out = await executor.run(task, { onReport: async () => 'continue' });
        return { worker: String(out.attrs.worker), gpu: out.attrs.gpu, capacity: executor.capacity };
      } finally {
        await executor.close();
      }
    };
    // Known to run here: this thread, the search's 3 at once, not the one GPU process.
    expect(await run({ workload: here })).toEqual({ worker: `pid${process.pid}/main`, gpu: null, capacity: 3 });
    // Not known, or GPUs asked for by name: the GPU processes, one per GPU.
    expect(await run({})).toMatchObject({ worker: expect.stringMatching(/^gpu0\/pid\d+\//), gpu: 0, capacity: 1 });
    expect(await run({ workload: here, gpus: '0' })).toMatchObject({ gpu: 0, capacity: 1 });
    // A workload that needs a thread or a process of its own keeps the GPU processes.
    expect(await run({ workload: { spec: here.spec, backend: 'native' } })).toMatchObject({ gpu: 0, capacity: 1 });
  }, 60_000);

  it('puts the trials that may run on this thread on threads when the kind is pool', async () => {
    const executor = await createExecutor({ resolverModule: join(fixtures, 'isolating-resolver.mjs'), kind: 'pool', workers: 1, inventory: [] });
    try {
      const o = await executor.run(moduleTask(0, { ms: 5 }, 'gpu-probe.mjs', { backend: 'here' }), { onReport: async () => 'continue' });
      expect(o.attrs.worker).toMatch(/\/t\d+$/);
    } finally {
      await executor.close();
    }
  }, 60_000);
});

describe('ProcessExecutor on GPUs', () => {
  let executor: ProcessExecutor;
  beforeAll(async () => {
    const gpu0 = { index: 0, name: 'fake', memoryTotalMb: 1000, memoryUsedMb: 0 };
    const gpu1 = { index: 1, name: 'fake', memoryTotalMb: 1000, memoryUsedMb: 400 };
    executor = await ProcessExecutor.start({
      // Three trial processes per GPU.
      devices: [gpu0, gpu0, gpu0, gpu1, gpu1, gpu1],
      resolverModule: testResolver,
      heapLimitMb: 32,
      timeoutMs: 30_000,
      abortGraceMs: 300,
      estimateMemoryBytes: (_spec, params) => (typeof params.mem_mb === 'number' ? params.mem_mb * 2 ** 20 : undefined),
    });
  }, 60_000);
  afterAll(async () => {
    const pids = executor.pids;
    await executor.close();
    expect(pids.filter(isAlive)).toEqual([]);
  });

  it('packs trials by their memory estimate and never above a card\'s free memory', async () => {
    // GPU 0 has 1000 MiB free, GPU 1 600 MiB: 450 MiB trials fit two on GPU 0, one on GPU 1,
    // although each GPU has three processes.
    const tasks = Array.from({ length: 12 }, (_, i) => moduleTask(i, { ms: 30, mem_mb: 450 }, 'gpu-probe.mjs'));
    const before = executor.peakRunning();
    const results = await Promise.all(tasks.map((t) => executor.run(t, { onReport: async () => 'continue' })));
    const byGpu: Record<number, [number, number][]> = { 0: [], 1: [] };
    for (const o of results) {
      const m = metrics(o);
      expect(o.attrs.memory_estimate_bytes).toBe(450 * 2 ** 20);
      byGpu[o.attrs.gpu as number].push([m.start, m.end]);
    }
    expect(maxOverlap(byGpu[0])).toBeLessThanOrEqual(2);
    expect(maxOverlap(byGpu[1])).toBeLessThanOrEqual(1);
    expect(byGpu[0].length + byGpu[1].length).toBe(12);
    expect(before[0]).toBe(0);
    expect(executor.peakRunning()).toEqual({ 0: 2, 1: 1 });
  }, 60_000);

  it('fails a trial too large for every card as oom without running it', async () => {
    const o = await executor.run(moduleTask(1, { mem_mb: 1500 }, 'gpu-probe.mjs'), { onReport: async () => 'continue' });
    expect(o).toMatchObject({ state: 'failed', reason: 'oom' });
    expect(o.state === 'failed' && o.error).toContain('needs about 1500 MiB of GPU memory');
  });

  it('relays reports and stop decisions across the process boundary', async () => {
    const steps: number[] = [];
    const o = await executor.run(moduleTask(2, { fault: 'stop' }), {
      onReport: async (step) => {
        steps.push(step);
        return step >= 2 ? 'stop' : 'continue';
      },
    });
    expect(o).toMatchObject({ state: 'pruned', step: 2 });
    expect(steps).toEqual([1, 2]);
  });

  it('fails only the trial whose thread died, and replaces that trial\'s process', async () => {
    await executor.whenReady();
    const workers: Record<string, string> = {};
    const [exit, oom, ok] = await Promise.all(
      ['exit', 'oom', 'ok'].map((fault, i) => executor.run(moduleTask(i, { fault, x: 2 }), { onReport: async () => 'continue', onStart: (a) => (workers[fault] = String(a.worker)) })),
    );
    expect(exit).toMatchObject({ state: 'failed', reason: 'crash' });
    expect(oom).toMatchObject({ state: 'failed', reason: 'oom' });
    expect(ok).toMatchObject({ state: 'complete', metrics: { loss: 4 } });
    await executor.whenReady();
    const pidOf = (w: string) => Number(/pid(\d+)/.exec(w)![1]);
    expect(executor.pids).toHaveLength(6);
    expect(executor.pids).not.toContain(pidOf(workers.exit));
    expect(executor.pids).not.toContain(pidOf(workers.oom));
    expect(executor.pids).toContain(pidOf(workers.ok));
  }, 60_000);

  it('fails the trials of a GPU process that died and starts a new process', async () => {
    let victim: number | undefined;
    const o = await executor.run(moduleTask(3, { fault: 'hang-polite' }), {
      onReport: async () => 'continue',
      onStart: (attrs) => {
        victim = Number(/pid(\d+)/.exec(String(attrs.worker))![1]);
        process.kill(victim, 'SIGKILL');
      },
    });
    expect(o).toMatchObject({ state: 'failed', reason: 'crash' });
    expect(o.state === 'failed' && o.error).toMatch(/process of GPU \d \(pid \d+\) was killed by SIGKILL/);
    // The next trials still run, on a fresh process for that GPU.
    const again = await Promise.all([0, 1, 2, 3].map((i) => executor.run(moduleTask(10 + i, { ms: 10 }, 'gpu-probe.mjs'), { onReport: async () => 'continue' })));
    for (const a of again) expect(a.state).toBe('complete');
    await executor.whenReady();
    expect(executor.pids).toHaveLength(6);
    expect(executor.pids).not.toContain(victim);
    expect(isAlive(victim!)).toBe(false);
  }, 60_000);

  it('leaves Ctrl-C (SIGINT) to the parent: trial processes survive it', async () => {
    await executor.whenReady();
    const pids = executor.pids;
    for (const pid of pids) process.kill(pid, 'SIGINT');
    const o = await executor.run(moduleTask(7, { ms: 10 }, 'gpu-probe.mjs'), { onReport: async () => 'continue' });
    expect(o.state).toBe('complete');
    expect(executor.pids).toEqual(pids);
    expect(pids.filter(isAlive)).toEqual(pids);
  });

  it('passes an interrupt to the trial process', async () => {
    const abort = new AbortController();
    const o = await executor.run(moduleTask(4, { fault: 'hang-polite' }), {
      onReport: async () => 'continue',
      onStart: () => setTimeout(() => abort.abort(), 20),
      signal: abort.signal,
    });
    expect(o).toMatchObject({ state: 'failed', reason: 'interrupted' });
  });
});

describe('driveAll over trial processes', () => {
  it('keeps the executor full with one caller per slot', async () => {
    const executor = await createExecutor({ resolverModule: testResolver, gpus: '1', trialsPerGpu: 2 });
    try {
      const results = await driveAll(executor, Array.from({ length: 6 }, (_, i) => moduleTask(i, { x: i })));
      expect(results.map((r) => r.outcome.state)).toEqual(Array(6).fill('complete'));
      expect(new Set(results.map((r) => r.outcome.attrs.gpu))).toEqual(new Set([1]));
    } finally {
      await executor.close();
    }
  }, 60_000);
});
