import { UserError } from '@segtune/core';
import type { SegDataset, SegSplit } from './dataset';
import { resizeBilinear, resizeNearest } from './resize';

/**
 * Resolution as part of the fidelity: a trial trains its early epochs on down-scaled images and
 * reaches the target resolution for the last part of its budget ("train small, promote to full
 * size"). With a reduction factor η matching the scheduler's and a budget of R epochs, epoch e
 * trains at scale 2^-k with k = min(levels, ⌊log_η(R / e)⌋): for R = 9, η = 3 and two levels,
 * epoch 1 at 1/4, epochs 2–3 at 1/2, epochs 4–9 at full size. Every trial reports epoch e at the
 * same resolution, so rungs compare like with like, and a trial stopped at a low rung cost a
 * fraction of a full-size one.
 */
export interface ResolutionFidelity {
  reductionFactor: number;
  /** Halvings below the target resolution (2: down to a quarter). */
  levels: number;
  /** No side below this many pixels. */
  minSide: number;
}

export function checkResolutionFidelity(r: ResolutionFidelity): void {
  if (!(r.reductionFactor > 1)) throw new UserError(`workload.reduction_factor must be above 1, got ${r.reductionFactor}`);
  if (!(Number.isInteger(r.levels) && r.levels >= 1 && r.levels <= 4)) throw new UserError(`workload.resolution_levels must be an integer in 1..4, got ${r.levels}`);
}

/** The scale (1, 1/2, 1/4 …) epoch `epoch` (1-based) of a `totalEpochs` budget trains at. */
export function resolutionScale(r: ResolutionFidelity, epoch: number, totalEpochs: number): number {
  const k = Math.floor(Math.log(totalEpochs / epoch) / Math.log(r.reductionFactor) + 1e-9);
  return 2 ** -Math.max(0, Math.min(r.levels, k));
}

/** A side scaled and snapped down to a multiple of 2^depth, at least max(minSide, 2^depth) and at most the target. */
export function scaledSide(side: number, scale: number, depth: number, minSide: number): number {
  const m = 2 ** depth;
  const s = Math.floor((side * scale) / m) * m;
  return Math.min(side, Math.max(s, Math.ceil(Math.max(minSide, m) / m) * m));
}

const cache = new WeakMap<SegDataset, Map<string, SegDataset>>();

function rescaleSplit(split: SegSplit, h: number, w: number, ch: number, oh: number, ow: number): SegSplit {
  const images = new Float32Array(split.count * oh * ow * ch);
  const masks = new Uint8Array(split.count * oh * ow);
  for (let i = 0; i < split.count; i++) {
    images.set(resizeBilinear(split.images.subarray(i * h * w * ch, (i + 1) * h * w * ch), h, w, ch, oh, ow), i * oh * ow * ch);
    masks.set(resizeNearest(split.masks.subarray(i * h * w, (i + 1) * h * w), h, w, oh, ow), i * oh * ow);
  }
  return { images, masks, count: split.count };
}

/** The dataset at another resolution (images bilinear, masks nearest), built once per size. */
export function datasetAtSize(ds: SegDataset, height: number, width: number): SegDataset {
  if (height === ds.height && width === ds.width) return ds;
  let sizes = cache.get(ds);
  if (!sizes) cache.set(ds, (sizes = new Map()));
  const key = `${height}x${width}`;
  let out = sizes.get(key);
  if (!out) {
    out = { ...ds, height, width, train: rescaleSplit(ds.train, ds.height, ds.width, ds.channels, height, width), val: rescaleSplit(ds.val, ds.height, ds.width, ds.channels, height, width) };
    sizes.set(key, out);
  }
  return out;
}
