import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { reluLayer } from './relu';
import { buildUNet } from './unet';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('relu layer', () => {
  it('keeps tfjs\' own gradient path off native TensorFlow', async () => {
    const layer = reluLayer({ name: 'cpu_relu' });
    const input = tf.input({ shape: [4] });
    const model = tf.model({ inputs: input, outputs: layer.apply(input) as tf.SymbolicTensor });
    const xv = tf.variable(tf.tensor2d([[-1, 2, -3, 4]]));
    const prof = await tf.profile(() => {
      const { grads } = tf.variableGrads(() => tf.sum(model.apply(xv, { training: true }) as tf.Tensor) as tf.Scalar, [xv]);
      expect(Array.from(grads[xv.name].dataSync())).toEqual([0, 1, 0, 1]);
    });
    expect(prof.kernels.map((k) => k.name)).not.toContain('SegtuneReluGrad');
    xv.dispose();
  });

  it('serialises as a plain ReLU layer, so exported models load in plain tfjs', () => {
    const model = buildUNet({ width: 4, depth: 1, kernelSize: 3, activation: 'relu', batchNorm: false, dropout: 0, separable: false, height: 8, widthPx: 8, channels: 3, numClasses: 2 }, 1);
    const classes = (model.toJSON(null, false) as unknown as { config: { layers: { class_name: string }[] } }).config.layers.map((l) => l.class_name);
    expect(classes).toContain('ReLU');
    model.dispose();
  });
});
