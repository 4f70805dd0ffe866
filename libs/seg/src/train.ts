import * as tf from '@tensorflow/tfjs';
import { Rng, checkpointDirAt } from '@segtune/core';
import { trainingDataDigest, type SegDataset, type SegSplit } from './dataset';
import { type AugmentPolicy, augmentSample, isIdentityPolicy } from './augment';
import { buildUNet, type UNetConfig } from './unet';
import { SegOptimizer, type OptimizerConfig } from './optimizer';
import { learningRate, checkSchedule, type ScheduleConfig } from './lr-schedule';
import { ConfusionMatrix, segMetrics, type SegMetrics } from './metrics';
import { copyCheckpoint, loadCheckpoint, saveCheckpoint } from './checkpoint';
import { DEFAULT_LOSS, checkLoss, segLoss, type LossConfig } from './losses';
import { classWeights, type ClassWeighting } from './class-weights';
import { predictProbabilities, type TtaMode } from './tta';
import { checkResolutionFidelity, datasetAtSize, resolutionScale, scaledSide, type ResolutionFidelity } from './resolution-fidelity';

export interface TrainConfig {
  model: UNetConfig;
  optimizer: OptimizerConfig;
  schedule: ScheduleConfig;
  batchSize: number;
  /** Epochs to reach (the fidelity). */
  epochs: number;
  /** Total epochs the schedule is laid out over (the budget's maximum); defaults to `epochs`. */
  scheduleEpochs?: number;
  augment: AugmentPolicy;
  /** Seeds weight initialisation, data order and augmentation. */
  seed: number;
  /** The loss (default cross-entropy); class weights come from the training split. */
  loss?: Omit<LossConfig, 'classWeights' | 'ignoreIndex'> & { weighting?: ClassWeighting };
  /** Flip averaging when evaluating (default none). */
  tta?: TtaMode;
  /** Train early epochs at lower resolution (see resolution-fidelity.ts); absent: always full size. */
  resolution?: ResolutionFidelity;
}

export interface EpochResult extends SegMetrics {
  epoch: number;
  /** Mean training loss of the epoch. */
  loss: number;
  /** The loss became non-finite; training stopped after this epoch. */
  diverged?: boolean;
  /** Image height the epoch trained and was evaluated at (the dataset's, unless resolution is a fidelity). */
  resolution: number;
}

export interface TrainHooks {
  /** Called once with the freshly built (or restored) model before the first step. */
  beforeTraining?: (model: tf.LayersModel) => Promise<void> | void;
  /** Called after every epoch; may throw (e.g. `Pruned`) to stop training; tensors are freed first. */
  onEpoch?: (r: EpochResult) => Promise<void> | void;
  signal?: AbortSignal;
  /** Where to save a checkpoint after every epoch and resume from, when set. */
  checkpointDir?: string;
  /**
   * Without `resumeDir`: whether a checkpoint already in `checkpointDir` is resumed (default
   * true: an interrupted training goes on). False starts from fresh weights and overwrites it at
   * the first epoch: a search trial's folder may hold an earlier run's checkpoint.
   */
  resumeOwn?: boolean;
  /**
   * Resume from this folder's checkpoint instead (an earlier trial of the same configuration,
   * promoted by the scheduler); checkpoints are still saved to `checkpointDir`.
   */
  resumeDir?: string;
  /** With `resumeDir`: restore a checkpoint of other hyperparameters too, when the shapes match (PBT). */
  transfer?: boolean;
  /** With `resumeDir`: the epoch the checkpoint restored (0: none matched, training starts over). */
  onResumed?: (epoch: number) => void;
  /**
   * With `resumeDir`: the epoch to resume at; the checkpoint kept for it
   * (`checkpointDirAt(resumeDir, epoch)`, see keepEpochs) is restored if there is one, else the
   * latest in `resumeDir`.
   */
  resumeEpoch?: number;
  /** Epochs whose checkpoint is also kept in `checkpointDirAt(checkpointDir, epoch)` (PBT's interval steps). */
  keepEpochs?: readonly number[];
}

export interface TrainResult {
  model: tf.LayersModel;
  final: EpochResult;
  /** The epoch training resumed from (0 when it started fresh). */
  resumedFrom: number;
}

/** Copies samples `idx` of a split (augmented when a policy is given) into batch buffers. */
function fillBatch(ds: SegDataset, split: SegSplit, idx: number[], policy: AugmentPolicy | undefined, rng: Rng, x: Float32Array, y: Uint8Array): void {
  const hw = ds.height * ds.width;
  const px = hw * ds.channels;
  for (let k = 0; k < idx.length; k++) {
    const i = idx[k];
    const img = split.images.subarray(i * px, (i + 1) * px);
    const msk = split.masks.subarray(i * hw, (i + 1) * hw);
    if (policy) augmentSample(img, msk, ds.height, ds.width, ds.channels, policy, rng, x.subarray(k * px, (k + 1) * px), y.subarray(k * hw, (k + 1) * hw));
    else {
      x.set(img, k * px);
      y.set(msk, k * hw);
    }
  }
}

/** Confusion matrix of a model's argmax predictions on a split, in batches, with optional flip averaging. */
export async function evaluate(model: tf.LayersModel, ds: SegDataset, split: SegSplit, batchSize = 16, tta: TtaMode = 'none'): Promise<ConfusionMatrix> {
  const cm = new ConfusionMatrix(ds.numClasses, ds.ignoreIndex);
  const hw = ds.height * ds.width;
  const px = hw * ds.channels;
  for (let s = 0; s < split.count; s += batchSize) {
    const n = Math.min(batchSize, split.count - s);
    const pred = tf.tidy(() => {
      const x = tf.tensor4d(split.images.subarray(s * px, (s + n) * px), [n, ds.height, ds.width, ds.channels]);
      return tf.argMax(tta === 'none' ? (model.predict(x) as tf.Tensor) : predictProbabilities(model, x, tta), -1);
    });
    const p = await pred.data();
    pred.dispose();
    cm.add(split.masks.subarray(s * hw, (s + n) * hw), p);
  }
  return cm;
}

function checkAborted(signal?: AbortSignal): void {
  if (signal?.aborted) throw signal.reason instanceof Error ? signal.reason : new Error('training aborted');
}

/**
 * Trains a U-Net: a custom loop (so the learning rate follows the schedule each step and
 * AdamW's decay is decoupled), validation metrics after every epoch, optional checkpoints.
 * On any exit other than success the model and optimizer state are disposed; on success the
 * caller owns the returned model.
 */
export async function trainUNet(ds: SegDataset, cfg: TrainConfig, hooks: TrainHooks = {}): Promise<TrainResult> {
  checkSchedule(cfg.schedule);
  if (!Number.isInteger(cfg.batchSize) || cfg.batchSize < 1) throw new RangeError(`batch_size must be a positive integer, got ${cfg.batchSize}`);
  if (cfg.resolution) checkResolutionFidelity(cfg.resolution);
  const model = buildUNet(cfg.model, cfg.seed, { anySize: cfg.resolution !== undefined });
  const trainable = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const opt = new SegOptimizer(trainable, cfg.optimizer);
  const allVars = [...model.weights.map((w) => w.read() as tf.Variable), ...opt.stateVariables()];
  const weights = classWeights(cfg.loss?.weighting ?? 'none', ds.train, ds.height * ds.width, ds.numClasses, ds.ignoreIndex);
  const loss: LossConfig = { ...DEFAULT_LOSS, ...cfg.loss, classWeights: weights, ignoreIndex: ds.ignoreIndex };
  checkLoss(loss, ds.numClasses);
  // The training data is part of the key: a study continued after its dataset changed must not
  // promote a paused trial into weights trained on the old data. Only built where a checkpoint
  // is read or written (the digest passes over every pixel once per dataset).
  const key = hooks.checkpointDir === undefined && hooks.resumeDir === undefined ? '' : JSON.stringify({ model: cfg.model, optimizer: cfg.optimizer, schedule: cfg.schedule, batch: cfg.batchSize, augment: cfg.augment, seed: cfg.seed, loss, resolution: cfg.resolution, data: trainingDataDigest(ds) });
  try {
    let startEpoch = 0;
    const from = hooks.resumeDir ?? (hooks.resumeOwn === false ? undefined : hooks.checkpointDir);
    if (from) {
      const anyKey = hooks.resumeDir !== undefined && hooks.transfer === true;
      const kept = hooks.resumeDir && hooks.resumeEpoch !== undefined ? loadCheckpoint(checkpointDirAt(hooks.resumeDir, hooks.resumeEpoch), allVars, key, { anyKey }) : undefined;
      const meta = kept ?? loadCheckpoint(from, allVars, key, { anyKey });
      if (meta) {
        startEpoch = Math.min(meta.epoch, cfg.epochs);
        opt.setStepCount(meta.step);
      }
    }
    if (hooks.resumeDir) hooks.onResumed?.(startEpoch);
    await hooks.beforeTraining?.(model);
    const bs = Math.min(cfg.batchSize, ds.train.count);
    const batches = Math.max(1, Math.floor(ds.train.count / bs));
    const totalEpochs = cfg.scheduleEpochs ?? cfg.epochs;
    const policy = isIdentityPolicy(cfg.augment) ? undefined : cfg.augment;
    // The data an epoch (0-based) trains and is evaluated on: the dataset, or a down-scaled copy.
    const dataAt = (epoch: number): SegDataset => {
      const r = cfg.resolution;
      if (!r) return ds;
      const scale = resolutionScale(r, epoch + 1, totalEpochs);
      return datasetAtSize(ds, scaledSide(ds.height, scale, cfg.model.depth, r.minSide), scaledSide(ds.width, scale, cfg.model.depth, r.minSide));
    };
    let final: EpochResult | undefined;
    for (let epoch = startEpoch; epoch < cfg.epochs; epoch++) {
      const d = dataAt(epoch);
      const hw = d.height * d.width;
      const xBuf = new Float32Array(bs * hw * d.channels);
      const yBuf = new Uint8Array(bs * hw);
      const order = Rng.derive(cfg.seed, 'order', epoch).shuffle(Array.from({ length: ds.train.count }, (_, i) => i));
      const augRng = Rng.derive(cfg.seed, 'augment', epoch);
      let lossSum = 0;
      for (let b = 0; b < batches; b++) {
        checkAborted(hooks.signal);
        fillBatch(d, d.train, order.slice(b * bs, (b + 1) * bs), policy, augRng, xBuf, yBuf);
        const lr = learningRate(cfg.schedule, epoch + b / batches, totalEpochs);
        const lossT = tf.tidy(() => {
          const x = tf.tensor4d(xBuf, [bs, d.height, d.width, d.channels]);
          const y = tf.tensor3d(yBuf, [bs, d.height, d.width], 'int32');
          const { value, grads } = tf.variableGrads(() => segLoss(model.apply(x, { training: true }) as tf.Tensor, y, ds.numClasses, loss), trainable);
          opt.step(
            trainable.map((v) => grads[v.name]),
            lr,
          );
          return value;
        });
        lossSum += (await lossT.data())[0];
        lossT.dispose();
      }
      checkAborted(hooks.signal);
      const cm = await evaluate(model, d, d.val, 16, cfg.tta);
      final = { epoch: epoch + 1, loss: lossSum / batches, resolution: d.height, ...segMetrics(cm) };
      final.diverged = !Number.isFinite(final.loss);
      if (hooks.checkpointDir) {
        await saveCheckpoint(hooks.checkpointDir, allVars, { epoch: epoch + 1, step: opt.stepCount, key });
        // A copy of the files just written: the weights are not read off the device twice.
        if (hooks.keepEpochs?.includes(epoch + 1)) copyCheckpoint(hooks.checkpointDir, checkpointDirAt(hooks.checkpointDir, epoch + 1));
      }
      await hooks.onEpoch?.(final);
      // A diverged run (non-finite loss) cannot recover; its metrics so far stand as its result.
      if (final.diverged) break;
    }
    if (!final) {
      // Resumed at or past the target: evaluate the restored model.
      const d = dataAt(Math.max(0, startEpoch - 1));
      final = { epoch: startEpoch, loss: NaN, resolution: d.height, ...segMetrics(await evaluate(model, d, d.val, 16, cfg.tta)) };
    }
    opt.dispose();
    return { model, final, resumedFrom: startEpoch };
  } catch (e) {
    opt.dispose();
    model.dispose();
    throw e;
  }
}
