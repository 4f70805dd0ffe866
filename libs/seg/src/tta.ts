import * as tf from '@tensorflow/tfjs';

/**
 * Test-time augmentation a space can choose (`tta` param): `hflip` and `vflip` average the
 * prediction with that of the mirrored image, `hvflip` over all four mirrorings (nnU-Net's 2-D
 * mirroring). Geometric flips only: each is undone exactly on the prediction.
 */
export const TTA_MODES = ['none', 'hflip', 'vflip', 'hvflip'] as const;
export type TtaMode = (typeof TTA_MODES)[number];

/** Axes (NHWC) each forward pass mirrors; [] is the image as it is. */
const VIEWS: Record<TtaMode, number[][]> = {
  none: [[]],
  hflip: [[], [2]],
  vflip: [[], [1]],
  hvflip: [[], [2], [1], [1, 2]],
};

export function ttaPasses(mode: TtaMode): number {
  return VIEWS[mode].length;
}

/**
 * Class probabilities [B,H,W,K] of a batch [B,H,W,C]: the softmax of the model's logits,
 * averaged over the mirrored views of `mode`, each mapped back before averaging. The views run
 * as one batch (B × views), so latency measured with this is the cost a server would pay.
 */
export function predictProbabilities(model: tf.LayersModel, x: tf.Tensor4D, mode: TtaMode = 'none'): tf.Tensor4D {
  return tf.tidy(() => {
    const views = VIEWS[mode];
    if (views.length === 1) return tf.softmax(model.predict(x) as tf.Tensor4D) as tf.Tensor4D;
    const batch = tf.concat(views.map((axes) => (axes.length ? tf.reverse(x, axes) : x)));
    const probs = tf.softmax(model.predict(batch) as tf.Tensor4D) as tf.Tensor4D;
    const n = x.shape[0];
    const back = views.map((axes, v) => {
      const part = tf.slice(probs, [v * n, 0, 0, 0], [n, -1, -1, -1]);
      return axes.length ? tf.reverse(part, axes) : part;
    });
    return tf.div(tf.addN(back), views.length) as tf.Tensor4D;
  });
}
