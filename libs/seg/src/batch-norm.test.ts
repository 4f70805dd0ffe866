import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { batchNormalization } from './batch-norm';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** Output, gradients (x, γ, β) and moving statistics after one training call of `layer`. */
function trainingPass(layer: tf.layers.Layer, x: tf.Tensor, r: tf.Tensor) {
  const input = tf.input({ shape: x.shape.slice(1) });
  const model = tf.model({ inputs: input, outputs: layer.apply(input) as tf.SymbolicTensor });
  const [gamma, beta, movingMean, movingVariance] = layer.getWeights();
  // Non-trivial γ and β, the same for both layers.
  layer.setWeights([tf.linspace(0.5, 1.5, gamma.size), tf.linspace(-0.2, 0.3, beta.size), movingMean, movingVariance]);
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const xv = tf.variable(x);
  const { value, grads } = tf.variableGrads(() => tf.sum(tf.mul(model.apply(xv, { training: true }) as tf.Tensor, r)) as tf.Scalar, [xv, ...vars]);
  const y = model.apply(xv, { training: true }) as tf.Tensor; // a second call: moving stats move twice
  const out = {
    loss: value.dataSync()[0],
    y: Array.from(y.dataSync()),
    dx: Array.from(grads[xv.name].dataSync()),
    dGamma: Array.from(grads[vars[0].name].dataSync()),
    dBeta: Array.from(grads[vars[1].name].dataSync()),
    moving: layer.getWeights().slice(2).map((w) => Array.from(w.dataSync())),
    inference: Array.from((model.predict(x) as tf.Tensor).dataSync()),
  };
  xv.dispose();
  return out;
}

describe('batch normalisation with a closed-form training gradient', () => {
  it('gives the output, gradients and moving statistics of tfjs-layers\' own layer', () => {
    const x = tf.randomNormal([3, 5, 4, 6], 0.7, 2, 'float32', 3);
    const r = tf.randomNormal([3, 5, 4, 6], 0, 1, 'float32', 4);
    const ours = trainingPass(batchNormalization({ name: 'ours_bn', momentum: 0.9 }), x, r);
    const ref = trainingPass(tf.layers.batchNormalization({ name: 'ref_bn', momentum: 0.9 }), x, r);
    const close = (a: number[], b: number[], tol: number) => {
      expect(a.length).toBe(b.length);
      a.forEach((v, i) => expect(Math.abs(v - b[i])).toBeLessThan(tol * (1 + Math.abs(b[i]))));
    };
    expect(ours.loss).toBeCloseTo(ref.loss, 3);
    close(ours.y, ref.y, 1e-5);
    close(ours.dx, ref.dx, 1e-4);
    close(ours.dGamma, ref.dGamma, 1e-4);
    close(ours.dBeta, ref.dBeta, 1e-5);
    close(ours.moving[0], ref.moving[0], 1e-6);
    close(ours.moving[1], ref.moving[1], 1e-5);
    close(ours.inference, ref.inference, 1e-5);
    // The gradient is not trivially zero or the identity: γ's gradient differs per channel.
    expect(new Set(ours.dGamma.map((v) => v.toFixed(4))).size).toBe(6);
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
