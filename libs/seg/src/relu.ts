import * as tf from '@tensorflow/tfjs';
import { floatType, withNativeKernels } from './native-kernels';

/**
 * A standard tfjs ReLU layer (same class and serialised form, so exported models load in plain
 * tfjs) whose training-mode call on native TensorFlow takes TensorFlow's own gradient.
 *
 * tfjs differentiates relu as dy · cast(step(x)), and tfjs-node builds `step` from isNaN,
 * greater, ones, fill, where and select: eight kernels over the whole activation per layer, where
 * TensorFlow's ReluGrad is one. In a small U-Net on 32×32 images they were about a tenth of a
 * training step. The gradient is the same: dy where the output is positive, else 0 (TensorFlow
 * gives 0 where tfjs' step would give NaN, at NaN inputs, which have diverged anyway).
 * Other backends keep tfjs' own path.
 */
export function reluLayer(config: { name: string }): tf.layers.Layer {
  const layer = tf.layers.reLU(config);
  const internals = layer as unknown as { maxValue?: number | null; call(inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>): tf.Tensor | tf.Tensor[] };
  const inherited = internals.call.bind(layer);
  internals.call = (inputs, kwargs) => {
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    if (kwargs['training'] !== true || internals.maxValue != null || x.dtype !== 'float32' || !nativeReluGrad()) return inherited(inputs, kwargs);
    return reluNativeGrad(x);
  };
  return layer;
}

const KERNEL = 'SegtuneReluGrad';

/** Registers the kernel on the tensorflow backend when that is the one running; false elsewhere. */
function nativeReluGrad(): boolean {
  return withNativeKernels([{ name: KERNEL, run: (b, inputs) => b.executeSingleOutput('ReluGrad', [floatType(b)], [inputs.dy, inputs.y]) }]);
}

const reluNativeGrad = tf.customGrad((input, save) => {
  const y = tf.relu(input as tf.Tensor);
  (save as (ts: tf.Tensor[]) => void)([y]);
  return {
    value: y,
    // ReluGrad(gradients, features) passes the gradient where features > 0; the output is
    // positive exactly where the input is.
    gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => tf.engine().runKernel(KERNEL, { dy: dy as tf.Tensor, y: saved[0] }) as tf.Tensor,
  };
}) as (x: tf.Tensor) => tf.Tensor;
