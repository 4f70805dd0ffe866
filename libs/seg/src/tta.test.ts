import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from './backend';
import { buildUNet } from './unet';
import { predictProbabilities, ttaPasses, TTA_MODES } from './tta';
import { measureLatency } from './cost';
import { syntheticShapes } from './synthetic-shapes';
import { evaluate } from './train';
import { trialSettings } from './config';

beforeAll(async () => {
  await initBackend('wasm');
});

const model = () => buildUNet({ width: 4, depth: 1, kernelSize: 3, activation: 'relu', batchNorm: true, dropout: 0, separable: false, height: 8, widthPx: 8, channels: 3, numClasses: 3 }, 1);

describe('test-time flip averaging', () => {
  it('hflip averages the prediction with the un-mirrored prediction of the mirrored image', () => {
    const m = model();
    const x = tf.randomUniform([2, 8, 8, 3], 0, 1, 'float32', 3) as tf.Tensor4D;
    const expected = tf.tidy(() => {
      const a = tf.softmax(m.predict(x) as tf.Tensor);
      const b = tf.reverse(tf.softmax(m.predict(tf.reverse(x, 2)) as tf.Tensor), 2);
      return tf.div(tf.add(a, b), 2);
    });
    const got = predictProbabilities(m, x, 'hflip');
    expect(got.shape).toEqual([2, 8, 8, 3]);
    const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(got, expected))).dataSync()[0]);
    expect(diff).toBeLessThan(1e-6);
    // An untrained U-Net is not flip-equivariant, so the average differs from the plain prediction.
    const plain = predictProbabilities(m, x, 'none');
    expect(tf.tidy(() => tf.max(tf.abs(tf.sub(got, plain))).dataSync()[0])).toBeGreaterThan(1e-4);
    tf.dispose([x, expected, got, plain]);
    m.dispose();
  });

  it('hvflip is equivariant: mirroring the input mirrors the averaged prediction', () => {
    const m = model();
    const x = tf.randomUniform([1, 8, 8, 3], 0, 1, 'float32', 4) as tf.Tensor4D;
    const diff = tf.tidy(() => {
      const p = predictProbabilities(m, x, 'hvflip');
      for (const axes of [[2], [1], [1, 2]]) {
        const q = predictProbabilities(m, tf.reverse(x, axes) as tf.Tensor4D, 'hvflip');
        const d = tf.max(tf.abs(tf.sub(tf.reverse(q, axes), p))).dataSync()[0];
        if (d > 1e-5) return d;
      }
      // Probabilities still sum to 1 per pixel.
      return tf.max(tf.abs(tf.sub(tf.sum(p, -1), 1))).dataSync()[0];
    });
    expect(diff).toBeLessThan(1e-5);
    expect(TTA_MODES.map(ttaPasses)).toEqual([1, 2, 2, 4]);
    tf.dispose(x);
    m.dispose();
  });

  it('is a searchable param that evaluation and the latency probe honour, with no leaked tensors', async () => {
    expect(trialSettings({ tta: 'hvflip' }).tta).toBe('hvflip');
    expect(() => trialSettings({ tta: 'rot90' })).toThrow(/"tta": "rot90" is unknown; allowed: none, hflip, vflip, hvflip/);
    const ds = syntheticShapes({ imageSize: 8, trainSize: 2, valSize: 5, seed: 0 });
    const m = buildUNet({ width: 4, depth: 1, kernelSize: 3, activation: 'relu', batchNorm: true, dropout: 0, separable: false, height: 8, widthPx: 8, channels: 3, numClasses: 5 }, 2);
    const before = tf.memory().numTensors;
    const plain = (await evaluate(m, ds, ds.val, 2, 'none')).counts;
    const flipped = (await evaluate(m, ds, ds.val, 2, 'hvflip')).counts;
    expect(flipped.reduce((a, b) => a + b, 0)).toBe(5 * 64);
    expect(Array.from(flipped)).not.toEqual(Array.from(plain));
    const lat = await measureLatency(m, [8, 8, 3], { runs: 20, warmup: 1, tta: 'hvflip' });
    expect(lat.samples).toHaveLength(20);
    expect(tf.memory().numTensors).toBe(before);
    m.dispose();
  });
});
