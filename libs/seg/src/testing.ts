// Shared by this package's tests and tests/tensorflow-backend: one training pass of a
// batch-norm layer, to compare segtune's layer with tfjs-layers' own on any backend (output,
// gradients of x, γ and β, moving statistics after two training calls, inference output).
import { expect } from 'vitest';
import * as tf from '@tensorflow/tfjs';

export function batchNormPass(layer: tf.layers.Layer, x: tf.Tensor, r: tf.Tensor) {
  const input = tf.input({ shape: x.shape.slice(1) });
  const model = tf.model({ inputs: input, outputs: layer.apply(input) as tf.SymbolicTensor });
  const [gamma, beta, movingMean, movingVariance] = layer.getWeights();
  // Non-trivial γ, β and moving statistics, the same for both layers.
  layer.setWeights([tf.linspace(0.5, 1.5, gamma.size), tf.linspace(-0.2, 0.3, beta.size), tf.add(movingMean, tf.linspace(-1, 1, movingMean.size)), tf.add(movingVariance, tf.linspace(0, 2, movingVariance.size))]);
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

/** Every value of `a` within `tol` of `b`'s, relative to 1 + |b|. */
export function expectClose(a: number[], b: number[], tol: number): void {
  expect(a.length).toBe(b.length);
  const worst = Math.max(...a.map((v, i) => Math.abs(v - b[i]) / (1 + Math.abs(b[i]))));
  expect(worst).toBeLessThan(tol);
}

/** segtune's layer against tfjs-layers' own, one pass each on the same data. */
export function expectSameAsTfjsLayer(ours: ReturnType<typeof batchNormPass>, ref: ReturnType<typeof batchNormPass>): void {
  expect(ours.loss).toBeCloseTo(ref.loss, 3);
  expectClose(ours.y, ref.y, 1e-5);
  expectClose(ours.dx, ref.dx, 1e-4);
  expectClose(ours.dGamma, ref.dGamma, 1e-4);
  expectClose(ours.dBeta, ref.dBeta, 1e-5);
  expectClose(ours.moving[0], ref.moving[0], 1e-6);
  expectClose(ours.moving[1], ref.moving[1], 1e-5);
  expectClose(ours.inference, ref.inference, 1e-5);
  // The gradient is not trivially zero or the identity: γ's gradient differs per channel.
  expect(new Set(ours.dGamma.map((v) => v.toFixed(4))).size).toBe(ours.dGamma.length);
}
