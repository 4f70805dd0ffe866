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

  it('updates several variables of different shapes as each on its own (one flat step)', () => {
    // A kernel, a bias and a scale: Adam over all three at once against tf.train.adam, and
    // AdamW's decay reaching the kernel only.
    const inits = [tf.tensor4d([0.3, -0.7, 1.1, 0.2, -0.4, 0.9], [1, 2, 3, 1]), tf.tensor1d([0.5, -0.5, 0.1]), tf.scalar(2)];
    const targets = [tf.onesLike(inits[0]), tf.tensor1d([1, 2, 3]), tf.scalar(-1)];
    const lossAll = (ws: tf.Variable[]) => tf.addN(ws.map((w, i) => tf.sum(tf.square(tf.sub(w, targets[i]))))) as tf.Scalar;
    const oursFor = (cfg: OptimizerConfig, steps: number) => {
      const ws = inits.map((x) => tf.variable(x.clone()));
      const opt = new SegOptimizer(ws, cfg);
      for (let i = 0; i < steps; i++) {
        const { grads } = tf.variableGrads(() => lossAll(ws), ws);
        opt.step(ws.map((w) => grads[w.name]), 0.05);
        tf.dispose(grads);
      }
      const out = ws.map((w) => Array.from(w.dataSync()));
      opt.dispose();
      tf.dispose(ws);
      return out;
    };
    const ws = inits.map((x) => tf.variable(x.clone()));
    const ref = tf.train.adam(0.05, 0.9, 0.999, 1e-7);
    for (let i = 0; i < 12; i++) ref.minimize(() => lossAll(ws), false, ws);
    const refOut = ws.map((w) => Array.from(w.dataSync()));
    ref.dispose();
    tf.dispose(ws);
    const ours = oursFor(base, 12);
    ours.forEach((vals, k) => vals.forEach((v, i) => expect(v).toBeCloseTo(refOut[k][i], 4)));
    // With a zero-gradient start (w at the target) AdamW's decay moves only the rank-4 kernel.
    const at = targets.map((x) => tf.variable(x.clone()));
    const opt = new SegOptimizer(at, { ...base, name: 'adamw', weightDecay: 0.1 });
    opt.step(at.map((w) => tf.zerosLike(w)), 0.5);
    expect(Array.from(at[0].dataSync())).toEqual(Array(6).fill(Math.fround(1 - 0.05)));
    expect(Array.from(at[1].dataSync())).toEqual([1, 2, 3]);
    expect(Array.from(at[2].dataSync())).toEqual([-1]);
    expect(opt.stateVariables().map((s) => s.shape)).toEqual([[10], [10]]);
    opt.dispose();
    tf.dispose(at);
  });

  it('rejects an unknown optimizer', () => {
    const w = tf.variable(tf.scalar(1));
    expect(() => new SegOptimizer([w], { ...base, name: 'rmsprop' as never })).toThrow(/optimizer "rmsprop" is unknown; allowed: adam, adamw, sgd/);
    w.dispose();
  });
});
