import * as tf from '@tensorflow/tfjs';
import { UserError } from '@segtune/core';

export const OPTIMIZERS = ['adam', 'adamw', 'sgd'] as const;
export type OptimizerName = (typeof OPTIMIZERS)[number];

export interface OptimizerConfig {
  name: OptimizerName;
  /** L2 penalty added to the gradient (adam, sgd) or decoupled decay lr·wd·w per step (adamw). */
  weightDecay: number;
  /** SGD momentum. */
  momentum: number;
  beta1: number;
  beta2: number;
  epsilon: number;
}

export function checkOptimizer(c: OptimizerConfig): void {
  if (!(OPTIMIZERS as readonly string[]).includes(c.name)) throw new UserError(`optimizer "${c.name}" is unknown; allowed: ${OPTIMIZERS.join(', ')}`);
  if (!(c.weightDecay >= 0)) throw new UserError(`weight_decay must be >= 0, got ${c.weightDecay}`);
  if (!(c.momentum >= 0 && c.momentum < 1)) throw new UserError(`momentum must be in [0, 1), got ${c.momentum}`);
}

/**
 * Adam, AdamW (decoupled weight decay, Loshchilov & Hutter) and SGD with momentum over a
 * fixed list of variables. Written here rather than taken from tf.train because the learning
 * rate changes every step (schedules), AdamW's decoupled decay is not in tfjs, and the state
 * must be saved and restored with checkpoints. State tensors are created up front so the
 * tensor count stays constant across steps. Weight decay applies to kernels (rank ≥ 2) only,
 * not to biases or batch-norm scales.
 */
export class SegOptimizer {
  private readonly slots: tf.Variable[][];
  private t = 0;

  constructor(
    readonly vars: tf.Variable[],
    readonly config: OptimizerConfig,
  ) {
    checkOptimizer(config);
    const nSlots = config.name === 'sgd' ? 1 : 2;
    this.slots = vars.map((v) => Array.from({ length: nSlots }, () => tf.tidy(() => tf.variable(tf.zerosLike(v), false))));
  }

  get stepCount(): number {
    return this.t;
  }

  /** Applies one update with learning rate `lr`; `grads[i]` belongs to `vars[i]`. Does not dispose the grads. */
  step(grads: tf.Tensor[], lr: number): void {
    this.t++;
    const { name, weightDecay: wd, momentum, beta1, beta2, epsilon } = this.config;
    const t = this.t;
    tf.tidy(() => {
      for (let i = 0; i < this.vars.length; i++) {
        const w = this.vars[i];
        let g = grads[i];
        const decay = wd > 0 && w.rank >= 2;
        if (decay && name !== 'adamw') g = tf.add(g, tf.mul(w, wd));
        if (name === 'sgd') {
          const buf = this.slots[i][0];
          buf.assign(tf.add(tf.mul(buf, momentum), g));
          w.assign(tf.sub(w, tf.mul(buf, lr)));
          continue;
        }
        const [m, v] = this.slots[i];
        m.assign(tf.add(tf.mul(m, beta1), tf.mul(g, 1 - beta1)));
        v.assign(tf.add(tf.mul(v, beta2), tf.mul(tf.square(g), 1 - beta2)));
        // Bias-corrected step folded into one scalar: lr·√(1−β2ᵗ)/(1−β1ᵗ).
        const alpha = (lr * Math.sqrt(1 - beta2 ** t)) / (1 - beta1 ** t);
        let upd = tf.div(tf.mul(m, alpha), tf.add(tf.sqrt(v), epsilon));
        if (decay && name === 'adamw') upd = tf.add(upd, tf.mul(w, lr * wd));
        w.assign(tf.sub(w, upd));
      }
    });
  }

  /** State tensors in a fixed order, for checkpoints. */
  stateVariables(): tf.Variable[] {
    return this.slots.flat();
  }

  setStepCount(t: number): void {
    this.t = t;
  }

  dispose(): void {
    for (const s of this.slots.flat()) s.dispose();
  }
}
