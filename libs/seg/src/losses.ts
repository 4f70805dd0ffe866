import * as tf from '@tensorflow/tfjs';
import { UserError } from '@segtune/core';

/** Training losses a space can choose between (`loss` param). */
export const LOSSES = ['ce', 'dice', 'ce_dice', 'focal', 'tversky'] as const;
export type LossName = (typeof LOSSES)[number];

export interface LossConfig {
  name: LossName;
  /** One weight per class (see classWeights); none = every class weighs 1. */
  classWeights?: readonly number[];
  /** Pixels with this label count nowhere (Pascal VOC's 255 on object boundaries). */
  ignoreIndex?: number;
  /** Focal loss exponent γ (Lin et al. 2017); 0 is cross-entropy. */
  focalGamma: number;
  /** Tversky weights of false positives (α) and false negatives (β) (Salehi et al. 2017). */
  tverskyAlpha: number;
  tverskyBeta: number;
  /** Weight of the Dice term in ce_dice (nnU-Net: 1). */
  diceWeight: number;
}

export const DEFAULT_LOSS: LossConfig = { name: 'ce', focalGamma: 2, tverskyAlpha: 0.3, tverskyBeta: 0.7, diceWeight: 1 };

/** Added to numerator and denominator of Dice and Tversky so empty classes stay finite. */
const SMOOTH = 1;
const EPS = 1e-7;

export function checkLoss(c: LossConfig, numClasses?: number): void {
  if (!(LOSSES as readonly string[]).includes(c.name)) throw new UserError(`segmentation param "loss": "${c.name}" is unknown; allowed: ${LOSSES.join(', ')}`);
  if (!(c.focalGamma >= 0 && c.focalGamma <= 10)) throw new UserError(`segmentation param "focal_gamma" must be in [0, 10], got ${c.focalGamma}`);
  for (const [k, v] of [['tversky_alpha', c.tverskyAlpha], ['tversky_beta', c.tverskyBeta]] as const) {
    if (!(v >= 0 && v <= 1)) throw new UserError(`segmentation param "${k}" must be in [0, 1], got ${v}`);
  }
  if (!(c.tverskyAlpha + c.tverskyBeta > 0)) throw new UserError('segmentation params "tversky_alpha" + "tversky_beta" must be above 0');
  if (!(c.diceWeight >= 0)) throw new UserError(`segmentation param "dice_weight" must be >= 0, got ${c.diceWeight}`);
  if (c.classWeights && numClasses !== undefined && c.classWeights.length !== numClasses) {
    throw new Error(`loss: ${c.classWeights.length} class weights for ${numClasses} classes`);
  }
}

/**
 * Loss of logits [B,H,W,K] against class indices [B,H,W].
 *
 * - `ce`: softmax cross-entropy; with class weights the weighted mean (Σ w_y·ce / Σ w_y, as
 *   PyTorch's `CrossEntropyLoss(weight=…)`).
 * - `focal`: (1 − p_y)^γ · ce, weighted and normalised the same way.
 * - `dice`: 1 − soft Dice per foreground class over the whole batch (nnU-Net's batch Dice,
 *   background left out), averaged with the class weights.
 * - `tversky`: 1 − (TP + s)/(TP + α·FP + β·FN + s) per foreground class, averaged likewise.
 * - `ce_dice`: ce + dice_weight · dice (nnU-Net's default).
 *
 * Ignored pixels (ignoreIndex) contribute to no term.
 */
export function segLoss(logits: tf.Tensor, labels: tf.Tensor, numClasses: number, cfg: LossConfig = DEFAULT_LOSS): tf.Scalar {
  return tf.tidy(() => {
    let lab = tf.cast(labels, 'int32');
    let valid: tf.Tensor | undefined;
    if (cfg.ignoreIndex !== undefined) {
      const keep = tf.cast(tf.notEqual(lab, tf.scalar(cfg.ignoreIndex, 'int32')), 'int32');
      lab = tf.mul(lab, keep);
      valid = tf.cast(keep, 'float32');
    }
    // One-hot targets with all-zero rows for ignored pixels.
    let y = tf.oneHot(lab, numClasses).toFloat();
    if (valid) y = tf.mul(y, tf.expandDims(valid, -1));
    const logp = tf.logSoftmax(logits);
    const weights = cfg.classWeights ? tf.tensor1d([...cfg.classWeights], 'float32') : undefined;
    const pixelCe = () => tf.neg(tf.sum(tf.mul(y, logp), -1));
    // Each pixel's weight: its class's weight, 1 without weights, 0 when ignored.
    const pixelWeight = () => (weights ? tf.sum(tf.mul(y, weights), -1) : tf.sum(y, -1));
    const weightedMean = (perPixel: tf.Tensor) => {
      const pw = pixelWeight();
      return tf.div(tf.sum(tf.mul(pw, perPixel)), tf.maximum(tf.sum(pw), EPS));
    };
    const overlap = () => {
      let p = tf.exp(logp);
      if (valid) p = tf.mul(p, tf.expandDims(valid, -1));
      const axes = [0, 1, 2];
      const tp = tf.sum(tf.mul(p, y), axes);
      const fp = tf.sub(tf.sum(p, axes), tp);
      const fn = tf.sub(tf.sum(y, axes), tp);
      return { tp, fp, fn };
    };
    // Mean over foreground classes (1..K-1), weighted by the class weights when given.
    const foregroundMean = (perClass: tf.Tensor) => {
      const fg = tf.slice(perClass, [1], [numClasses - 1]);
      if (!weights) return tf.mean(fg);
      const w = tf.slice(weights, [1], [numClasses - 1]);
      return tf.div(tf.sum(tf.mul(w, fg)), tf.maximum(tf.sum(w), EPS));
    };
    const dice = () => {
      const { tp, fp, fn } = overlap();
      const score = tf.div(tf.add(tf.mul(tp, 2), SMOOTH), tf.add(tf.add(tf.add(tf.mul(tp, 2), fp), fn), SMOOTH));
      return foregroundMean(tf.sub(1, score));
    };
    switch (cfg.name) {
      case 'ce':
        return weightedMean(pixelCe()) as tf.Scalar;
      case 'focal': {
        const ce = pixelCe();
        const pt = tf.exp(tf.neg(ce));
        // Clamped so that γ < 1 keeps a finite gradient where p_y reaches 1.
        const modulator = tf.pow(tf.maximum(tf.sub(1, pt), EPS), cfg.focalGamma);
        return weightedMean(tf.mul(modulator, ce)) as tf.Scalar;
      }
      case 'dice':
        return dice() as tf.Scalar;
      case 'ce_dice':
        return tf.add(weightedMean(pixelCe()), tf.mul(dice(), cfg.diceWeight)) as tf.Scalar;
      case 'tversky': {
        const { tp, fp, fn } = overlap();
        const score = tf.div(tf.add(tp, SMOOTH), tf.add(tf.add(tf.add(tp, tf.mul(fp, cfg.tverskyAlpha)), tf.mul(fn, cfg.tverskyBeta)), SMOOTH));
        return foregroundMean(tf.sub(1, score)) as tf.Scalar;
      }
    }
  });
}
