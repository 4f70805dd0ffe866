import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { SegOptimizer, type OptimizerConfig } from './optimizer';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const base: OptimizerConfig = { name: 'adam', weightDecay: 0, momentum: 0.9, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 };
const init = [
  [0.5, -1.2],
  [2.0, 0.3],
];
const target = tf.tensor2d([
  [1, 2],
  [3, 4],
]);
const lossOf = (w: tf.Variable) => tf.sum(tf.square(tf.sub(w, target))) as tf.Scalar;

function runOurs(cfg: OptimizerConfig, lr: number, steps: number): number[] {
  const w = tf.variable(tf.tensor2d(init));
  const opt = new SegOptimizer([w], cfg);
  for (let i = 0; i < steps; i++) {
    const { grads } = tf.variableGrads(() => lossOf(w), [w]);
    opt.step([grads[w.name]], lr);
    tf.dispose(grads);
  }
  const out = Array.from(w.dataSync());
  opt.dispose();
  w.dispose();
  return out;
}

function runTf(opt: tf.Optimizer, steps: number): number[] {
  const w = tf.variable(tf.tensor2d(init));
  for (let i = 0; i < steps; i++) opt.minimize(() => lossOf(w), false, [w]);
  const out = Array.from(w.dataSync());
  opt.dispose();
  w.dispose();
  return out;
}

describe('optimizers', () => {
  it('Adam matches tf.train.adam', () => {
    const ours = runOurs(base, 0.05, 20);
    const ref = runTf(tf.train.adam(0.05, 0.9, 0.999, 1e-7), 20);
    ours.forEach((v, i) => expect(v).toBeCloseTo(ref[i], 4));
  });

  it('SGD with momentum matches tf.train.momentum', () => {
    const ours = runOurs({ ...base, name: 'sgd' }, 0.02, 15);
    const ref = runTf(tf.train.momentum(0.02, 0.9), 15);
    ours.forEach((v, i) => expect(v).toBeCloseTo(ref[i], 5));
  });

  it('AdamW decays weights decoupled from the gradient; Adam couples it', () => {
    // With a zero gradient (w at the target), only decay moves the weights.
    const w = tf.variable(tf.tensor2d([[1, 2], [3, 4]]));
    const opt = new SegOptimizer([w], { ...base, name: 'adamw', weightDecay: 0.1 });
    const zero = tf.zerosLike(w);
    opt.step([zero], 0.5);
    expect(Array.from(w.dataSync())).toEqual([1, 2, 3, 4].map((v) => Math.fround(v * (1 - 0.05))));
    opt.dispose();
    w.dispose();
    zero.dispose();
    const adam = runOurs({ ...base, weightDecay: 0.5 }, 0.05, 20);
    const plain = runOurs(base, 0.05, 20);
    expect(adam).not.toEqual(plain);
  });

  it('rejects an unknown optimizer', () => {
    const w = tf.variable(tf.scalar(1));
    expect(() => new SegOptimizer([w], { ...base, name: 'rmsprop' as never })).toThrow(/optimizer "rmsprop" is unknown; allowed: adam, adamw, sgd/);
    w.dispose();
  });
});
