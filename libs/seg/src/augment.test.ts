import { describe, expect, it } from 'vitest';
import { Rng } from '@segtune/core';
import { AUGMENT_OPS, augmentSample, policyFromParams, presetPolicy, type AugmentOp, type AugmentPolicy } from './augment';

const H = 128;
const W = 112;
// Class k > 0 lights channel k - 1 alone; background is black. A bilinear mix at a border is
// then decoded to its dominant class, so the mask can be recomputed from the pixels of any
// geometrically transformed image.
const classOf = (image: Float32Array, i: number): number => {
  let best = 0;
  for (let c = 1; c < 3; c++) if (image[i * 3 + c] > image[i * 3 + best]) best = c;
  return image[i * 3 + best] < 0.5 ? 0 : best + 1;
};

function codedSample(seed: number): { image: Float32Array; mask: Uint8Array } {
  const rng = new Rng(seed);
  const mask = new Uint8Array(H * W);
  for (let r = 0; r < 3; r++) {
    const cls = 1 + rng.int(3);
    const x0 = 8 + rng.int(W - 48);
    const y0 = 8 + rng.int(H - 48);
    const w = 24 + rng.int(24);
    const h = 24 + rng.int(24);
    for (let y = y0; y < Math.min(H, y0 + h); y++) for (let x = x0; x < Math.min(W, x0 + w); x++) mask[y * W + x] = cls;
  }
  const image = new Float32Array(H * W * 3);
  for (let i = 0; i < H * W; i++) if (mask[i] > 0) image[i * 3 + mask[i] - 1] = 1;
  return { image, mask };
}

/** Share of pixels whose recomputed class differs from the mask; throws if one is not at a border. */
function disagreement(image: Float32Array, mask: Uint8Array): number {
  let bad = 0;
  for (let i = 0; i < mask.length; i++) {
    if (classOf(image, i) === mask[i]) continue;
    bad++;
    const x = i % W;
    const y = Math.floor(i / W);
    let border = false;
    for (let dy = -1; dy <= 1; dy++) {
      for (let dx = -1; dx <= 1; dx++) {
        const xx = x + dx;
        const yy = y + dy;
        if (xx >= 0 && yy >= 0 && xx < W && yy < H && mask[yy * W + xx] !== mask[i]) border = true;
      }
    }
    if (!border) throw new Error(`pixel (${x}, ${y}) disagrees away from any border`);
  }
  return bad / mask.length;
}

function apply(policy: AugmentPolicy, seed: number, sampleSeed = 1) {
  const { image, mask } = codedSample(sampleSeed);
  const outImage = new Float32Array(image.length);
  const outMask = new Uint8Array(mask.length);
  augmentSample(image, mask, H, W, 3, policy, new Rng(seed), outImage, outMask);
  return { image, mask, outImage, outMask };
}

describe('augmentation', () => {
  const geometric: AugmentOp[] = ['hflip', 'vflip', 'rotate', 'crop', 'scale'];
  for (const op of geometric) {
    it(`${op} moves image and mask together (≤1% disagreement)`, () => {
      for (let seed = 0; seed < 10; seed++) {
        const { mask, outImage, outMask } = apply({ ops: { [op]: { p: 1, m: 1 } } }, seed, seed + 1);
        expect(disagreement(outImage, outMask)).toBeLessThanOrEqual(0.01);
        if (op === 'hflip') {
          // Exact: the first column of the output is the last of the input.
          for (let y = 0; y < H; y++) expect(outMask[y * W]).toBe(mask[y * W + W - 1]);
        }
      }
    });
  }

  it('the combined geometric ops of the heavy preset and RandAugment stay aligned', () => {
    const heavyGeo: AugmentPolicy = { ops: { hflip: { p: 0.5, m: 0 }, vflip: { p: 0.5, m: 0 }, rotate: { p: 1, m: 1 }, crop: { p: 1, m: 1 }, scale: { p: 1, m: 1 } } };
    const ra: AugmentPolicy = { ops: { hflip: { p: 1, m: 1 }, rotate: { p: 1, m: 1 }, crop: { p: 1, m: 1 }, scale: { p: 1, m: 1 } }, randAugment: { n: 3, m: 0.9 } };
    let changed = 0;
    for (let seed = 0; seed < 12; seed++) {
      for (const p of [heavyGeo, ra]) {
        const { mask, outImage, outMask } = apply(p, seed, seed + 7);
        expect(disagreement(outImage, outMask)).toBeLessThanOrEqual(0.01);
        if (outMask.some((v, i) => v !== mask[i])) changed++;
      }
    }
    expect(changed).toBeGreaterThan(20);
  });

  it('photometric ops change the image but never the mask', () => {
    for (const op of ['brightness', 'contrast', 'noise', 'cutout'] as const) {
      const { image, mask, outImage, outMask } = apply({ ops: { [op]: { p: 1, m: 1 } } }, 3);
      expect(Array.from(outMask)).toEqual(Array.from(mask));
      let diff = 0;
      for (let i = 0; i < image.length; i++) diff += Math.abs(image[i] - outImage[i]);
      expect(diff, op).toBeGreaterThan(0);
      for (const v of outImage) expect(v >= 0 && v <= 1).toBe(true);
    }
  });

  it('is deterministic for a seed and varies across seeds', () => {
    const p = presetPolicy('heavy');
    const a = apply(p, 42);
    const b = apply(p, 42);
    const c = apply(p, 43);
    expect(Array.from(a.outImage)).toEqual(Array.from(b.outImage));
    expect(Array.from(a.outImage)).not.toEqual(Array.from(c.outImage));
  });

  it('the none preset is the identity', () => {
    const { image, mask, outImage, outMask } = apply(presetPolicy('none'), 1);
    expect(Array.from(outImage)).toEqual(Array.from(image));
    expect(Array.from(outMask)).toEqual(Array.from(mask));
  });

  it('builds policies from params: presets, magnitude, RandAugment and per-op overrides', () => {
    expect(policyFromParams({ augment: 'medium', augment_magnitude: 0.5 }).ops.rotate).toEqual({ p: 0.5, m: 0.5 });
    expect(policyFromParams({ augment: 'medium', augment_magnitude: 1 }).ops.rotate).toEqual({ p: 0.5, m: 1 });
    expect(policyFromParams({ augment: 'medium', augment_magnitude: 0 }).ops.rotate).toEqual({ p: 0.5, m: 0 });
    expect(policyFromParams({ augment: 'randaugment', randaugment_n: 2, randaugment_m: 0.3 }).randAugment).toEqual({ n: 2, m: 0.3 });
    const custom = policyFromParams({ augment: 'custom', aug_rotate: 0.3, aug_rotate_mag: 0.6, aug_cutout: 0.2 });
    expect(custom.ops).toEqual({ rotate: { p: 0.3, m: 0.6 }, cutout: { p: 0.2, m: 0.5 } });
    expect(policyFromParams({ augment: 'light', aug_hflip: 0 }).ops.hflip).toEqual({ p: 0, m: 0 });
    expect(() => policyFromParams({ augment: 'extreme' })).toThrow(/augmentation policy "extreme" is unknown; allowed: none, light/);
    expect(() => policyFromParams({ augment: 'light', aug_rotate: 2 })).toThrow(/aug_rotate must be in \[0, 1\]/);
    expect(AUGMENT_OPS).toHaveLength(9);
  });
});
