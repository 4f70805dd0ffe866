import { createRequire } from 'node:module';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isUserError } from '@segtune/core';
import type { Tensor4D } from '@tensorflow/tfjs';
import { initBackend } from './index';

function installed(pkg: string): boolean {
  try {
    createRequire(import.meta.url).resolve(pkg);
    return true;
  } catch {
    return false;
  }
}

// An empty segtune cache: what a machine without `segtune setup tensorflow` sees. The native
// backends themselves are tested in tests/tensorflow-backend.test.ts.
process.env.SEGTUNE_HOME = mkdtempSync(join(tmpdir(), 'segtune-empty-home-'));

describe('initBackend', () => {
  it.skipIf(installed('@tensorflow/tfjs-node') || installed('@tensorflow/tfjs-node-gpu'))('picks wasm when tfjs-node is absent, with the reasons it skipped', async () => {
    const info = await initBackend();
    expect(info.name).toBe('wasm');
    expect(info.tf.getBackend()).toBe('wasm');
    expect(info.threads).toBe(1);
    expect(info.skipped?.map((s) => s.name)).toEqual(['tensorflow-gpu', 'tensorflow']);
    expect(info.skipped?.[0].reason).toMatch(/no NVIDIA GPU is visible|native TensorFlow for GPUs is not set up \(run: segtune setup tensorflow --gpu\)/);
    expect(info.skipped?.[1].reason).toBe('native TensorFlow is not set up (run: segtune setup tensorflow)');
    // Idempotent: the same answer again.
    expect(await initBackend('auto')).toBe(info);
    // The wasm backend really trains a convolution's filter gradient.
    const tf = info.tf;
    const g = tf.tidy(() => tf.grad((w) => tf.sum(tf.conv2d(tf.ones([1, 5, 5, 2]) as Tensor4D, w as Tensor4D, 1, 'valid')))(tf.ones([3, 3, 2, 1])).dataSync());
    expect(Array.from(g)).toEqual(new Array(18).fill(9));
  });

  it('honours a forced cpu backend', async () => {
    const info = await initBackend('cpu');
    expect(info.name).toBe('cpu');
    expect(info.tf.getBackend()).toBe('cpu');
    // Switching back and forth keeps each answer and makes it current.
    const wasm = await initBackend('wasm');
    expect(wasm.tf.getBackend()).toBe('wasm');
    expect(await initBackend('cpu')).toBe(info);
    expect(info.tf.getBackend()).toBe('cpu');
  });

  it.skipIf(installed('@tensorflow/tfjs-node-gpu'))('gives a clear UserError for a forced tensorflow-gpu that is not installed', async () => {
    const err = await initBackend('tensorflow-gpu').catch((e: unknown) => e);
    expect(isUserError(err)).toBe(true);
    expect((err as Error).message).toMatch(/^tfjs backend 'tensorflow-gpu' is not available: (no NVIDIA GPU is visible here .*|native TensorFlow for GPUs is not set up \(run: segtune setup tensorflow --gpu\)) \(allowed here: auto, wasm, cpu\)$/);
    const cpu = await initBackend('tensorflow').catch((e: unknown) => e);
    expect((cpu as Error).message).toBe("tfjs backend 'tensorflow' is not available: native TensorFlow is not set up (run: segtune setup tensorflow) (allowed here: auto, wasm, cpu)");
  });

  it('rejects an unknown backend and bad thread counts with UserErrors', async () => {
    const unknown = await initBackend('webgpu').catch((e: unknown) => e);
    expect(isUserError(unknown)).toBe(true);
    expect((unknown as Error).message).toBe("unknown tfjs backend 'webgpu' (allowed: auto, tensorflow-gpu, tensorflow, wasm, cpu)");
    const threads = await initBackend('cpu', { threads: 0 }).catch((e: unknown) => e);
    expect(isUserError(threads)).toBe(true);
  });
});
