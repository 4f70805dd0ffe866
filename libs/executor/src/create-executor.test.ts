import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { isUserError } from '@segtune/core';
import { createExecutor, validateWorkload } from './create-executor';
import { ensureBundled } from './ensure-bundled';
import { parseFakeGpus } from './gpu-inventory';
import { InlineExecutor } from './inline-executor';
import { PoolExecutor } from './pool-executor';
import { ProcessExecutor } from './process-executor';
import { fixtures, moduleTask, testResolver } from './testing';

beforeAll(async () => {
  await ensureBundled();
}, 120_000);

async function userError(p: Promise<unknown>): Promise<string> {
  try {
    const v = await p;
    if (v && typeof (v as { close?: unknown }).close === 'function') await (v as { close(): Promise<void> }).close();
  } catch (e) {
    if (isUserError(e)) {
      expect(e.message).not.toContain('\n');
      return e.message;
    }
    throw e;
  }
  throw new Error('expected a UserError');
}

const twoGpus = parseFakeGpus('0:H200:143000:0,1:H200:143000:0');

describe('createExecutor', () => {
  it('picks trial processes when GPUs are selected, else the pool, or inline on request', async () => {
    const pool = await createExecutor({ resolverModule: testResolver, gpus: 'none', inventory: twoGpus, workers: 3 });
    expect(pool).toBeInstanceOf(PoolExecutor);
    expect(pool.capacity).toBe(3);
    await pool.close();
    const gpu = await createExecutor({ resolverModule: pathToFileURL(testResolver).href, gpus: '1', inventory: twoGpus, trialsPerGpu: 2 });
    expect(gpu).toBeInstanceOf(ProcessExecutor);
    expect(gpu.capacity).toBe(2);
    await gpu.close();
    const none = await createExecutor({ resolverModule: testResolver, inventory: [], workers: 1 });
    expect(none).toBeInstanceOf(PoolExecutor);
    await none.close();
    const inline = await createExecutor({ kind: 'inline', resolverModule: testResolver, inventory: twoGpus });
    expect(inline).toBeInstanceOf(InlineExecutor);
    const o = await inline.run(moduleTask(0, { x: 2 }), { onReport: async () => 'continue' });
    expect(o).toMatchObject({ state: 'complete', metrics: { loss: 4 }, attrs: { gpu: null, backend: 'test-backend' } });
  }, 60_000);

  it('rejects bad options in one line before starting anything', async () => {
    expect(await userError(createExecutor({ resolverModule: testResolver, gpus: '0,3', inventory: twoGpus }))).toBe('--gpus 0,3: unknown GPU index 3; this machine has GPUs 0, 1');
    expect(await userError(createExecutor({ resolverModule: testResolver, trialsPerGpu: 0, inventory: twoGpus }))).toBe('--trials-per-gpu must be a whole number of at least 1, got 0');
    expect(await userError(createExecutor({ resolverModule: testResolver, workers: 0 }))).toBe('--workers must be a whole number of at least 1, got 0');
    expect(await userError(createExecutor({ resolverModule: testResolver, workers: 1.5 }))).toBe('--workers must be a whole number of at least 1, got 1.5');
    expect(await userError(createExecutor({ kind: 'gpu', resolverModule: testResolver, gpus: 'none', inventory: twoGpus }))).toContain('--executor gpu: no GPU selected');
    expect(await userError(createExecutor({ kind: 'thread' as never, resolverModule: testResolver }))).toContain('--executor must be one of inline, pool, process, gpu, auto');
  });

  it('rejects a missing resolver module or one without resolveWorkload', async () => {
    expect(await userError(createExecutor({ resolverModule: join(fixtures, 'nope.mjs') }))).toMatch(/workload resolver module .*nope\.mjs not found/);
    expect(await userError(createExecutor({ resolverModule: join(fixtures, 'no-resolver.mjs') }))).toMatch(/no-resolver\.mjs exports no function "resolveWorkload"/);
    expect(await userError(createExecutor({ resolverModule: 'relative/resolver.mjs' }))).toContain('must be an absolute path or a file URL');
  });
});

describe('validateWorkload', () => {
  it('accepts a good module workload', async () => {
    await expect(validateWorkload(testResolver, { kind: 'module', path: 'faults.mjs' }, fixtures)).resolves.toBeUndefined();
  });

  it('rejects a missing module, a module that exports no function and an unknown command', async () => {
    expect(await userError(validateWorkload(testResolver, { kind: 'module', path: 'missing.mjs' }, fixtures))).toMatch(/^workload\.path: module missing\.mjs not found \(looked at .*missing\.mjs\)$/);
    expect(await userError(validateWorkload(testResolver, { kind: 'module', path: 'not-a-function.mjs' }, fixtures))).toBe(
      'workload.export: module not-a-function.mjs has no function export "default"; it exports no function at all',
    );
    expect(await userError(validateWorkload(testResolver, { kind: 'module', path: 'faults.mjs', export: 'train' }, fixtures))).toBe(
      'workload.export: module faults.mjs has no function export "train"; its functions: default (choose one with workload.export)',
    );
    expect(await userError(validateWorkload(testResolver, { kind: 'command', argv: ['segtune-no-such-program-xyz'] }, fixtures))).toBe(
      'workload.argv[0]: command "segtune-no-such-program-xyz" not found on PATH',
    );
  });

  it('turns a resolver failure into a UserError', async () => {
    expect(await userError(validateWorkload(testResolver, { kind: 'benchmark', function: 'branin' }, fixtures))).toBe('workload (benchmark): test resolver: unsupported workload kind "benchmark"');
  });
});
