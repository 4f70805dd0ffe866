import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pruned, checkpointDirAt, isPruned, type WorkloadContext } from '@segtune/core';
import { initBackend } from './backend';
import { syntheticShapes } from './synthetic-shapes';
import { trainUNet, type TrainConfig } from './train';
import { presetPolicy } from './augment';
import { segmentationWorkload, estimateMemoryBytes, exportModel, parseSegSpec } from './workload';
import { loadModel } from './export';
import { trialSettings } from './config';
import type { Params } from '@segtune/space';

const dir = mkdtempSync(join(tmpdir(), 'segtune-train-'));
beforeAll(async () => {
  await initBackend('wasm');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const ds = syntheticShapes({ imageSize: 16, trainSize: 16, valSize: 8, seed: 3 });
const cfg = (over: Partial<TrainConfig> = {}): TrainConfig => ({
  model: { width: 4, depth: 1, kernelSize: 3, activation: 'relu', batchNorm: true, dropout: 0, separable: false, height: 16, widthPx: 16, channels: 3, numClasses: 5 },
  optimizer: { name: 'adam', weightDecay: 1e-4, momentum: 0.9, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 },
  schedule: { name: 'cosine', lr: 5e-3, stepSize: 1, stepFactor: 0.5, warmupEpochs: 0, minFactor: 0.01 },
  batchSize: 4,
  epochs: 3,
  augment: presetPolicy('heavy'),
  seed: 11,
  ...over,
});

const spec = parseSegSpec({ kind: 'segmentation', backend: 'wasm', latency_runs: 20, dataset: { kind: 'synthetic-shapes', image_size: 16, train_size: 16, val_size: 8, seed: 3 } });

function ctx(over: Partial<WorkloadContext> & { reports?: unknown[]; attrs?: Record<string, unknown> } = {}): WorkloadContext {
  const reports = over.reports ?? [];
  const attrs = over.attrs ?? {};
  return {
    trialNumber: 0,
    seed: 5,
    budget: { name: 'epochs', min: 1, max: 2 },
    signal: new AbortController().signal,
    device: { gpu: null },
    setAttrs: (a) => Object.assign(attrs, a),
    report: async (step, values) => {
      reports.push({ step, values });
    },
    ...over,
  };
}

describe('training', () => {
  it('leaks no tensors across epochs, with every optimizer and batch norm on or off', async () => {
    for (const [name, bn, sep] of [['adam', true, false], ['adamw', false, true], ['sgd', true, true]] as const) {
      const start = tf.memory().numTensors;
      const counts: number[] = [];
      const r = await trainUNet(ds, cfg({ optimizer: { ...cfg().optimizer, name }, model: { ...cfg().model, batchNorm: bn, separable: sep } }), {
        onEpoch: () => {
          counts.push(tf.memory().numTensors);
        },
      });
      expect(counts).toHaveLength(3);
      expect(new Set(counts).size, `${name}: ${counts.join(', ')}`).toBe(1);
      r.model.dispose();
      expect(tf.memory().numTensors).toBe(start);
    }
  });

  it('learns: the loss falls over epochs', async () => {
    const losses: number[] = [];
    const r = await trainUNet(ds, cfg({ epochs: 4, augment: presetPolicy('none') }), { onEpoch: (e) => void losses.push(e.loss) });
    r.model.dispose();
    expect(losses[3]).toBeLessThan(losses[0]);
  });

  it('resumes from a checkpoint exactly where a straight run would be', async () => {
    const straight = await trainUNet(ds, cfg());
    straight.model.dispose();
    const ck = join(dir, 'ck');
    const first = await trainUNet(ds, cfg({ epochs: 2, scheduleEpochs: 3 }), { checkpointDir: ck });
    first.model.dispose();
    expect(existsSync(join(ck, 'checkpoint.json'))).toBe(true);
    const resumed = await trainUNet(ds, cfg(), { checkpointDir: ck });
    resumed.model.dispose();
    expect(resumed.resumedFrom).toBe(2);
    expect(resumed.final.loss).toBe(straight.final.loss);
    expect(resumed.final.miou).toBe(straight.final.miou);
    // Another configuration ignores the checkpoint.
    const other = await trainUNet(ds, cfg({ seed: 12, epochs: 1 }), { checkpointDir: ck });
    other.model.dispose();
    expect(other.resumedFrom).toBe(0);
  });

  it('does not resume weights trained on other data: the checkpoint carries a digest of the training split', async () => {
    const ck = join(dir, 'ck-data');
    const first = await trainUNet(ds, cfg({ epochs: 2, scheduleEpochs: 3 }), { checkpointDir: ck });
    first.model.dispose();
    // The same files regenerated (a new object, equal pixels) resume; one changed label does not.
    const same = syntheticShapes({ imageSize: 16, trainSize: 16, valSize: 8, seed: 3 });
    const again = await trainUNet(same, cfg({ epochs: 2, scheduleEpochs: 3 }), { checkpointDir: ck });
    again.model.dispose();
    expect(again.resumedFrom).toBe(2);
    const changed = syntheticShapes({ imageSize: 16, trainSize: 16, valSize: 8, seed: 3 });
    changed.train.masks[100] = (changed.train.masks[100] + 1) % changed.numClasses;
    const other = await trainUNet(changed, cfg({ epochs: 2, scheduleEpochs: 3 }), { checkpointDir: ck });
    other.model.dispose();
    expect(other.resumedFrom).toBe(0);
  });

  it('a promoted trial resumes from the paused trial\'s folder and checkpoints into its own', async () => {
    const paused = join(dir, 'trial-1');
    const own = join(dir, 'trial-7');
    const first = await trainUNet(ds, cfg({ epochs: 2, scheduleEpochs: 3 }), { checkpointDir: paused });
    first.model.dispose();
    const restored: number[] = [];
    const epochs: number[] = [];
    const resumed = await trainUNet(ds, cfg(), { checkpointDir: own, resumeDir: paused, onResumed: (e) => void restored.push(e), onEpoch: (r) => void epochs.push(r.epoch) });
    resumed.model.dispose();
    expect(restored).toEqual([2]);
    expect(epochs).toEqual([3]);
    expect(existsSync(join(own, 'checkpoint.json'))).toBe(true);
    // Nothing to resume from: says 0 and trains from the start.
    const fresh = await trainUNet(ds, cfg({ epochs: 1 }), { resumeDir: join(dir, 'nowhere'), onResumed: (e) => void restored.push(e) });
    fresh.model.dispose();
    expect(restored).toEqual([2, 0]);
  });

  it('PBT: a checkpoint of other hyperparameters is continued only as a transfer', async () => {
    const parent = join(dir, 'trial-2');
    const first = await trainUNet(ds, cfg({ epochs: 2 }), { checkpointDir: parent });
    first.model.dispose();
    const perturbed = cfg({ schedule: { ...cfg().schedule, lr: 6e-3 }, optimizer: { ...cfg().optimizer, weightDecay: 1.2e-4 } });
    const restored: number[] = [];
    const same = await trainUNet(ds, perturbed, { resumeDir: parent, onResumed: (e) => void restored.push(e) });
    same.model.dispose();
    const transfer = await trainUNet(ds, perturbed, { resumeDir: parent, transfer: true, onResumed: (e) => void restored.push(e) });
    transfer.model.dispose();
    // Without transfer the other learning rate is another configuration; with it, epoch 2 goes on.
    expect(restored).toEqual([0, 2]);
  });

  it("PBT: a replacement continues the parent's checkpoint kept at the interval epoch, though the parent trained on", async () => {
    const parent = join(dir, 'trial-3');
    const first = await trainUNet(ds, cfg({ epochs: 3 }), { checkpointDir: parent, keepEpochs: [1] });
    first.model.dispose();
    expect(existsSync(join(checkpointDirAt(parent, 1), 'checkpoint.json'))).toBe(true);
    expect(existsSync(checkpointDirAt(parent, 2))).toBe(false);
    const restored: number[] = [];
    const epochs: number[] = [];
    const perturbed = cfg({ schedule: { ...cfg().schedule, lr: 6e-3 } });
    const kept = await trainUNet(ds, perturbed, { resumeDir: parent, resumeEpoch: 1, transfer: true, onResumed: (e) => void restored.push(e), onEpoch: (r) => void epochs.push(r.epoch) });
    kept.model.dispose();
    // No checkpoint kept at epoch 2: the latest (epoch 3, the parent's final state) is restored.
    const latest = await trainUNet(ds, perturbed, { resumeDir: parent, resumeEpoch: 2, transfer: true, onResumed: (e) => void restored.push(e) });
    latest.model.dispose();
    expect(restored).toEqual([1, 3]);
    expect(epochs).toEqual([2, 3]);
  });

  it('export then reload gives the same predictions', async () => {
    const r = await trainUNet(ds, cfg({ epochs: 1 }));
    const out = join(dir, 'model');
    const files = await exportModel(r.model, out, { params: { width: 4 } });
    expect(files.map((f) => f.slice(out.length + 1)).sort()).toEqual(['config.json', 'model.json', 'weights.bin']);
    const loaded = await loadModel(out);
    const x = tf.tensor4d(ds.val.images, [ds.val.count, 16, 16, 3]);
    const a = r.model.predict(x) as tf.Tensor;
    const b = loaded.predict(x) as tf.Tensor;
    const diff = tf.max(tf.abs(tf.sub(a, b)));
    expect((await diff.data())[0]).toBeLessThan(1e-6);
    expect(Array.from(await tf.argMax(a, -1).data())).toEqual(Array.from(await tf.argMax(b, -1).data()));
    tf.dispose([x, a, b, diff]);
    r.model.dispose();
    loaded.dispose();
  });
});

describe('segmentation workload', () => {
  it('reports every epoch and returns the final metrics and attrs', async () => {
    const reports: { step: number; values: Record<string, number> }[] = [];
    const attrs: Record<string, unknown> = {};
    const wl = segmentationWorkload(spec);
    const r = (await wl({ width: 4, depth: 1, batch_size: 8, lr: 0.003, augment: 'light' }, ctx({ reports, attrs }))) as Record<string, number>;
    expect(Object.keys(r).sort()).toEqual(['dice', 'flops', 'latency_ms', 'miou', 'miou_foreground', 'params', 'pixel_accuracy']);
    for (const v of Object.values(r)) expect(Number.isFinite(v)).toBe(true);
    expect(r.latency_ms).toBeGreaterThan(0);
    expect(reports.map((x) => x.step)).toEqual([1, 2]);
    expect(reports[1].values.miou).toBe(r.miou);
    expect(reports[0].values.latency_ms).toBe(r.latency_ms);
    expect(attrs).toMatchObject({ backend: 'wasm', params: r.params, flops: r.flops });
    expect(attrs.memory_estimate_bytes).toBe(estimateMemoryBytes({ width: 4, depth: 1, batch_size: 8, lr: 0.003, augment: 'light' }, spec));
  });

  it('measures latency once per architecture in a process: a later trial of the same net reuses it and says which trial measured it', async () => {
    const wl = segmentationWorkload(spec);
    const run = async (trialNumber: number, params: Params) => {
      const attrs: Record<string, unknown> = {};
      const r = (await wl(params, ctx({ trialNumber, attrs, budget: { name: 'epochs', min: 1, max: 1 } }))) as Record<string, number>;
      return { latency: r.latency_ms, by: attrs.latency_measured_by };
    };
    const first = await run(7, { width: 6, depth: 1, lr: 0.003 });
    expect(first.by).toBeUndefined();
    // Other lr, batch and optimizer: the same inference graph, so the same measurement.
    const same = await run(8, { width: 6, depth: 1, lr: 0.01, batch_size: 4, optimizer: 'sgd' });
    expect(same).toEqual({ latency: first.latency, by: 7 });
    // The measuring trial resuming (a promotion) carries its own measurement, with no attr.
    expect(await run(7, { width: 6, depth: 1, lr: 0.003 })).toEqual({ latency: first.latency, by: undefined });
    // Another architecture, or flip averaging at inference: measured anew.
    for (const params of [{ width: 6, depth: 1, batch_norm: false }, { width: 6, depth: 2 }, { width: 6, depth: 1, tta: 'hflip' }] as Params[]) {
      const other = await run(9, params);
      expect(other.by).toBeUndefined();
      expect(other.latency).toBeGreaterThan(0);
    }
  });

  it("trains a trial from fresh weights even when its folder holds an earlier run's checkpoint of the same params and seed", async () => {
    const folder = join(dir, 'stale-trial-0');
    const wl = segmentationWorkload(spec);
    const params = { width: 4, depth: 1, batch_size: 8, lr: 0.003 };
    // An earlier study of the same name ran trial 0 to 3 epochs; this study's trial 0 has a budget of 1.
    await wl(params, ctx({ artifactDir: folder, budget: { name: 'epochs', min: 1, max: 3 } }));
    expect(existsSync(join(folder, 'checkpoint.json'))).toBe(true);
    const reports: { step: number; values: Record<string, number> }[] = [];
    const r = (await wl(params, ctx({ artifactDir: folder, reports, budget: { name: 'epochs', min: 1, max: 1 } }))) as Record<string, number>;
    expect(reports.map((x) => x.step)).toEqual([1]);
    expect(Number.isFinite(reports[0].values.loss)).toBe(true);
    expect(r.miou).toBe(reports[0].values.miou);
  });

  it('lets Pruned propagate from report and frees every tensor', async () => {
    const wl = segmentationWorkload(spec);
    await wl({ width: 4, depth: 1 }, ctx({ budget: { name: 'epochs', min: 1, max: 1 } }));
    const start = tf.memory().numTensors;
    let reported = 0;
    const err = await Promise.resolve(
      wl(
        { width: 4, depth: 1, batch_size: 4 },
        ctx({
          budget: { name: 'epochs', min: 1, max: 5 },
          report: async (step) => {
            reported++;
            if (step === 2) throw new Pruned(step);
          },
        }),
      ),
    ).catch((e: unknown) => e);
    expect(isPruned(err)).toBe(true);
    expect(reported).toBe(2);
    expect(tf.memory().numTensors).toBe(start);
  });

  it('stops when the signal aborts', async () => {
    const ac = new AbortController();
    ac.abort(new Error('trial timed out'));
    const wl = segmentationWorkload(spec);
    await expect(Promise.resolve(wl({ width: 4, depth: 1 }, ctx({ signal: ac.signal })))).rejects.toThrow(/trial timed out/);
  });

  it('rejects unknown params and options with one line', () => {
    expect(() => trialSettings({ learnig_rate: 0.1 })).toThrow(/unknown param "learnig_rate"; allowed: width, depth/);
    expect(() => trialSettings({ width: 'wide' })).toThrow(/param "width" must be an integer, got "wide"/);
    expect(() => parseSegSpec({ kind: 'segmentation', datset: {} })).toThrow(/workload\.datset is not a segmentation option; allowed: kind, dataset/);
    expect(() => parseSegSpec({ kind: 'segmentation', dataset: { kind: 'folder' } })).toThrow(/workload\.dataset\.path is required/);
    expect(() => parseSegSpec({ kind: 'segmentation', latency_runs: 5 })).toThrow(/latency_runs must be at least 20/);
    expect(estimateMemoryBytes({ width: 32, depth: 4, batch_size: 32 }, { kind: 'segmentation' })).toBeGreaterThan(estimateMemoryBytes({ width: 8, depth: 2, batch_size: 8 }, { kind: 'segmentation' }));
  });
});
