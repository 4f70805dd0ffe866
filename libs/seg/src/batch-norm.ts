import * as tf from '@tensorflow/tfjs';

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
 * takes 10 kernels, and the forward pass 9. Statistics and moving averages are those of tfjs
 * (biased batch variance, moving = moving − (moving − batch)·(1 − momentum)); inference is the
 * layer's own code.
 */
export function batchNormalization(config: { name: string; momentum: number }): tf.layers.Layer {
  const layer = tf.layers.batchNormalization(config);
  const bn = layer as unknown as BatchNormInternals;
  const inherited = bn.call.bind(layer);
  bn.call = (inputs, kwargs) => {
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    const axis = bn.axis < 0 ? bn.axis + x.rank : bn.axis;
    if (kwargs['training'] !== true || !bn.center || !bn.scale || axis !== x.rank - 1 || x.dtype !== 'float32') return inherited(inputs, kwargs);
    return trainingBatchNorm(bn, x);
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
