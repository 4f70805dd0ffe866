import { describe, expect, it } from 'vitest';
import { syntheticStructures, STRUCTURE_CLASSES } from './synthetic-structures';
import { classFrequencies } from './dataset';
import { loadDataset, parseSegSpec, resolutionOf } from './workload';
import { loadSpaceFile } from '@segtune/space';
import { Rng } from '@segtune/core';
import { trialSettings } from './config';

describe('synthetic structures (imbalanced)', () => {
  it('is deterministic from its seed, and sizes agree on their common prefix', () => {
    const a = syntheticStructures({ imageSize: 32, trainSize: 5, valSize: 2, seed: 3 });
    const b = syntheticStructures({ imageSize: 32, trainSize: 8, valSize: 2, seed: 3 });
    const c = syntheticStructures({ imageSize: 32, trainSize: 5, valSize: 2, seed: 4 });
    expect(Array.from(a.train.images)).toEqual(Array.from(b.train.images.subarray(0, a.train.images.length)));
    expect(Array.from(a.val.masks)).toEqual(Array.from(b.val.masks));
    expect(Array.from(a.train.masks)).not.toEqual(Array.from(c.train.masks));
  });

  for (const size of [32, 64]) {
    it(`keeps the foreground at 1–4 % of the pixels, every class under 2 %, at ${size}×${size}`, () => {
      const ds = syntheticStructures({ imageSize: size, trainSize: 64, valSize: 4, seed: 1 });
      expect(ds.numClasses).toBe(STRUCTURE_CLASSES.length);
      const f = classFrequencies(ds.train, ds.numClasses);
      const fg = 1 - f[0];
      expect(fg).toBeGreaterThan(0.01);
      expect(fg).toBeLessThan(0.04);
      for (let k = 1; k < ds.numClasses; k++) {
        expect(f[k], STRUCTURE_CLASSES[k]).toBeGreaterThan(0.002);
        expect(f[k], STRUCTURE_CLASSES[k]).toBeLessThan(0.02);
      }
    });
  }

  it('draws vessels one pixel wide: few vessel pixels have a vessel neighbour on both sides across', () => {
    const n = 32;
    const ds = syntheticStructures({ imageSize: n, trainSize: 32, valSize: 1, seed: 2 });
    let vessel = 0;
    let thick = 0;
    for (let i = 0; i < ds.train.count; i++) {
      const m = ds.train.masks.subarray(i * n * n, (i + 1) * n * n);
      for (let y = 1; y < n - 1; y++) {
        for (let x = 1; x < n - 1; x++) {
          if (m[y * n + x] !== 1) continue;
          vessel++;
          // A 3×3 block fully of vessel means a structure thicker than one pixel.
          let all = true;
          for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) all &&= m[(y + dy) * n + x + dx] === 1;
          if (all) thick++;
        }
      }
    }
    expect(vessel).toBeGreaterThan(100);
    expect(thick / vessel).toBeLessThan(0.02);
  });

  it('is a dataset kind of the segmentation workload', () => {
    const ds = loadDataset(parseSegSpec({ kind: 'segmentation', dataset: { kind: 'synthetic-structures', image_size: 32, train_size: 4, val_size: 2, seed: 0 } }));
    expect(ds.name).toBe('synthetic-structures');
    expect(ds.train.count).toBe(4);
    expect(() => parseSegSpec({ kind: 'segmentation', dataset: { kind: 'synthetic-blobs' } })).toThrow(/allowed: synthetic-shapes, synthetic-structures, folder/);
    expect(() => parseSegSpec({ kind: 'segmentation', dataset: { kind: 'folder', path: 'x', ignore_index: 300 } })).toThrow(/ignore_index must be an integer in 0..255/);
  });

  it('search-spaces/unet-seg-imbalanced.yaml is a valid segmentation space whose every sampled configuration the workload accepts', () => {
    const { spec, space } = loadSpaceFile(new URL('../../../search-spaces/unet-seg-imbalanced.yaml', import.meta.url).pathname);
    const seg = parseSegSpec(spec.workload);
    expect(seg.dataset?.kind).toBe('synthetic-structures');
    expect(resolutionOf(seg)).toEqual({ reductionFactor: 3, levels: 2, minSide: 8 });
    const rng = new Rng(1);
    const losses = new Set<string>();
    for (let i = 0; i < 50; i++) {
      const params = space.decode(space.names.map(() => rng.random()));
      losses.add(trialSettings(params).loss.name);
    }
    expect([...losses].sort()).toEqual(['ce', 'ce_dice', 'dice', 'focal', 'tversky']);
  });
});
