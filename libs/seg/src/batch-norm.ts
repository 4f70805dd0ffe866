import * as tf from '@tensorflow/tfjs';
import { floatType, withNativeKernels, type NativeBackend } from './native-kernels';

/** The parts of tfjs-layers' BatchNormalization the training path reads (protected in its typings). */
interface BatchNormInternals {
  axis: number;
  momentum: number;
  epsilon: number;
  center: boolean;
  scale: boolean;
  gamma: tf.LayerVariable;
  beta: tf.LayerVariable;
  movingMean: tf.LayerVariable;
  movingVariance: tf.LayerVariable;
  call(inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>): tf.Tensor | tf.Tensor[];
}

/**
 * A standard tfjs BatchNormalization layer (same class, weights and serialised form, so
 * exported models load in plain tfjs) whose training-mode call has a hand-written gradient.
 *
 * tfjs differentiates training-mode batch norm through the ops of `tf.moments` and
 * `tf.batchNorm`: about 80 kernels per layer forward and backward, most of them on tiny
 * per-channel tensors. On native TensorFlow a kernel costs tens of microseconds to dispatch
 * whatever its size, so in a small U-Net these were 70% of a training step's kernels. The
 * closed-form gradient (Ioffe & Szegedy 2015, with x̂ the normalised input and N the
 * elements per channel)
 *
 *   dβ = Σ dy,  dγ = Σ dy·x̂,  dx = γ/σ · (dy − dβ/N − x̂·dγ/N)
 *
 * takes 10 kernels, and the forward pass 9. On native TensorFlow the layer goes further and
 * runs TensorFlow's own fused kernels, FusedBatchNormV3 forward (which also moves the averages)
 * and FusedBatchNormGradV3 backward: 4 kernels in all instead of 25 (see fusedTrainingBatchNorm).
 * Statistics and moving averages are those of tfjs on every backend (biased batch variance,
 * moving = moving − (moving − batch)·(1 − momentum)); inference is the layer's own code.
 */
export function batchNormalization(config: { name: string; momentum: number }): tf.layers.Layer {
  const layer = tf.layers.batchNormalization(config);
  const bn = layer as unknown as BatchNormInternals;
  const inherited = bn.call.bind(layer);
  bn.call = (inputs, kwargs) => {
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    const axis = bn.axis < 0 ? bn.axis + x.rank : bn.axis;
    if (kwargs['training'] !== true || !bn.center || !bn.scale || axis !== x.rank - 1 || x.dtype !== 'float32') return inherited(inputs, kwargs);
    return x.rank === 4 && nativeFusedBatchNorm() ? fusedTrainingBatchNorm(bn, x) : trainingBatchNorm(bn, x);
  };
  return layer;
}

function trainingBatchNorm(bn: BatchNormInternals, x: tf.Tensor): tf.Tensor {
  const axes = Array.from({ length: x.rank - 1 }, (_, i) => i);
  const n = x.size / x.shape[x.rank - 1];
  let stats: [tf.Tensor, tf.Tensor] | undefined;
  const normalise = tf.customGrad((input, gammaIn, betaIn, save) => {
    const [xs, gamma, beta] = [input, gammaIn, betaIn] as tf.Tensor[];
    const mean = tf.mean(xs, axes);
    const centred = tf.sub(xs, mean);
    const variance = tf.mean(tf.square(centred), axes);
    const inv = tf.rsqrt(tf.add(variance, bn.epsilon));
    const xhat = tf.mul(centred, inv);
    (save as (ts: tf.Tensor[]) => void)([xhat, tf.mul(gamma, inv)]);
    stats = [tf.keep(mean), tf.keep(variance)];
    return {
      value: tf.add(tf.mul(xhat, gamma), beta),
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const g = dy as tf.Tensor;
        const [xh, scale] = saved;
        const dBeta = tf.sum(g, axes);
        const dGamma = tf.sum(tf.mul(g, xh), axes);
        const dx = tf.mul(scale, tf.sub(tf.sub(g, tf.div(dBeta, n)), tf.mul(xh, tf.div(dGamma, n))));
        return [dx, dGamma, dBeta];
      },
    };
  });
  return tf.tidy(() => {
    const y = normalise(x, bn.gamma.read(), bn.beta.read());
    const [mean, variance] = stats!;
    const decay = 1 - bn.momentum;
    for (const [v, batch] of [
      [bn.movingMean, mean],
      [bn.movingVariance, variance],
    ] as const) {
      const orig = v.read();
      v.write(tf.sub(orig, tf.mul(tf.sub(orig, batch), decay)));
    }
    tf.dispose([mean, variance]);
    return y;
  });
}

const FORWARD = 'SegtuneFusedBatchNormTraining';
const BACKWARD = 'SegtuneFusedBatchNormTrainingGrad';

function fusedAttrs(b: NativeBackend, epsilon: number) {
  return [floatType(b), floatType(b, 'U'), { name: 'epsilon', type: b.binding.TF_ATTR_FLOAT, value: epsilon }, { name: 'data_format', type: b.binding.TF_ATTR_STRING, value: 'NHWC' }, { name: 'is_training', type: b.binding.TF_ATTR_BOOL, value: true }];
}

/** Registers the two kernels on the tensorflow backend when that is the one running; false elsewhere. */
function nativeFusedBatchNorm(): boolean {
  return withNativeKernels([
    {
      name: FORWARD,
      // Outputs y, the moved mean, the moved variance and three reserve spaces for the gradient.
      run: (b, { x, scale, offset, mean, variance }, { epsilon, factor }) =>
        b.executeMultipleOutputs('FusedBatchNormV3', [...fusedAttrs(b, epsilon as number), { name: 'exponential_avg_factor', type: b.binding.TF_ATTR_FLOAT, value: factor as number }], [x, scale, offset, mean, variance], 6),
    },
    {
      name: BACKWARD,
      // Outputs dx, dγ, dβ and two unused reserve spaces.
      run: (b, { dy, x, scale, r1, r2, r3 }, { epsilon }) => b.executeMultipleOutputs('FusedBatchNormGradV3', fusedAttrs(b, epsilon as number), [dy, x, scale, r1, r2, r3], 5),
    },
  ]);
}

/**
 * Training-mode batch norm as TensorFlow's fused kernels, with tfjs' statistics. The forward
 * kernel normalises by the biased batch variance and moves the averages itself, with factor
 * f = 1 − momentum: mean' = (1 − f)·mean + f·m, variance' = (1 − f)·v + f·a·s², where TensorFlow
 * takes the unbiased variance (a = N/(N − 1), N elements per channel) and tfjs the biased s².
 * Giving it a·v and dividing its result by a yields tfjs' (1 − f)·v + f·s², whatever the device
 * (the reserve spaces hold s² on a CPU and 1/σ on a GPU, so they cannot be used for this).
 */
function fusedTrainingBatchNorm(bn: BatchNormInternals, x: tf.Tensor): tf.Tensor {
  const n = x.size / x.shape[x.rank - 1];
  const a = n > 1 ? n / (n - 1) : 1;
  const attrs = { epsilon: bn.epsilon, factor: 1 - bn.momentum };
  let moved: [tf.Tensor, tf.Tensor] | undefined;
  const normalise = tf.customGrad((input, gammaIn, betaIn, save) => {
    const [xs, gamma, beta] = [input, gammaIn, betaIn] as tf.Tensor[];
    const inputs = { x: xs, scale: gamma, offset: beta, mean: bn.movingMean.read(), variance: tf.mul(bn.movingVariance.read(), a) };
    const [y, mean, variance, r1, r2, r3] = tf.engine().runKernel(FORWARD, inputs, attrs) as tf.Tensor[];
    (save as (ts: tf.Tensor[]) => void)([xs, gamma, r1, r2, r3]);
    moved = [tf.keep(mean), tf.keep(tf.div(variance, a))];
    return {
      value: y,
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const [xsv, g, s1, s2, s3] = saved;
        const [dx, dGamma, dBeta, ...unused] = tf.engine().runKernel(BACKWARD, { dy: dy as tf.Tensor, x: xsv, scale: g, r1: s1, r2: s2, r3: s3 }, { epsilon: bn.epsilon }) as tf.Tensor[];
        tf.dispose(unused);
        return [dx, dGamma, dBeta];
      },
    };
  });
  return tf.tidy(() => {
    const y = normalise(x, bn.gamma.read(), bn.beta.read());
    const [mean, variance] = moved!;
    bn.movingMean.write(mean);
    bn.movingVariance.write(variance);
    tf.dispose([mean, variance]);
    return y;
  });
}
