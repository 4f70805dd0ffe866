import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from './index';

beforeAll(async () => {
  await initBackend('wasm');
});

function values(size: number, seed: number, offset = 0): Float32Array {
  const out = new Float32Array(size);
  let s = seed >>> 0;
  for (let i = 0; i < size; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1 + offset;
  }
  return out;
}

function maxPoolGradOn(backend: string, xShape: number[], filterSize: number, strides: number, pad: 'same' | 'valid', offset: number, seed: number) {
  tf.setBackend(backend);
  return tf.tidy(() => {
    const x = tf.tensor(values(xShape.reduce((a, b) => a * b, 1), seed, offset), xShape as [number, number, number, number]) as tf.Tensor4D;
    const y = tf.maxPool(x, filterSize, strides, pad);
    const dy = tf.tensor(values(y.size, seed + 1), y.shape);
    return tf.grad((t) => tf.sum(tf.mul(tf.maxPool(t as tf.Tensor4D, filterSize, strides, pad), dy)))(x).dataSync().slice() as Float32Array;
  });
}

describe('wasm MaxPoolGrad', () => {
  it('matches the cpu backend for signed, all-negative and overlapping windows', () => {
    let seed = 1;
    for (const [filterSize, strides, pad] of [[2, 2, 'valid'], [3, 1, 'same'], [3, 2, 'same'], [2, 1, 'valid']] as const) {
      for (const offset of [0, -2]) {
        const shape = [2, 9, 10, 5];
        const cpu = maxPoolGradOn('cpu', shape, filterSize, strides, pad, offset, seed);
        const wasm = maxPoolGradOn('wasm', shape, filterSize, strides, pad, offset, seed);
        seed += 2;
        expect(wasm.length).toBe(cpu.length);
        expect(cpu.some((v) => v !== 0)).toBe(true);
        let d = 0;
        for (let i = 0; i < cpu.length; i++) d = Math.max(d, Math.abs(cpu[i] - wasm[i]));
        expect(d).toBeLessThan(1e-6);
      }
    }
  });

  it('sends a tied window to its first maximum, like the cpu backend', () => {
    const ties = (backend: string) => {
      tf.setBackend(backend);
      return tf.tidy(() => Array.from(tf.grad((t) => tf.sum(tf.maxPool(t as tf.Tensor4D, 2, 2, 'valid')))(tf.zeros([1, 4, 4, 1])).dataSync()));
    };
    expect(ties('wasm')).toEqual(ties('cpu'));
    expect(ties('wasm').filter((v) => v === 1).length).toBe(4);
  });
});
