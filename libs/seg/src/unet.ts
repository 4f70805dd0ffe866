import * as tf from '@tensorflow/tfjs';
import { Rng, UserError } from '@segtune/core';
import { batchNormalization } from './batch-norm';
import { reluLayer } from './relu';

export const ACTIVATIONS = ['relu', 'leaky_relu', 'elu', 'swish'] as const;
export type Activation = (typeof ACTIVATIONS)[number];

/** One member of the U-Net family. */
export interface UNetConfig {
  /** Filters of the first level; level i has width·2^i. */
  width: number;
  /** Number of 2× down-sampling levels (the bottleneck sits below the last one). */
  depth: number;
  kernelSize: number;
  activation: Activation;
  batchNorm: boolean;
  /** Dropout rate after the deepest encoder block and the bottleneck (0 = none). */
  dropout: number;
  /** Depthwise-separable convolutions instead of full ones (all but the very first conv). */
  separable: boolean;
  height: number;
  widthPx: number;
  channels: number;
  numClasses: number;
}

export function checkUNetConfig(c: UNetConfig): void {
  const bad = (what: string) => {
    throw new UserError(`U-Net: ${what}`);
  };
  if (!Number.isInteger(c.width) || c.width < 1 || c.width > 512) bad(`width must be an integer in 1..512, got ${c.width}`);
  if (!Number.isInteger(c.depth) || c.depth < 0 || c.depth > 6) bad(`depth must be an integer in 0..6, got ${c.depth}`);
  if (!Number.isInteger(c.kernelSize) || c.kernelSize < 1 || c.kernelSize % 2 === 0) bad(`kernel_size must be an odd integer >= 1, got ${c.kernelSize}`);
  if (!(ACTIVATIONS as readonly string[]).includes(c.activation)) bad(`activation "${c.activation}" is unknown; allowed: ${ACTIVATIONS.join(', ')}`);
  if (!(c.dropout >= 0 && c.dropout < 1)) bad(`dropout must be in [0, 1), got ${c.dropout}`);
  const f = 2 ** c.depth;
  if (c.height % f !== 0 || c.widthPx % f !== 0) bad(`image size ${c.height}x${c.widthPx} must be divisible by 2^depth = ${f} (depth ${c.depth})`);
}

/**
 * Builds the U-Net as a tf.layers functional model (so it saves as a LayersModel). It outputs
 * per-pixel class logits [batch, H, W, classes]; apply softmax for probabilities. Weights are
 * initialised from `seed`, so the same seed gives the same network (whether or not `anySize`).
 */
export function buildUNet(c: UNetConfig, seed: number, options: { anySize?: boolean } = {}): tf.LayersModel {
  checkUNetConfig(c);
  const rng = Rng.derive(seed, 'unet-init');
  const init = () => tf.initializers.heNormal({ seed: rng.int(2 ** 31) });
  // anySize: height and width left open (any multiple of 2^depth), for training at several resolutions.
  const input = tf.input({ shape: options.anySize ? [null, null, c.channels] : [c.height, c.widthPx, c.channels], name: 'image' });
  const act = (x: tf.SymbolicTensor, name: string): tf.SymbolicTensor => {
    switch (c.activation) {
      case 'relu':
        return reluLayer({ name }).apply(x) as tf.SymbolicTensor;
      case 'leaky_relu':
        return tf.layers.leakyReLU({ alpha: 0.1, name }).apply(x) as tf.SymbolicTensor;
      case 'elu':
        return tf.layers.elu({ name }).apply(x) as tf.SymbolicTensor;
      case 'swish':
        return tf.layers.activation({ activation: 'swish', name }).apply(x) as tf.SymbolicTensor;
    }
  };
  let first = true;
  const conv = (x: tf.SymbolicTensor, filters: number, name: string): tf.SymbolicTensor => {
    const common = { filters, kernelSize: c.kernelSize, padding: 'same' as const, useBias: !c.batchNorm, name };
    const layer =
      c.separable && !first
        ? tf.layers.separableConv2d({ ...common, depthwiseInitializer: init(), pointwiseInitializer: init() })
        : tf.layers.conv2d({ ...common, kernelInitializer: init() });
    first = false;
    let y = layer.apply(x) as tf.SymbolicTensor;
    if (c.batchNorm) y = batchNormalization({ name: `${name}_bn`, momentum: 0.9 }).apply(y) as tf.SymbolicTensor;
    return act(y, `${name}_act`);
  };
  const block = (x: tf.SymbolicTensor, filters: number, name: string, drop: boolean): tf.SymbolicTensor => {
    let y = conv(conv(x, filters, `${name}_conv1`), filters, `${name}_conv2`);
    if (drop && c.dropout > 0) y = tf.layers.dropout({ rate: c.dropout, name: `${name}_drop` }).apply(y) as tf.SymbolicTensor;
    return y;
  };
  const skips: tf.SymbolicTensor[] = [];
  let x: tf.SymbolicTensor = input;
  for (let i = 0; i < c.depth; i++) {
    x = block(x, c.width * 2 ** i, `enc${i}`, i === c.depth - 1);
    skips.push(x);
    x = tf.layers.maxPooling2d({ poolSize: 2, strides: 2, name: `enc${i}_pool` }).apply(x) as tf.SymbolicTensor;
  }
  x = block(x, c.width * 2 ** c.depth, 'bottleneck', true);
  for (let i = c.depth - 1; i >= 0; i--) {
    const filters = c.width * 2 ** i;
    x = tf.layers
      .conv2dTranspose({ filters, kernelSize: 2, strides: 2, padding: 'same', kernelInitializer: init(), name: `dec${i}_up` })
      .apply(x) as tf.SymbolicTensor;
    x = tf.layers.concatenate({ axis: -1, name: `dec${i}_concat` }).apply([x, skips[i]]) as tf.SymbolicTensor;
    x = block(x, filters, `dec${i}`, false);
  }
  const logits = tf.layers
    .conv2d({ filters: c.numClasses, kernelSize: 1, padding: 'same', kernelInitializer: tf.initializers.glorotUniform({ seed: rng.int(2 ** 31) }), name: 'logits' })
    .apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: logits, name: 'unet' });
}

export interface UNetStats {
  /** All weights, batch-norm moving statistics included (as `model.countParams()`). */
  params: number;
  /** Floating-point operations of one forward pass on one image (2 per multiply-add; convolutions only). */
  flops: number;
  /** Elements of every layer output for one image (activations kept for the backward pass). */
  activations: number;
}

/**
 * Parameters, FLOPs and activation counts of a U-Net, computed from its configuration alone
 * (no tfjs), so the executor can size a trial before building anything.
 */
export function unetStats(c: UNetConfig): UNetStats {
  let params = 0;
  let flops = 0;
  let activations = c.height * c.widthPx * c.channels;
  const k2 = c.kernelSize * c.kernelSize;
  let first = true;
  const conv = (h: number, w: number, cin: number, cout: number) => {
    if (c.separable && !first) {
      params += k2 * cin + cin * cout;
      flops += 2 * h * w * (k2 * cin + cin * cout);
      activations += h * w * (cin + cout);
    } else {
      params += k2 * cin * cout;
      flops += 2 * h * w * k2 * cin * cout;
      activations += h * w * cout;
    }
    first = false;
    if (c.batchNorm) {
      params += 4 * cout;
      activations += h * w * cout;
    } else params += cout;
    activations += h * w * cout; // activation output
  };
  const block = (h: number, w: number, cin: number, cout: number, drop: boolean) => {
    conv(h, w, cin, cout);
    conv(h, w, cout, cout);
    if (drop && c.dropout > 0) activations += h * w * cout;
  };
  let h = c.height;
  let w = c.widthPx;
  let cin = c.channels;
  const levels: [number, number, number][] = [];
  for (let i = 0; i < c.depth; i++) {
    const f = c.width * 2 ** i;
    block(h, w, cin, f, i === c.depth - 1);
    levels.push([h, w, f]);
    h /= 2;
    w /= 2;
    activations += h * w * f; // pooling
    cin = f;
  }
  block(h, w, cin, c.width * 2 ** c.depth, true);
  cin = c.width * 2 ** c.depth;
  for (let i = c.depth - 1; i >= 0; i--) {
    const [lh, lw, f] = levels[i];
    params += 4 * cin * f + f;
    flops += 2 * lh * lw * cin * f;
    activations += lh * lw * f + lh * lw * 2 * f; // up-sampling, concatenation
    block(lh, lw, 2 * f, f, false);
    h = lh;
    w = lw;
    cin = f;
  }
  params += cin * c.numClasses + c.numClasses;
  flops += 2 * h * w * cin * c.numClasses;
  activations += h * w * c.numClasses;
  return { params, flops, activations };
}
