import { describe, expect, it } from 'vitest';
import { syntheticShapes, SHAPE_CLASSES } from './synthetic-shapes';
import { classFrequencies } from './dataset';

describe('synthetic shapes', () => {
  it('is deterministic from its seed, and sizes agree on their common prefix', () => {
    const a = syntheticShapes({ imageSize: 32, trainSize: 6, valSize: 2, seed: 5 });
    const b = syntheticShapes({ imageSize: 32, trainSize: 9, valSize: 3, seed: 5 });
    const c = syntheticShapes({ imageSize: 32, trainSize: 6, valSize: 2, seed: 6 });
    expect(Array.from(a.train.images)).toEqual(Array.from(b.train.images.subarray(0, a.train.images.length)));
    expect(Array.from(a.val.masks)).toEqual(Array.from(b.val.masks.subarray(0, a.val.masks.length)));
    expect(Array.from(a.train.masks)).not.toEqual(Array.from(c.train.masks));
    // Train and validation images differ.
    expect(Array.from(a.val.images.subarray(0, 100))).not.toEqual(Array.from(a.train.images.subarray(0, 100)));
  });

  it('draws every shape class on a textured background, at any size', () => {
    const ds = syntheticShapes({ imageSize: 48, trainSize: 40, valSize: 4, seed: 1 });
    expect(ds.numClasses).toBe(SHAPE_CLASSES.length);
    expect(ds.numClasses).toBeGreaterThanOrEqual(5);
    const f = classFrequencies(ds.train, ds.numClasses);
    for (let k = 1; k < ds.numClasses; k++) expect(f[k], SHAPE_CLASSES[k]).toBeGreaterThan(0.01);
    expect(f[0]).toBeGreaterThan(0.4);
    // Background is not flat: its pixels vary within an image.
    const img = ds.train.images.subarray(0, 48 * 48 * 3);
    const bg: number[] = [];
    for (let i = 0; i < 48 * 48; i++) if (ds.train.masks[i] === 0) bg.push(img[i * 3]);
    const mean = bg.reduce((s, v) => s + v, 0) / bg.length;
    const sd = Math.sqrt(bg.reduce((s, v) => s + (v - mean) ** 2, 0) / bg.length);
    expect(sd).toBeGreaterThan(0.03);
    let lo = Infinity;
    let hi = -Infinity;
    for (const v of ds.train.images) {
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    expect(lo).toBeGreaterThanOrEqual(0);
    expect(hi).toBeLessThanOrEqual(1);
    const rect = syntheticShapes({ height: 24, width: 40, trainSize: 2, valSize: 1 });
    expect(rect.train.masks.length).toBe(2 * 24 * 40);
  });

  it('rejects bad sizes with one line', () => {
    expect(() => syntheticShapes({ imageSize: 4 })).toThrow(/synthetic-shapes: image_size must be an integer >= 8, got 4/);
    expect(() => syntheticShapes({ trainSize: 0 })).toThrow(/train_size must be an integer >= 1/);
  });
});
