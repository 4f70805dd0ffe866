import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { batchNormalization } from './batch-norm';
import { batchNormPass, expectSameAsTfjsLayer } from './testing';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('batch normalisation with a closed-form training gradient', () => {
  it('gives the output, gradients and moving statistics of tfjs-layers\' own layer', () => {
    const x = tf.randomNormal([3, 5, 4, 6], 0.7, 2, 'float32', 3);
    const r = tf.randomNormal([3, 5, 4, 6], 0, 1, 'float32', 4);
    const ours = batchNormPass(batchNormalization({ name: 'ours_bn', momentum: 0.9 }), x, r);
    const ref = batchNormPass(tf.layers.batchNormalization({ name: 'ref_bn', momentum: 0.9 }), x, r);
    expectSameAsTfjsLayer(ours, ref);
  });

  it('serialises as the standard layer, so plain tfjs loads the model', () => {
    const layer = batchNormalization({ name: 'bn', momentum: 0.9 });
    const input = tf.input({ shape: [4, 4, 2] });
    const model = tf.model({ inputs: input, outputs: layer.apply(input) as tf.SymbolicTensor });
    const json = JSON.stringify(model.toJSON(null, false));
    expect(json).toContain('"class_name":"BatchNormalization"');
    expect(layer.getClassName()).toBe('BatchNormalization');
  });

  it('leaves no tensors behind per training step', () => {
    const layer = batchNormalization({ name: 'bn2', momentum: 0.9 });
    const input = tf.input({ shape: [4, 4, 3] });
    const model = tf.model({ inputs: input, outputs: layer.apply(input) as tf.SymbolicTensor });
    const x = tf.randomNormal([2, 4, 4, 3], 0, 1, 'float32', 1);
    const step = () => tf.tidy(() => tf.variableGrads(() => tf.sum(model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar).value);
    step().dispose();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) step().dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
