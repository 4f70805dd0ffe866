import * as tf from '@tensorflow/tfjs';
import { isAbsolute, resolve } from 'node:path';
import { UserError, type Workload, type WorkloadContext } from '@segtune/core';
import type { Params, WorkloadSpec } from '@segtune/space';
import type { SegDataset } from './dataset';
import { syntheticShapes } from './synthetic-shapes';
import { syntheticStructures } from './synthetic-structures';
import { folderDataset } from './folder-dataset';
import { trialSettings } from './config';
import { checkUNetConfig, unetStats, type UNetConfig } from './unet';
import { trainUNet, type EpochResult } from './train';
import { estimateTrainingMemory, measureLatency } from './cost';
import { saveModel } from './export';
import { initBackend, type BackendInfo } from './backend';
import { checkResolutionFidelity, type ResolutionFidelity } from './resolution-fidelity';

/** The `workload` block of a space file with `kind: segmentation`, as read here (snake_case keys). */
export interface SegWorkloadSpec {
  kind: 'segmentation';
  dataset?: {
    kind?: 'synthetic-shapes' | 'synthetic-structures' | 'folder';
    image_size?: number;
    train_size?: number;
    val_size?: number;
    seed?: number;
    noise?: number;
    path?: string;
    num_classes?: number;
    class_names?: string[];
    val_fraction?: number;
    /** Mask value of unlabelled pixels (folder datasets; Pascal VOC uses 255). */
    ignore_index?: number;
  };
  /** tfjs backend: auto (default), tensorflow-gpu, tensorflow, wasm or cpu; `--backend` (ctx.device.backend) wins. */
  backend?: string;
  /** Threads per trial for the backend (tfjs-node only; see initBackend). */
  threads?: number;
  /** Timed batch-1 inference runs for latency_ms (at least 20). */
  latency_runs?: number;
  /** Epochs when the space has no budget block. */
  epochs?: number;
  /**
   * What the budget (epochs) buys: `epochs` (default) trains every epoch at full size;
   * `epochs_resolution` trains early epochs down-scaled and the last ones at full size, so the
   * low rungs of ASHA / Hyperband / BOHB cost a fraction (see resolution-fidelity.ts).
   */
  fidelity?: 'epochs' | 'epochs_resolution';
  /** epochs_resolution: the scheduler's reduction factor (default 3). */
  reduction_factor?: number;
  /** epochs_resolution: halvings below full size (default 2, down to a quarter). */
  resolution_levels?: number;
  /** epochs_resolution: smallest side in pixels (default 8). */
  min_resolution?: number;
}

const SPEC_KEYS = ['kind', 'dataset', 'backend', 'threads', 'latency_runs', 'epochs', 'fidelity', 'reduction_factor', 'resolution_levels', 'min_resolution'];
const FIDELITIES = ['epochs', 'epochs_resolution'];
const DATASET_KEYS = ['kind', 'image_size', 'train_size', 'val_size', 'seed', 'noise', 'path', 'num_classes', 'class_names', 'val_fraction', 'ignore_index'];
const DATASET_KINDS = ['synthetic-shapes', 'synthetic-structures', 'folder'];

/** Validates a space file's segmentation block; one-line UserErrors naming the key. */
export function parseSegSpec(raw: WorkloadSpec | Record<string, unknown>): SegWorkloadSpec {
  const spec = raw as Record<string, unknown>;
  if (spec.kind !== 'segmentation') throw new UserError(`workload.kind must be "segmentation", got ${JSON.stringify(spec.kind)}`);
  for (const k of Object.keys(spec)) if (!SPEC_KEYS.includes(k)) throw new UserError(`workload.${k} is not a segmentation option; allowed: ${SPEC_KEYS.join(', ')}`);
  const ds = (spec.dataset ?? {}) as Record<string, unknown>;
  if (typeof ds !== 'object' || Array.isArray(ds)) throw new UserError('workload.dataset must be a mapping (kind: synthetic-shapes | folder, ...)');
  for (const k of Object.keys(ds)) if (!DATASET_KEYS.includes(k)) throw new UserError(`workload.dataset.${k} is not a dataset option; allowed: ${DATASET_KEYS.join(', ')}`);
  const kind = ds.kind ?? 'synthetic-shapes';
  if (!DATASET_KINDS.includes(kind as string)) throw new UserError(`workload.dataset.kind "${String(kind)}" is unknown; allowed: ${DATASET_KINDS.join(', ')}`);
  if (kind === 'folder' && typeof ds.path !== 'string') throw new UserError('workload.dataset.path is required for a folder dataset (a folder with images/ and masks/)');
  for (const k of ['image_size', 'train_size', 'val_size', 'seed', 'num_classes', 'val_fraction', 'noise', 'ignore_index'] as const) {
    if (ds[k] !== undefined && typeof ds[k] !== 'number') throw new UserError(`workload.dataset.${k} must be a number, got ${JSON.stringify(ds[k])}`);
  }
  if (ds.ignore_index !== undefined && !(Number.isInteger(ds.ignore_index) && (ds.ignore_index as number) >= 0 && (ds.ignore_index as number) <= 255)) {
    throw new UserError(`workload.dataset.ignore_index must be an integer in 0..255 (a mask value), got ${JSON.stringify(ds.ignore_index)}`);
  }
  for (const k of ['threads', 'latency_runs', 'epochs'] as const) {
    if (spec[k] !== undefined && (typeof spec[k] !== 'number' || !Number.isInteger(spec[k]) || (spec[k] as number) < 1)) {
      throw new UserError(`workload.${k} must be a positive integer, got ${JSON.stringify(spec[k])}`);
    }
  }
  if (spec.fidelity !== undefined && !FIDELITIES.includes(spec.fidelity as string)) throw new UserError(`workload.fidelity "${String(spec.fidelity)}" is unknown; allowed: ${FIDELITIES.join(', ')}`);
  for (const k of ['reduction_factor', 'resolution_levels', 'min_resolution'] as const) {
    if (spec[k] === undefined) continue;
    if (spec.fidelity !== 'epochs_resolution') throw new UserError(`workload.${k} applies only with fidelity: epochs_resolution`);
    if (typeof spec[k] !== 'number' || !((spec[k] as number) > 0)) throw new UserError(`workload.${k} must be a positive number, got ${JSON.stringify(spec[k])}`);
  }
  if (spec.fidelity === 'epochs_resolution') checkResolutionFidelity(resolutionOf(spec as unknown as SegWorkloadSpec)!);
  if (spec.latency_runs !== undefined && (spec.latency_runs as number) < 20) throw new UserError(`workload.latency_runs must be at least 20, got ${spec.latency_runs}`);
  return { ...(spec as unknown as SegWorkloadSpec), dataset: { ...ds, kind } as SegWorkloadSpec['dataset'] };
}

/** The resolution schedule a spec asks for, or undefined for epochs alone. */
export function resolutionOf(spec: SegWorkloadSpec): ResolutionFidelity | undefined {
  if (spec.fidelity !== 'epochs_resolution') return undefined;
  return { reductionFactor: spec.reduction_factor ?? 3, levels: spec.resolution_levels ?? 2, minSide: spec.min_resolution ?? 8 };
}

const datasets = new Map<string, SegDataset>();

/** The dataset a spec names, built once per process (trials of a study share it). */
export function loadDataset(spec: SegWorkloadSpec, spaceDir = process.cwd()): SegDataset {
  const d = spec.dataset ?? {};
  const path = d.path === undefined ? undefined : isAbsolute(d.path) ? d.path : resolve(spaceDir, d.path);
  const key = JSON.stringify({ ...d, path });
  let ds = datasets.get(key);
  if (!ds) {
    ds =
      d.kind === 'folder'
        ? folderDataset({ path: path!, numClasses: d.num_classes, classNames: d.class_names, imageSize: d.image_size, valFraction: d.val_fraction, seed: d.seed, ignoreIndex: d.ignore_index })
        : d.kind === 'synthetic-structures'
          ? syntheticStructures({ imageSize: d.image_size ?? 32, trainSize: d.train_size, valSize: d.val_size, seed: d.seed, noise: d.noise })
          : syntheticShapes({ imageSize: d.image_size ?? 64, trainSize: d.train_size, valSize: d.val_size, seed: d.seed, noise: d.noise });
    datasets.set(key, ds);
  }
  return ds;
}

/** The full U-Net configuration of trial params on a dataset's shape. */
export function modelConfig(params: Params, shape: { height: number; width: number; channels: number; numClasses: number }): UNetConfig {
  const s = trialSettings(params);
  const c: UNetConfig = { ...s.model, height: shape.height, widthPx: shape.width, channels: shape.channels, numClasses: shape.numClasses };
  checkUNetConfig(c);
  return c;
}

/**
 * Peak training memory of a configuration in bytes, from parameter and activation counts
 * (no tfjs, no data loading). For a folder dataset without image_size/num_classes the shape
 * is unknown up front: 256×256 and 21 classes (Pascal VOC) are assumed.
 */
export function estimateMemoryBytes(params: Params, spec: WorkloadSpec | SegWorkloadSpec): number {
  const s = parseSegSpec(spec as Record<string, unknown>);
  const d = s.dataset ?? {};
  const side = d.image_size ?? (d.kind === 'folder' ? 256 : d.kind === 'synthetic-structures' ? 32 : 64);
  const numClasses = d.num_classes ?? (d.kind === 'folder' ? 21 : d.kind === 'synthetic-structures' ? 4 : 5);
  const settings = trialSettings(params);
  return estimateTrainingMemory({ ...settings.model, height: side, widthPx: side, channels: 3, numClasses }, settings.batchSize);
}

export interface FinalMetrics {
  miou: number;
  miou_foreground: number;
  latency_ms: number;
  pixel_accuracy: number;
  dice: number;
  params: number;
  flops: number;
  [k: string]: number;
}

interface RunOptions {
  params: Params;
  spec: SegWorkloadSpec;
  spaceDir?: string;
  epochs: number;
  seed: number;
  backend?: string;
  signal?: AbortSignal;
  checkpointDir?: string;
  /** A promoted trial: the paused trial's folder, whose checkpoint it continues. */
  resumeDir?: string;
  transfer?: boolean;
  /** The step the scheduler resumes at, and the steps to keep a checkpoint of (TrainHooks.resumeEpoch, keepEpochs). */
  resumeEpoch?: number;
  keepEpochs?: readonly number[];
  onResumed?: (epoch: number) => void;
  onEpoch?: (r: EpochResult, latencyMs: number) => Promise<void> | void;
  onStart?: (info: { backend: BackendInfo; params: number; flops: number; memory: number }) => void;
  /** The trial this run belongs to, recorded with its latency measurement. */
  trialNumber?: number;
  /** The latency this run carries and the trial that measured it (this one, or an earlier trial of the same architecture in this process). */
  onLatency?: (l: { ms: number; trial?: number }) => void;
  /** Keep the trained model (the caller disposes it). */
  keepModel?: boolean;
}

/**
 * Latency measured in this process, by everything the inference graph and its timing depend
 * on: backend and threads, the whole U-Net config (which includes the input size), flip
 * averaging, runs, and whether the model takes any input size. The weights do not change it,
 * so a promoted trial resuming, or a later trial of the same architecture, reuses the median
 * instead of paying 25 more predictions (~20% of a 1-epoch trial's training on native
 * TensorFlow at 32 px); such a trial records `latency_measured_by`, the trial that measured it.
 */
const latencyMemo = new Map<string, { ms: number; trial?: number }>();
const LATENCY_MEMO_SIZE = 4096;

async function run(o: RunOptions): Promise<{ metrics: FinalMetrics; model?: tf.LayersModel; backend: BackendInfo; dataset: SegDataset; final: EpochResult }> {
  const backend = await initBackend(o.backend ?? o.spec.backend, { threads: o.spec.threads });
  const ds = loadDataset(o.spec, o.spaceDir);
  const settings = trialSettings(o.params);
  const model = modelConfig(o.params, { height: ds.height, width: ds.width, channels: ds.channels, numClasses: ds.numClasses });
  const stats = unetStats(model);
  o.onStart?.({ backend, params: stats.params, flops: stats.flops, memory: estimateTrainingMemory(model, settings.batchSize) });
  let latencyMs = NaN;
  const { model: trained, final } = await trainUNet(
    ds,
    { ...settings, model, epochs: o.epochs, scheduleEpochs: o.epochs, seed: o.seed, resolution: resolutionOf(o.spec) },
    {
      signal: o.signal,
      checkpointDir: o.checkpointDir,
      resumeDir: o.resumeDir,
      // A trial resumes only what the scheduler promotes (resumeDir). Its own folder,
      // results/<study>/trial-N, can hold a checkpoint of the same trial number from an earlier
      // study of that name (its storage deleted or another --storage), with the same params and
      // seed: resuming it would report that run's weights, trained on whatever data it had, as
      // this trial's result.
      resumeOwn: false,
      transfer: o.transfer,
      resumeEpoch: o.resumeEpoch,
      keepEpochs: o.keepEpochs,
      onResumed: o.onResumed,
      // Latency depends on the architecture, not the weights: measure it once before training
      // so every report (and a multi-objective scheduler) can carry it; always at the target
      // resolution, whatever resolution the early epochs train at.
      beforeTraining: async (m) => {
        const key = JSON.stringify([backend.name, backend.threads, model, settings.tta, o.spec.latency_runs, resolutionOf(o.spec) !== undefined]);
        const known = latencyMemo.get(key);
        if (known !== undefined) {
          latencyMs = known.ms;
          o.onLatency?.(known);
          return;
        }
        latencyMs = (await measureLatency(m, [ds.height, ds.width, ds.channels], { runs: o.spec.latency_runs, tta: settings.tta })).medianMs;
        if (latencyMemo.size >= LATENCY_MEMO_SIZE) latencyMemo.clear();
        const entry = { ms: latencyMs, trial: o.trialNumber };
        latencyMemo.set(key, entry);
        o.onLatency?.(entry);
      },
      onEpoch: (r) => o.onEpoch?.(r, latencyMs),
    },
  );
  const metrics: FinalMetrics = {
    miou: final.miou,
    miou_foreground: final.miou_foreground,
    latency_ms: latencyMs,
    pixel_accuracy: final.pixel_accuracy,
    dice: final.dice,
    params: stats.params,
    flops: stats.flops,
  };
  if (!o.keepModel) trained.dispose();
  return { metrics, model: o.keepModel ? trained : undefined, backend, dataset: ds, final };
}

/**
 * The built-in segmentation workload: trains the U-Net a trial's params describe on the
 * spec's dataset for `ctx.budget.max` epochs (else `spec.epochs`, else 10), reports validation
 * metrics (and latency_ms) after every epoch, and returns
 * `{ miou, miou_foreground, latency_ms, pixel_accuracy, dice, params, flops }`.
 */
export function segmentationWorkload(rawSpec: WorkloadSpec | SegWorkloadSpec, options: { spaceDir?: string } = {}): Workload {
  const spec = parseSegSpec(rawSpec as Record<string, unknown>);
  return async (params: Params, ctx: WorkloadContext) => {
    const epochs = Math.max(1, Math.round(ctx.budget?.max ?? spec.epochs ?? 10));
    const { metrics } = await run({
      params,
      spec,
      spaceDir: options.spaceDir,
      epochs,
      seed: ctx.seed,
      backend: ctx.device.backend,
      signal: ctx.signal,
      checkpointDir: ctx.artifactDir,
      resumeDir: ctx.resumeFrom?.artifactDir,
      transfer: ctx.resumeFrom?.transfer,
      resumeEpoch: ctx.resumeFrom?.step,
      keepEpochs: ctx.checkpointSteps,
      // The study stored the step it asked to resume from; correct it when the checkpoint said otherwise.
      onResumed: (epoch) => {
        if (epoch !== ctx.resumeFrom?.step) ctx.setAttrs({ resumed_from_step: epoch, ...(epoch === 0 ? { resume_error: `no checkpoint ${ctx.resumeFrom?.transfer ? 'of the same architecture' : 'of this configuration'} in ${ctx.resumeFrom?.artifactDir}` } : {}) });
      },
      onStart: ({ backend, params: p, flops, memory }) =>
        ctx.setAttrs({ backend: backend.name, threads: backend.threads, params: p, flops, memory_estimate_bytes: memory, ...(ctx.artifactDir ? { checkpoint_dir: resolve(ctx.artifactDir) } : {}) }),
      trialNumber: ctx.trialNumber,
      onLatency: ({ trial }) => {
        if (trial !== ctx.trialNumber) ctx.setAttrs({ latency_measured_by: trial });
      },
      onEpoch: (r, latencyMs) =>
        ctx.report(r.epoch, { miou: r.miou, miou_foreground: r.miou_foreground, latency_ms: latencyMs, pixel_accuracy: r.pixel_accuracy, dice: r.dice, loss: r.loss, resolution: r.resolution }),
    });
    return metrics;
  };
}

export interface TrainFinalOptions {
  params: Params;
  spec: WorkloadSpec | SegWorkloadSpec;
  /** Folder for model.json, weights.bin and config.json. */
  outDir: string;
  /** Epochs (the budget's maximum); default spec.epochs or 10. */
  epochs?: number;
  seed?: number;
  backend?: string;
  spaceDir?: string;
  signal?: AbortSignal;
  onEpoch?: (r: EpochResult) => void;
}

/**
 * Trains one configuration at full budget and writes it as a tfjs LayersModel with its
 * config.json (params, dataset, input shape, class names, metrics, backend) beside it.
 * For `segtune export --with-model`.
 */
export async function trainFinal(o: TrainFinalOptions): Promise<{ metrics: FinalMetrics; files: string[]; backend: string }> {
  const spec = parseSegSpec(o.spec as Record<string, unknown>);
  const epochs = o.epochs ?? spec.epochs ?? 10;
  const r = await run({ params: o.params, spec, spaceDir: o.spaceDir, epochs, seed: o.seed ?? 0, backend: o.backend, signal: o.signal, keepModel: true, onEpoch: (e) => o.onEpoch?.(e) });
  try {
    const files = await exportModel(r.model!, o.outDir, {
      params: o.params,
      workload: spec,
      epochs,
      seed: o.seed ?? 0,
      metrics: { ...r.metrics, per_class_iou: r.final.per_class_iou },
      input_shape: [r.dataset.height, r.dataset.width, r.dataset.channels],
      class_names: r.dataset.classNames,
      backend: r.backend.name,
    });
    return { metrics: r.metrics, files, backend: r.backend.name };
  } finally {
    r.model!.dispose();
  }
}

/**
 * Writes a trained model: `model.json` + `weights.bin` (tfjs LayersModel; the output is
 * per-pixel class logits, NHWC, input in [0, 1]) and `config.json` with whatever describes it.
 */
export async function exportModel(model: tf.LayersModel, dir: string, config: Record<string, unknown>): Promise<string[]> {
  return saveModel(model, dir, { format: 'tfjs-layers-model', output: 'logits [batch, height, width, classes]; softmax for probabilities, argmax for the mask', input: 'float32 [batch, height, width, 3] in [0, 1]', ...config });
}
