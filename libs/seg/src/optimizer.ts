import * as tf from '@tensorflow/tfjs';
import { UserError } from '@segtune/core';
import { floatType, int32Type, intAttr, withNativeKernels, type NativeBackend } from './native-kernels';

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
 * must be saved and restored with checkpoints. Weight decay applies to kernels (rank ≥ 2) only,
 * not to biases or batch-norm scales.
 *
 * The update runs on all variables at once: the gradients are concatenated into one flat vector,
 * the moments are one flat variable each, and the step is split back per variable. The values are
 * the same as updating each variable on its own (the same element-wise operations in the same
 * order), but a step dispatches about 3 + 2·(variables) kernels instead of about 12·(variables):
 * on native TensorFlow a small U-Net's step is dominated by per-kernel dispatch, and this was a
 * quarter of its kernels.
 *
 * On native TensorFlow the whole step is one registered kernel (nativeStep) that runs the same
 * TensorFlow ops in the same order straight on tfjs-node's backend, with its shape, size and
 * constant tensors made once: tfjs' dispatch of each op, and the shape tensor every reshape and
 * the scalar every multiplication by a number makes, were most of the optimizer's time.
 */
export class SegOptimizer {
  /** Flat state: [m, v] for Adam and AdamW, [momentum buffer] for SGD. */
  private readonly slots: tf.Variable[];
  /** 1 where weight decay applies (kernels), 0 elsewhere; absent without decay. */
  private readonly decayMask?: tf.Tensor1D;
  private readonly sizes: number[];
  private t = 0;
  /** On native TensorFlow: the step's constant tensors, made on its first step there. */
  private constants?: Record<string, tf.Tensor>;

  /** `options.native: false` keeps the tfjs ops on native TensorFlow too (to compare the two). */
  constructor(
    readonly vars: tf.Variable[],
    readonly config: OptimizerConfig,
    private readonly options: { native?: boolean } = {},
  ) {
    checkOptimizer(config);
    this.sizes = vars.map((v) => v.size);
    const total = this.sizes.reduce((a, b) => a + b, 0);
    const nSlots = config.name === 'sgd' ? 1 : 2;
    this.slots = Array.from({ length: nSlots }, () => tf.tidy(() => tf.variable(tf.zeros([total]), false)));
    if (config.weightDecay > 0) {
      const mask = new Float32Array(total);
      let off = 0;
      for (const v of vars) {
        if (v.rank >= 2) mask.fill(1, off, off + v.size);
        off += v.size;
      }
      this.decayMask = tf.tensor1d(mask);
    }
  }

  get stepCount(): number {
    return this.t;
  }

  /** Applies one update with learning rate `lr`; `grads[i]` belongs to `vars[i]`. Does not dispose the grads. */
  step(grads: tf.Tensor[], lr: number): void {
    if (grads.length !== this.vars.length) throw new RangeError(`expected ${this.vars.length} gradients, got ${grads.length}`);
    if (this.vars.length === 0) return;
    this.t++;
    const { name, weightDecay: wd, momentum, beta1, beta2, epsilon } = this.config;
    const t = this.t;
    // Bias-corrected Adam step folded into one scalar: lr·√(1−β2ᵗ)/(1−β1ᵗ).
    const alpha = (lr * Math.sqrt(1 - beta2 ** t)) / (1 - beta1 ** t);
    if (this.options.native !== false && nativeStepKernel()) {
      this.nativeStep(grads, lr, alpha);
      return;
    }
    tf.tidy(() => {
      const flat = (xs: tf.Tensor[]) => (xs.length === 1 ? tf.reshape(xs[0], [-1]) : tf.concat(xs.map((x) => tf.reshape(x, [-1]))));
      let g = flat(grads);
      const w = this.decayMask ? flat(this.vars) : undefined;
      if (w && name !== 'adamw') g = tf.add(g, tf.mul(tf.mul(w, wd), this.decayMask!));
      let upd: tf.Tensor;
      if (name === 'sgd') {
        const [buf] = this.slots;
        buf.assign(tf.add(tf.mul(buf, momentum), g));
        upd = tf.mul(buf, lr);
      } else {
        const [m, v] = this.slots;
        m.assign(tf.add(tf.mul(m, beta1), tf.mul(g, 1 - beta1)));
        v.assign(tf.add(tf.mul(v, beta2), tf.mul(tf.square(g), 1 - beta2)));
        upd = tf.div(tf.mul(m, alpha), tf.add(tf.sqrt(v), epsilon));
        if (w && name === 'adamw') upd = tf.add(upd, tf.mul(tf.mul(w, lr * wd), this.decayMask!));
      }
      const parts = this.vars.length === 1 ? [upd] : tf.split(upd, this.sizes);
      this.vars.forEach((x, i) => x.assign(tf.sub(x, tf.reshape(parts[i], x.shape))));
    });
  }

  /** State tensors in a fixed order, for checkpoints. */
  stateVariables(): tf.Variable[] {
    return [...this.slots];
  }

  setStepCount(t: number): void {
    this.t = t;
  }

  dispose(): void {
    for (const s of this.slots) s.dispose();
    this.decayMask?.dispose();
    if (this.constants) tf.dispose(Object.values(this.constants));
  }

  /** The step as one kernel on native TensorFlow: the same ops as step's tfjs path, in its order. */
  private nativeStep(grads: tf.Tensor[], lr: number, alpha: number): void {
    const { name, weightDecay: wd, momentum, beta1, beta2, epsilon } = this.config;
    if (!this.constants) {
      const scalars: Record<string, number> = name === 'sgd' ? { momentum } : { beta1, beta1c: 1 - beta1, beta2, beta2c: 1 - beta2, epsilon };
      if (this.decayMask && name !== 'adamw') scalars.wd = wd;
      // Kept: step is often called inside the caller's tidy, which would dispose them.
      const keep = (t: tf.Tensor) => tf.keep(t);
      this.constants = {
        flatShape: keep(tf.tensor1d([-1], 'int32')),
        axis: keep(tf.scalar(0, 'int32')),
        sizes: keep(tf.tensor1d(this.sizes, 'int32')),
        ...Object.fromEntries(this.vars.map((v, i) => [`shape${i}`, keep(tf.tensor1d(v.shape, 'int32'))])),
        ...Object.fromEntries(Object.entries(scalars).map(([k, v]) => [k, keep(tf.scalar(v))])),
      };
    }
    tf.tidy(() => {
      const inputs: Record<string, tf.Tensor> = { ...this.constants };
      if (this.decayMask) inputs.mask = this.decayMask;
      this.vars.forEach((v, i) => {
        inputs[`x${i}`] = v;
        inputs[`g${i}`] = grads[i];
      });
      this.slots.forEach((s, i) => (inputs[`s${i}`] = s));
      if (name === 'sgd') inputs.lr = tf.scalar(lr);
      else inputs.alpha = tf.scalar(alpha);
      if (this.decayMask && name === 'adamw') inputs.lrWd = tf.scalar(lr * wd);
      const out = tf.engine().runKernel(STEP, inputs, { rule: name, n: this.vars.length }) as tf.Tensor[];
      this.slots.forEach((s, i) => s.assign(out[i]));
      this.vars.forEach((v, i) => v.assign(out[this.slots.length + i]));
    });
  }
}

const STEP = 'SegtuneOptimizerStep';

/** Registers the step kernel on the tensorflow backend when that is the one running; false elsewhere. */
function nativeStepKernel(): boolean {
  return withNativeKernels([{ name: STEP, run: (b, inputs, attrs) => runStep(b, inputs, attrs.rule as OptimizerName, attrs.n as number) }]);
}

/** Outputs the new slots, then the new variables; the intermediates are freed by its tidy. */
function runStep(b: NativeBackend, inp: Record<string, tf.TensorInfo>, rule: OptimizerName, n: number): tf.Tensor[] {
  const op = (name: string, inputs: tf.TensorInfo[], attrs = [floatType(b)]) => b.executeSingleOutput(name, attrs, inputs);
  const reshapeAttrs = [floatType(b), int32Type(b, 'Tshape')];
  const flat = (key: string) => {
    const parts = Array.from({ length: n }, (_, i) => op('Reshape', [inp[`${key}${i}`], inp.flatShape], reshapeAttrs));
    return n === 1 ? parts[0] : op('ConcatV2', [...parts, inp.axis], [intAttr(b, 'N', n), floatType(b), int32Type(b, 'Tidx')]);
  };
  return tf.tidy(() => {
    let g = flat('g');
    const w = inp.mask ? flat('x') : undefined;
    if (w && rule !== 'adamw') g = op('Add', [g, op('Mul', [op('Mul', [w, inp.wd]), inp.mask])]);
    let upd: tf.Tensor;
    const slots: tf.Tensor[] = [];
    if (rule === 'sgd') {
      slots.push(op('Add', [op('Mul', [inp.s0, inp.momentum]), g]));
      upd = op('Mul', [slots[0], inp.lr]);
    } else {
      slots.push(op('Add', [op('Mul', [inp.s0, inp.beta1]), op('Mul', [g, inp.beta1c])]));
      slots.push(op('Add', [op('Mul', [inp.s1, inp.beta2]), op('Mul', [op('Square', [g]), inp.beta2c])]));
      upd = op('RealDiv', [op('Mul', [slots[0], inp.alpha]), op('Add', [op('Sqrt', [slots[1]]), inp.epsilon])]);
      if (w && rule === 'adamw') upd = op('Add', [upd, op('Mul', [op('Mul', [w, inp.lrWd]), inp.mask])]);
    }
    const parts = n > 1 ? b.executeMultipleOutputs('SplitV', [intAttr(b, 'num_split', n), floatType(b), int32Type(b, 'Tlen')], [upd, inp.sizes, inp.axis], n) : [upd];
    const next = parts.map((p, i) => op('Sub', [inp[`x${i}`], op('Reshape', [p, inp[`shape${i}`]], reshapeAttrs)]));
    return [...slots, ...next];
  });
}
