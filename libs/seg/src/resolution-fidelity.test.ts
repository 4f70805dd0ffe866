import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import type { WorkloadContext } from '@segtune/core';
import { initBackend } from './backend';
import { resolutionScale, scaledSide, datasetAtSize } from './resolution-fidelity';
import { segmentationWorkload, parseSegSpec } from './workload';
import { syntheticShapes } from './synthetic-shapes';

beforeAll(async () => {
  await initBackend('wasm');
});

describe('resolution as a fidelity', () => {
  const r = { reductionFactor: 3, levels: 2, minSide: 8 };
  it('trains the epochs below each rung at half the size of the rung above', () => {
    expect(Array.from({ length: 9 }, (_, i) => resolutionScale(r, i + 1, 9))).toEqual([0.25, 0.5, 0.5, 1, 1, 1, 1, 1, 1]);
    expect(Array.from({ length: 27 }, (_, i) => resolutionScale(r, i + 1, 27)).filter((s) => s === 1)).toHaveLength(18);
    expect(resolutionScale({ ...r, levels: 1 }, 1, 27)).toBe(0.5);
    expect(resolutionScale({ ...r, reductionFactor: 2 }, 2, 8)).toBe(0.25);
    // Sides snap to multiples of 2^depth, never below the minimum or above the target.
    expect(scaledSide(64, 0.25, 2, 8)).toBe(16);
    expect(scaledSide(32, 0.25, 4, 8)).toBe(16);
    expect(scaledSide(40, 0.5, 3, 8)).toBe(16);
    expect(scaledSide(32, 1, 1, 8)).toBe(32);
  });

  it('down-scales a dataset once per size, masks by nearest neighbour', () => {
    const ds = syntheticShapes({ imageSize: 32, trainSize: 3, valSize: 2, seed: 1 });
    const half = datasetAtSize(ds, 16, 16);
    expect(datasetAtSize(ds, 16, 16)).toBe(half);
    expect(datasetAtSize(ds, 32, 32)).toBe(ds);
    expect(half.train.images.length).toBe(3 * 16 * 16 * 3);
    expect(new Set(half.val.masks)).toEqual(new Set([...half.val.masks].filter((v) => v < ds.numClasses)));
    // Nearest neighbour keeps the labels of the full-size pixels it samples.
    expect(half.train.masks[0]).toBe(ds.train.masks[32 + 1]);
  });

  it('the workload trains early epochs small, reports their resolution, and measures latency at the target size', async () => {
    const spec = parseSegSpec({ kind: 'segmentation', backend: 'wasm', latency_runs: 20, fidelity: 'epochs_resolution', dataset: { kind: 'synthetic-shapes', image_size: 32, train_size: 8, val_size: 4, seed: 2 } });
    const reports: { step: number; resolution: number; latency: number }[] = [];
    const start = tf.memory().numTensors;
    const ctx: WorkloadContext = {
      trialNumber: 0,
      seed: 1,
      budget: { name: 'epochs', min: 1, max: 9 },
      signal: new AbortController().signal,
      device: { gpu: null },
      setAttrs: () => undefined,
      report: async (step, v) => {
        if (typeof v !== 'number') reports.push({ step, resolution: v.resolution, latency: v.latency_ms });
        // Stop after the first full-size epoch, as a scheduler would.
        if (step === 4) throw new Error('stop');
      },
    };
    await expect(segmentationWorkload(spec)({ width: 4, depth: 2, batch_size: 4 }, ctx)).rejects.toThrow('stop');
    expect(reports.map((x) => x.resolution)).toEqual([8, 16, 16, 32]);
    expect(new Set(reports.map((x) => x.latency)).size).toBe(1);
    expect(tf.memory().numTensors).toBe(start);
  });

  it('rejects bad fidelity options in one line', () => {
    expect(() => parseSegSpec({ kind: 'segmentation', fidelity: 'pixels' })).toThrow(/workload.fidelity "pixels" is unknown; allowed: epochs, epochs_resolution/);
    expect(() => parseSegSpec({ kind: 'segmentation', reduction_factor: 3 })).toThrow(/reduction_factor applies only with fidelity: epochs_resolution/);
    expect(() => parseSegSpec({ kind: 'segmentation', fidelity: 'epochs_resolution', resolution_levels: 7 })).toThrow(/resolution_levels must be an integer in 1..4/);
  });
});
