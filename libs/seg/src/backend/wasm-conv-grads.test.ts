import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from './index';

type Pad = 'same' | 'valid' | [[number, number], [number, number], [number, number], [number, number]];

beforeAll(async () => {
  await initBackend('wasm');
});

/** Deterministic values in [-1, 1) from a seed (LCG), so both backends see the same inputs. */
function values(size: number, seed: number): Float32Array {
  const out = new Float32Array(size);
  let s = seed >>> 0;
  for (let i = 0; i < size; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}

function arr(shape: number[], seed: number): { shape: number[]; data: Float32Array } {
  return { shape, data: values(shape.reduce((a, b) => a * b, 1), seed) };
}

/** Runs a kernel on one backend with inputs given as plain arrays; returns shape and values. */
function runOn(backend: string, kernel: string, inputs: Record<string, { shape: number[]; data: Float32Array }>, attrs: object) {
  tf.setBackend(backend);
  return tf.tidy(() => {
    const ts: Record<string, tf.Tensor> = {};
    for (const [k, v] of Object.entries(inputs)) ts[k] = tf.tensor(v.data, v.shape);
    const out = tf.engine().runKernel(kernel, ts, attrs as unknown as tf.NamedAttrMap) as tf.Tensor;
    return { shape: out.shape, data: out.dataSync().slice() as Float32Array };
  });
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
}

function compare(kernel: string, inputs: Record<string, { shape: number[]; data: Float32Array }>, attrs: object, reference?: { shape: number[]; data: Float32Array }) {
  const want = reference ?? runOn('cpu', kernel, inputs, attrs);
  const got = runOn('wasm', kernel, inputs, attrs);
  expect(got.shape).toEqual(want.shape);
  const diff = maxAbsDiff(got.data, want.data);
  // Guard against comparing zeros with zeros.
  expect(Math.max(...Array.from(want.data, Math.abs))).toBeGreaterThan(0.1);
  return diff;
}

function forwardShape(x: number[], f: number[], strides: number, pad: Pad, depthwise: boolean, dilation = 1): number[] {
  tf.setBackend('cpu');
  return tf.tidy(() => {
    const xt = tf.zeros(x as [number, number, number, number]) as tf.Tensor4D;
    const ft = tf.zeros(f as [number, number, number, number]) as tf.Tensor4D;
    return (depthwise ? tf.depthwiseConv2d(xt, ft, strides, pad, 'NHWC', dilation) : tf.conv2d(xt, ft, strides, pad)).shape as number[];
  });
}

const PADS: Pad[] = ['same', 'valid', [[0, 0], [1, 2], [0, 1], [0, 0]]];
const SHAPES = [
  // [inChannels, outChannels or multiplier, kernel, height]
  [3, 5, 3, 9],
  [4, 2, 2, 8],
  [1, 6, 5, 11],
  [8, 8, 3, 7],
];

describe('fast wasm convolution gradients match the cpu backend', () => {
  for (const strides of [1, 2]) {
    for (const pad of PADS) {
      it(`Conv2DBackpropFilter and Conv2DBackpropInput, stride ${strides}, pad ${JSON.stringify(pad)}`, () => {
        let seed = 1;
        for (const [ci, co, k, h] of SHAPES) {
          const xShape = [2, h, h + 1, ci];
          const fShape = [k, k, ci, co];
          const yShape = forwardShape(xShape, fShape, strides, pad, false);
          const x = arr(xShape, seed++);
          const dy = arr(yShape, seed++);
          const filter = arr(fShape, seed++);
          expect(compare('Conv2DBackpropFilter', { x, dy }, { strides, pad, dataFormat: 'NHWC', filterShape: fShape })).toBeLessThan(1e-4);
          expect(compare('Conv2DBackpropInput', { dy, filter }, { strides, pad, dataFormat: 'NHWC', inputShape: xShape })).toBeLessThan(1e-4);
        }
      });

      it(`DepthwiseConv2dNativeBackpropFilter and ...BackpropInput, stride ${strides}, pad ${JSON.stringify(pad)}`, () => {
        let seed = 100;
        for (const [ci, , k, h] of SHAPES) {
          for (const multiplier of [1, 2]) {
            const xShape = [2, h, h + 1, ci];
            const fShape = [k, k, ci, multiplier];
            const yShape = forwardShape(xShape, fShape, strides, pad, true);
            const x = arr(xShape, seed++);
            const dy = arr(yShape, seed++);
            const filter = arr(fShape, seed++);
            const attrs = { strides, pad, dilations: 1 };
            expect(compare('DepthwiseConv2dNativeBackpropFilter', { x, dy }, { ...attrs, filterShape: fShape })).toBeLessThan(1e-4);
            expect(compare('DepthwiseConv2dNativeBackpropInput', { dy, filter }, { ...attrs, inputShape: xShape })).toBeLessThan(1e-4);
          }
        }
      });
    }
  }

  it('handles NCHW for the Conv2D gradients', () => {
    const xShape = [2, 3, 9, 10];
    const fShape = [3, 3, 3, 4];
    const x = arr(xShape, 7);
    const filter = arr(fShape, 8);
    // The cpu backend computes NCHW gradients; the forward shape in NCHW is [2, 4, 5, 5] for stride 2 'same'.
    const dy = arr([2, 4, 5, 5], 9);
    expect(compare('Conv2DBackpropFilter', { x, dy }, { strides: 2, pad: 'same', dataFormat: 'NCHW', filterShape: fShape })).toBeLessThan(1e-4);
    expect(compare('Conv2DBackpropInput', { dy, filter }, { strides: 2, pad: 'same', dataFormat: 'NCHW', inputShape: xShape })).toBeLessThan(1e-4);
  });

  // The cpu backend's depthwise gradients ignore dilations (tfjs only takes gradients with
  // dilation 1), so the reference is the cpu gradient of the equivalent undilated conv whose
  // filter has the zeros inserted.
  it('depthwise gradients with dilation 2 match the zero-inserted-filter reference', () => {
    let seed = 300;
    for (const pad of ['same', 'valid'] as Pad[]) {
      for (const [ci, k, multiplier] of [[3, 3, 1], [2, 2, 2], [4, 3, 2]]) {
        const d = 2;
        const kd = (k - 1) * d + 1;
        const xShape = [2, 11, 12, ci];
        const fShape = [k, k, ci, multiplier];
        const yShape = forwardShape(xShape, fShape, 1, pad, true, d);
        const x = arr(xShape, seed++);
        const dy = arr(yShape, seed++);
        const filter = arr(fShape, seed++);
        const dilated = new Float32Array(kd * kd * ci * multiplier);
        for (let a = 0; a < k; a++)
          for (let b = 0; b < k; b++)
            for (let c = 0; c < ci * multiplier; c++) dilated[((a * d) * kd + b * d) * ci * multiplier + c] = filter.data[(a * k + b) * ci * multiplier + c];
        const refInput = runOn('cpu', 'DepthwiseConv2dNativeBackpropInput', { dy, filter: { shape: [kd, kd, ci, multiplier], data: dilated } }, { strides: 1, pad, dilations: 1, inputShape: xShape });
        expect(compare('DepthwiseConv2dNativeBackpropInput', { dy, filter }, { strides: 1, pad, dilations: d, inputShape: xShape }, refInput)).toBeLessThan(1e-4);
        const full = runOn('cpu', 'DepthwiseConv2dNativeBackpropFilter', { x, dy }, { strides: 1, pad, dilations: 1, filterShape: [kd, kd, ci, multiplier] });
        const taps = new Float32Array(k * k * ci * multiplier);
        for (let a = 0; a < k; a++)
          for (let b = 0; b < k; b++)
            for (let c = 0; c < ci * multiplier; c++) taps[(a * k + b) * ci * multiplier + c] = full.data[((a * d) * kd + b * d) * ci * multiplier + c];
        expect(compare('DepthwiseConv2dNativeBackpropFilter', { x, dy }, { strides: 1, pad, dilations: d, filterShape: fShape }, { shape: fShape, data: taps })).toBeLessThan(1e-4);
      }
    }
  });

  it('frees every intermediate tensor', () => {
    tf.setBackend('wasm');
    const x = tf.tensor(values(2 * 9 * 9 * 3, 1), [2, 9, 9, 3]);
    const dy = tf.tensor(values(2 * 5 * 5 * 4, 2), [2, 5, 5, 4]);
    const filter = tf.tensor(values(3 * 3 * 3 * 4, 3), [3, 3, 3, 4]);
    const before = tf.backend().numDataIds();
    for (let i = 0; i < 3; i++) {
      tf.dispose(tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { strides: 2, pad: 'same', dataFormat: 'NHWC', filterShape: [3, 3, 3, 4] } as unknown as tf.NamedAttrMap));
      tf.dispose(tf.engine().runKernel('Conv2DBackpropInput', { dy, filter }, { strides: 2, pad: 'same', dataFormat: 'NHWC', inputShape: [2, 9, 9, 3] } as unknown as tf.NamedAttrMap));
    }
    expect(tf.backend().numDataIds()).toBe(before);
    tf.dispose([x, dy, filter]);
  });
});
