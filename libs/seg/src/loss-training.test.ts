import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { initBackend } from './backend';
import { syntheticStructures } from './synthetic-structures';
import { folderDataset } from './folder-dataset';
import { trainUNet, evaluate, type TrainConfig } from './train';
import { trialSettings } from './config';
import { presetPolicy } from './augment';
import type { SegDataset } from './dataset';

const root = mkdtempSync(join(tmpdir(), 'segtune-loss-'));
beforeAll(async () => {
  await initBackend('wasm');
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const ds = syntheticStructures({ imageSize: 16, trainSize: 8, valSize: 4, seed: 1 });
const cfg = (params: Record<string, string | number>, d: SegDataset = ds): TrainConfig => {
  const s = trialSettings({ width: 4, depth: 1, batch_size: 4, lr: 0.01, ...params });
  return { ...s, model: { ...s.model, height: d.height, widthPx: d.width, channels: d.channels, numClasses: d.numClasses }, epochs: 2, augment: presetPolicy('light'), seed: 3 };
};

describe('training with the searchable losses', () => {
  for (const params of <Record<string, string | number>[]>[
    { loss: 'dice' },
    { loss: 'ce_dice', class_weights: 'median' },
    { loss: 'focal', focal_gamma: 1, class_weights: 'inverse' },
    { loss: 'tversky', tversky_alpha: 0.2, tversky_beta: 0.8 },
  ]) {
    it(`${JSON.stringify(params)} trains with a finite, falling loss and leaks no tensors`, async () => {
      const start = tf.memory().numTensors;
      const losses: number[] = [];
      const r = await trainUNet(ds, { ...cfg(params), epochs: 3 }, { onEpoch: (e) => void losses.push(e.loss) });
      r.model.dispose();
      expect(tf.memory().numTensors).toBe(start);
      expect(losses.every(Number.isFinite)).toBe(true);
      expect(losses[2]).toBeLessThan(losses[0]);
    });
  }

  it('rejects unknown losses and weightings and out-of-range loss params in one line', () => {
    expect(() => trialSettings({ loss: 'lovasz' })).toThrow(/"loss": "lovasz" is unknown; allowed: ce, dice, ce_dice, focal, tversky/);
    expect(() => trialSettings({ class_weights: 'sqrt' })).toThrow(/"class_weights": "sqrt" is unknown; allowed: none, inverse, median/);
    expect(() => trialSettings({ tversky_beta: 1.5 })).toThrow(/tversky_beta" must be in \[0, 1\]/);
    expect(() => trialSettings({ focal_gamma: -1 })).toThrow(/focal_gamma" must be in \[0, 10\]/);
  });
});

function png(w: number, h: number, px: (x: number, y: number) => [number, number, number]): Buffer {
  const p = new PNG({ width: w, height: h });
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const o = (y * w + x) * 4;
      [p.data[o], p.data[o + 1], p.data[o + 2]] = px(x, y);
      p.data[o + 3] = 255;
    }
  return PNG.sync.write(p);
}

describe('ignore_index (unlabelled pixels)', () => {
  // Pascal VOC style: class 1 squares with a 255 border, background elsewhere.
  const dir = join(root, 'voc');
  mkdirSync(join(dir, 'images'), { recursive: true });
  mkdirSync(join(dir, 'masks'), { recursive: true });
  const label = (x: number, y: number, i: number) => {
    const inX = x >= 2 + (i % 3) && x < 8 + (i % 3);
    const inY = y >= 3 && y < 9;
    const edge = (x === 1 + (i % 3) || x === 8 + (i % 3)) && y >= 2 && y < 10;
    return edge ? 255 : inX && inY ? 1 : 0;
  };
  for (let i = 0; i < 6; i++) {
    writeFileSync(join(dir, 'images', `s${i}.png`), png(12, 12, (x, y) => (label(x, y, i) === 1 ? [200, 40, 40] : [40, 40, 200])));
    writeFileSync(join(dir, 'masks', `s${i}.png`), png(12, 12, (x, y) => { const v = label(x, y, i); return [v, v, v]; }));
  }

  it('a folder dataset rejects 255 without ignore_index and keeps it as unlabelled with it', () => {
    expect(() => folderDataset({ path: dir, numClasses: 2 })).toThrow(/class index 255 .* allowed 0..1 \(num_classes 2\)$/);
    const d = folderDataset({ path: dir, numClasses: 2, ignoreIndex: 255, imageSize: 12 });
    expect(d.ignoreIndex).toBe(255);
    expect(Array.from(d.train.masks).filter((v) => v === 255).length).toBeGreaterThan(0);
    // Without num_classes the count comes from the real classes, not from 255.
    expect(folderDataset({ path: dir, ignoreIndex: 255 }).numClasses).toBe(2);
  });

  it('training and evaluation leave unlabelled pixels out', async () => {
    const d = folderDataset({ path: dir, numClasses: 2, ignoreIndex: 255 });
    const r = await trainUNet(d, { ...cfg({ loss: 'ce_dice', class_weights: 'inverse' }, d), epochs: 2, augment: presetPolicy('none') });
    const cm = await evaluate(r.model, d, d.val);
    r.model.dispose();
    const labelled = Array.from(d.val.masks).filter((v) => v !== 255).length;
    expect(cm.counts.reduce((a, b) => a + b, 0)).toBe(labelled);
    expect(Number.isFinite(r.final.loss)).toBe(true);
  });
});
