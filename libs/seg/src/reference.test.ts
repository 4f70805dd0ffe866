import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from './backend';
import { syntheticShapes } from './synthetic-shapes';
import { trainUNet } from './train';
import { trialSettings } from './config';

// A real learning test: the reference configuration (width 8, depth 2 U-Net; Adam with a
// cosine schedule) trained from fixed seeds on 64×64 synthetic shapes for 8 epochs of 192
// images must segment the validation set with mIoU ≥ 0.8. About a minute on wasm.
beforeAll(async () => {
  await initBackend('wasm');
});

describe('reference configuration', () => {
  it('reaches validation mIoU >= 0.8 on 64x64 synthetic shapes', async () => {
    const ds = syntheticShapes({ imageSize: 64, trainSize: 192, valSize: 64, seed: 0 });
    const s = trialSettings({ width: 8, depth: 2, lr: 0.008, batch_size: 8, schedule: 'cosine', optimizer: 'adam' });
    const curve: number[] = [];
    const r = await trainUNet(
      ds,
      { ...s, model: { ...s.model, height: 64, widthPx: 64, channels: 3, numClasses: ds.numClasses }, epochs: 8, seed: 1 },
      { onEpoch: (e) => void curve.push(e.miou) },
    );
    r.model.dispose();
    expect(curve[0]).toBeLessThan(0.6);
    expect(r.final.miou, `mIoU by epoch: ${curve.map((v) => v.toFixed(3)).join(', ')}`).toBeGreaterThanOrEqual(0.8);
    expect(r.final.per_class_iou.every((v) => v > 0.5)).toBe(true);
  }, 240_000);
});
