import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend, listMissingWasmKernels, registerWasmTrainingKernels, UNBRIDGEABLE_KERNELS } from './index';

beforeAll(async () => {
  await initBackend('wasm');
});

function values(size: number, seed: number, scale = 1): Float32Array {
  const out = new Float32Array(size);
  let s = seed >>> 0;
  for (let i = 0; i < size; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = (s / 2 ** 31 - 1) * scale;
  }
  return out;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
}

/** A small segmentation-like net touching every hot gradient: conv (stride 1, 2), depthwise, transposed conv, max pooling, concat, resize. */
function smallNetGrads(backend: string): Float32Array[] {
  tf.setBackend(backend);
  return tf.tidy(() => {
    const x = tf.tensor(values(2 * 16 * 16 * 3, 1), [2, 16, 16, 3]);
    const target = tf.tensor(values(2 * 16 * 16 * 2, 2), [2, 16, 16, 2]);
    const params = {
      w1: tf.tensor(values(3 * 3 * 3 * 8, 3, 0.4), [3, 3, 3, 8]),
      dw: tf.tensor(values(3 * 3 * 8 * 2, 4, 0.4), [3, 3, 8, 2]),
      w2: tf.tensor(values(3 * 3 * 16 * 8, 5, 0.2), [3, 3, 16, 8]),
      up: tf.tensor(values(2 * 2 * 8 * 8, 6, 0.3), [2, 2, 8, 8]),
      w3: tf.tensor(values(1 * 1 * 16 * 2, 7, 0.3), [1, 1, 16, 2]),
      b1: tf.tensor(values(8, 8, 0.1), [8]),
    };
    const names = Object.keys(params) as (keyof typeof params)[];
    const loss = (...ws: tf.Tensor[]) => {
      const p = Object.fromEntries(names.map((n, i) => [n, ws[i]])) as Record<keyof typeof params, tf.Tensor>;
      const a = tf.relu(tf.add(tf.conv2d(x as tf.Tensor4D, p.w1 as tf.Tensor4D, 1, 'same'), p.b1)) as tf.Tensor4D; // [2,16,16,8]
      const b = tf.relu(tf.depthwiseConv2d(a, p.dw as tf.Tensor4D, 1, 'same')) as tf.Tensor4D; // [2,16,16,16]
      const c = tf.relu(tf.conv2d(b, p.w2 as tf.Tensor4D, 2, 'same')) as tf.Tensor4D; // [2,8,8,8]
      const pooled = tf.maxPool(c, 2, 2, 'valid'); // [2,4,4,8]
      const u = tf.conv2dTranspose(pooled, p.up as tf.Tensor4D, [2, 8, 8, 8], 2, 'same'); // [2,8,8,8]
      // A pool of signed values too: wasm's own MaxPoolGrad was wrong for all-negative windows.
      const signed = tf.maxPool(tf.conv2d(b, p.w2 as tf.Tensor4D, 1, 'same'), 2, 2, 'same'); // [2,8,8,8]
      const merged = tf.concat([tf.add(u, signed), c], 3); // [2,8,8,16]
      // Bilinear: the cpu backend's ResizeNearestNeighborGrad is wrong for batches > 1.
      const up = tf.image.resizeBilinear(merged as tf.Tensor4D, [16, 16]);
      const out = tf.conv2d(up, p.w3 as tf.Tensor4D, 1, 'valid');
      return tf.mean(tf.square(tf.sub(out, target))) as tf.Scalar;
    };
    const grads = tf.grads(loss)(names.map((n) => params[n]));
    return grads.map((g) => g.dataSync().slice() as Float32Array);
  });
}

describe('training on wasm', () => {
  it('tf.grads of a small conv net on wasm equals cpu within 1e-4', () => {
    const cpu = smallNetGrads('cpu');
    const wasm = smallNetGrads('wasm');
    expect(wasm.length).toBe(cpu.length);
    for (let i = 0; i < cpu.length; i++) {
      expect(Math.max(...Array.from(cpu[i], Math.abs))).toBeGreaterThan(1e-4);
      expect(maxAbsDiff(wasm[i], cpu[i])).toBeLessThan(1e-4);
    }
  });

  it('bridges non-hot kernels to the cpu backend (UnsortedSegmentSum via the gather gradient, Einsum)', () => {
    const run = (backend: string) => {
      tf.setBackend(backend);
      return tf.tidy(() => {
        const table = tf.tensor(values(6 * 4, 11), [6, 4]);
        const idx = tf.tensor1d([0, 2, 2, 5, 1], 'int32');
        const g = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.gather(t, idx), tf.tensor(values(5 * 4, 12), [5, 4]))))(table);
        const seg = tf.unsortedSegmentSum(table, tf.tensor1d([1, 0, 1, 2, 0, 1], 'int32'), 3);
        const ein = tf.einsum('ij,jk->ik', table, tf.tensor(values(4 * 3, 13), [4, 3]));
        return [g, seg, ein].map((t) => t.dataSync().slice() as Float32Array);
      });
    };
    const cpu = run('cpu');
    const wasm = run('wasm');
    for (let i = 0; i < cpu.length; i++) expect(maxAbsDiff(wasm[i], cpu[i])).toBeLessThan(1e-5);
  });

  it('leaves only the complex-number kernels missing, and registers idempotently', () => {
    const first = registerWasmTrainingKernels();
    expect(registerWasmTrainingKernels()).toBe(first);
    expect(first.fast).toEqual(['Conv2DBackpropFilter', 'Conv2DBackpropInput', 'DepthwiseConv2dNativeBackpropFilter', 'DepthwiseConv2dNativeBackpropInput', 'MaxPoolGrad']);
    expect(first.replaced).toEqual(['Conv2DBackpropInput', 'MaxPoolGrad']);
    expect(first.bridged).toContain('UnsortedSegmentSum');
    expect(first.bridged).not.toContain('Conv2DBackpropFilter');
    expect(listMissingWasmKernels()).toEqual([...UNBRIDGEABLE_KERNELS].sort());
  });
});
