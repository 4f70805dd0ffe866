import * as tf from '@tensorflow/tfjs';
import { UserError } from '@segtune/core';
import type { Params, WorkloadSpec } from '@segtune/space';
import { buildUNet, unetStats } from './unet';
import { loadCheckpointPrefix } from './checkpoint';
import { evaluate } from './train';
import { segMetrics, type SegMetrics } from './metrics';
import { trialSettings } from './config';
import { initBackend } from './backend';
import { exportModel, loadDataset, modelConfig, parseSegSpec, resolutionOf } from './workload';

export interface ExportTrialModelOptions {
  params: Params;
  spec: WorkloadSpec | Record<string, unknown>;
  /** The trial's artifact folder, where the workload saved its checkpoint after every epoch. */
  checkpointDir: string;
  /** The epoch the trial finished at (its last report); the checkpoint must be of that epoch. */
  epoch: number;
  outDir: string;
  backend?: string;
  spaceDir?: string;
  /** The trial's stored mIoU: the restored weights must reproduce it within 1e-6, else nothing is written. */
  expectMiou?: number;
  /** Written into config.json beside the model. */
  extra?: Record<string, unknown>;
}

/**
 * Writes the weights a trial itself trained: rebuilds its U-Net, restores the model weights from
 * the trial's last checkpoint, evaluates them on the validation split (with the trial's
 * test-time augmentation) and exports them with config.json. The returned metrics are those of
 * the restored weights, so the caller can check them against the study's.
 */
export async function exportTrialModel(o: ExportTrialModelOptions): Promise<{ metrics: SegMetrics & { params: number; flops: number }; files: string[]; backend: string }> {
  const spec = parseSegSpec(o.spec as Record<string, unknown>);
  const backend = await initBackend(o.backend ?? spec.backend);
  const ds = loadDataset(spec, o.spaceDir);
  const settings = trialSettings(o.params);
  const cfg = modelConfig(o.params, { height: ds.height, width: ds.width, channels: ds.channels, numClasses: ds.numClasses });
  const model = buildUNet(cfg, 0, { anySize: resolutionOf(spec) !== undefined });
  try {
    const meta = loadCheckpointPrefix(o.checkpointDir, model.weights.map((w) => w.read() as tf.Variable));
    if (meta.epoch !== o.epoch) {
      throw new UserError(`the checkpoint in ${o.checkpointDir} is of epoch ${meta.epoch} but the trial finished at epoch ${o.epoch}; use --retrain to train its configuration again`);
    }
    const metrics = { ...segMetrics(await evaluate(model, ds, ds.val, 16, settings.tta)), params: unetStats(cfg).params, flops: unetStats(cfg).flops };
    if (o.expectMiou !== undefined && !(Math.abs(metrics.miou - o.expectMiou) <= 1e-6)) {
      throw new Error(`the checkpoint in ${o.checkpointDir} evaluates to mIoU ${metrics.miou} on ${backend.name}, but the study holds ${o.expectMiou}; use --retrain, or the backend the trial ran on`);
    }
    const files = await exportModel(model, o.outDir, {
      params: o.params,
      workload: spec,
      epochs: meta.epoch,
      source: 'the trial\'s own checkpoint',
      metrics,
      tta: settings.tta,
      input_shape: [ds.height, ds.width, ds.channels],
      class_names: ds.classNames,
      backend: backend.name,
      ...o.extra,
    });
    return { metrics, files, backend: backend.name };
  } finally {
    model.dispose();
  }
}
