import { describe, expect, it } from 'vitest';
import { Pruned, type Workload } from '@segtune/core';
import { InlineExecutor } from './inline-executor';
import { moduleTask } from './testing';

function executorFor(workload: Workload, options: { timeoutMs?: number; abortGraceMs?: number } = {}) {
  return new InlineExecutor({ resolve: async () => workload, ...options });
}

const never = () => new Promise<never>(() => {});

describe('InlineExecutor', () => {
  it('runs a workload on the main thread and maps a number to the first objective', async () => {
    const ex = executorFor(async (params, ctx) => {
      await ctx.report(1, 0.5);
      ctx.setAttrs({ backend: 'cpu' });
      return (params.x as number) * 2 + ctx.seed;
    });
    const reports: unknown[] = [];
    const o = await ex.run(moduleTask(0, { x: 3 }), { onReport: async (step, values) => (reports.push([step, values]), 'continue') });
    expect(o).toMatchObject({ state: 'complete', metrics: { loss: 1006 }, attrs: { worker: `pid${process.pid}/main`, gpu: null, backend: 'cpu' } });
    expect(reports).toEqual([[1, { loss: 0.5 }]]);
  });

  it('catches errors and non-Error throws', async () => {
    expect(await executorFor(() => Promise.reject(new TypeError('bad shape'))).run(moduleTask(0, {}), { onReport: async () => 'continue' })).toMatchObject({
      state: 'failed',
      reason: 'error',
      error: 'TypeError: bad shape',
    });
    expect(
      await executorFor(() => {
        throw 'plain string';
      }).run(moduleTask(0, {}), { onReport: async () => 'continue' }),
    ).toMatchObject({ state: 'failed', reason: 'error', error: 'plain string' });
    expect(await executorFor((async () => ['a']) as unknown as Workload).run(moduleTask(0, {}), { onReport: async () => 'continue' })).toMatchObject({ state: 'failed', reason: 'error', error: 'the workload returned an array; expected a number or a record of metrics' });
  });

  it('prunes on stop and on a Pruned thrown by the workload itself', async () => {
    const stepper: Workload = async (_p, ctx) => {
      for (let s = 1; s < 10; s++) await ctx.report(s, s);
      return 0;
    };
    expect(await executorFor(stepper).run(moduleTask(0, {}), { onReport: async (s) => (s === 4 ? 'stop' : 'continue') })).toMatchObject({ state: 'pruned', step: 4 });
    expect(await executorFor(() => Promise.reject(new Pruned(2))).run(moduleTask(0, {}), { onReport: async () => 'continue' })).toMatchObject({ state: 'pruned', step: 2 });
  });

  it('times out through ctx.signal, and abandons a workload that ignores it', async () => {
    const polite: Workload = (_p, ctx) => new Promise((_r, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason)));
    expect(await executorFor(polite, { timeoutMs: 50 }).run(moduleTask(0, {}), { onReport: async () => 'continue' })).toMatchObject({
      state: 'failed',
      reason: 'timeout',
      error: 'trial timed out after 50 ms',
    });
    const o = await executorFor(never, { timeoutMs: 50, abortGraceMs: 50 }).run(moduleTask(0, {}), { onReport: async () => 'continue' });
    expect(o).toMatchObject({ state: 'failed', reason: 'timeout' });
    expect(o.state === 'failed' && o.error).toContain('ignored the abort');
  });

  it('fails interrupted trials, before and during the run', async () => {
    const abort = new AbortController();
    abort.abort();
    expect(await executorFor(never).run(moduleTask(0, {}), { onReport: async () => 'continue', signal: abort.signal })).toMatchObject({ state: 'failed', reason: 'interrupted' });
    const later = new AbortController();
    const polite: Workload = (_p, ctx) => new Promise((_r, reject) => ctx.signal.addEventListener('abort', () => reject(new Error('aborted'))));
    const running = executorFor(polite).run(moduleTask(0, {}), { onReport: async () => 'continue', signal: later.signal, onStart: () => setTimeout(() => later.abort(), 10) });
    expect(await running).toMatchObject({ state: 'failed', reason: 'interrupted' });
  });

  it('fails a workload that cannot be resolved', async () => {
    const ex = new InlineExecutor({ resolve: () => Promise.reject(new Error('no such benchmark "brannin"')) });
    expect(await ex.run(moduleTask(0, {}), { onReport: async () => 'continue' })).toMatchObject({
      state: 'failed',
      reason: 'error',
      error: 'could not load the module workload: no such benchmark "brannin"',
    });
  });
});
