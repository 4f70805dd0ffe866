import { Rng, UserError } from '@segtune/core';
import type { SegDataset, SegSplit } from './dataset';

export interface SyntheticStructuresOptions {
  imageSize?: number;
  trainSize?: number;
  valSize?: number;
  seed?: number;
  /** Per-pixel Gaussian noise standard deviation (in [0, 1] intensity units). */
  noise?: number;
}

export const STRUCTURE_CLASSES = ['background', 'vessel', 'spot', 'ring'] as const;

/**
 * Procedural, strongly imbalanced segmentation data with real structure, the kind that makes
 * the choice of loss matter (retinal vessels, cells, small lesions): on a textured background,
 * 1-px-wide smooth curves (`vessel`), small discs of radius 1–2 px (`spot`) and thin rings of
 * radius 2.5–4 px (`ring`); together about 2–3 % of the pixels (each class under 1.5 %). Each class has a hue tendency
 * with wide jitter, the structures are faint against noise, and the background carries
 * distractors of the same colours (broad soft streaks and large blobs), so a model has to use
 * thinness and shape, not colour alone. The number of structures grows with the image area.
 * Every image is a pure function of (seed, split, index).
 */
export function syntheticStructures(options: SyntheticStructuresOptions = {}): SegDataset {
  const side = options.imageSize ?? 32;
  const trainSize = options.trainSize ?? 256;
  const valSize = options.valSize ?? 64;
  const seed = options.seed ?? 0;
  for (const [k, v, min] of [
    ['image_size', side, 16],
    ['train_size', trainSize, 1],
    ['val_size', valSize, 1],
  ] as const) {
    if (!Number.isInteger(v) || v < min) throw new UserError(`synthetic-structures: ${k} must be an integer >= ${min}, got ${v}`);
  }
  const gen = (split: string, count: number): SegSplit => {
    const px = side * side;
    const images = new Float32Array(count * px * 3);
    const masks = new Uint8Array(count * px);
    for (let i = 0; i < count; i++) {
      drawSample(Rng.derive(seed, 'synthetic-structures', split, i), side, images.subarray(i * px * 3, (i + 1) * px * 3), masks.subarray(i * px, (i + 1) * px), options.noise);
    }
    return { images, masks, count };
  };
  return {
    name: 'synthetic-structures',
    height: side,
    width: side,
    channels: 3,
    numClasses: STRUCTURE_CLASSES.length,
    classNames: [...STRUCTURE_CLASSES],
    train: gen('train', trainSize),
    val: gen('val', valSize),
  };
}

function hsv(h: number, s: number, v: number): [number, number, number] {
  const f = (n: number) => {
    const k = (n + h / 60) % 6;
    return v - v * s * Math.max(0, Math.min(k, 4 - k, 1));
  };
  return [f(5), f(3), f(1)];
}

/** Class hue tendencies (vessel, spot, ring), jittered ±35° per structure. */
const HUES = [0, 120, 240];

function drawSample(rng: Rng, n: number, img: Float32Array, mask: Uint8Array, noise?: number): void {
  const area = (n * n) / 1024;
  const base = hsv(rng.uniform(0, 360), rng.uniform(0, 0.3), rng.uniform(0.35, 0.65));
  const angle = rng.uniform(0, Math.PI);
  const period = rng.uniform(4, 12) * (n / 32);
  const amp = rng.uniform(0.02, 0.08);
  const phase = rng.uniform(0, 2 * Math.PI);
  for (let y = 0; y < n; y++) {
    for (let x = 0; x < n; x++) {
      const t = amp * Math.sin((2 * Math.PI * (Math.cos(angle) * x + Math.sin(angle) * y)) / period + phase);
      for (let c = 0; c < 3; c++) img[(y * n + x) * 3 + c] = base[c] + t;
    }
  }
  const paint = (x: number, y: number, col: number[], a: number, cls: number) => {
    const xi = Math.floor(x);
    const yi = Math.floor(y);
    if (xi < 0 || yi < 0 || xi >= n || yi >= n) return;
    const p = (yi * n + xi) * 3;
    for (let c = 0; c < 3; c++) img[p + c] = img[p + c] * (1 - a) + col[c] * a;
    if (cls > 0) mask[yi * n + xi] = cls;
  };
  const colour = (cls: number) => hsv((HUES[cls - 1] + rng.uniform(-35, 35) + 360) % 360, rng.uniform(0.35, 0.9), rng.uniform(0.45, 1));
  // Distractors in the structures' own colours: soft broad streaks and large faint blobs.
  const distractors = Math.round(area * rng.uniform(1, 3));
  for (let d = 0; d < distractors; d++) {
    const col = colour(1 + rng.int(3));
    const cx = rng.uniform(0, n);
    const cy = rng.uniform(0, n);
    const r = rng.uniform(0.15, 0.3) * n;
    const streak = rng.random() < 0.5;
    const th = rng.uniform(0, Math.PI);
    for (let y = 0; y < n; y++) {
      for (let x = 0; x < n; x++) {
        const dx = x + 0.5 - cx;
        const dy = y + 0.5 - cy;
        // A streak is a wide band (≥ 4 px, unlike a vessel); a blob is a broad Gaussian.
        const d2 = streak ? ((-Math.sin(th) * dx + Math.cos(th) * dy) / (0.12 * r)) ** 2 + ((Math.cos(th) * dx + Math.sin(th) * dy) / (2 * r)) ** 2 : (dx * dx + dy * dy) / (r * r);
        if (d2 < 6) paint(x, y, col, 0.45 * Math.exp(-d2), 0);
      }
    }
  }
  // Vessels: smooth random walks, one pixel wide, 0.3–0.7 image sides long (so their count
  // grows with the side, not the area, to keep their pixel share).
  const vessels = Math.max(1, Math.round((n / 32) * rng.uniform(0.5, 1.2)));
  for (let v = 0; v < vessels; v++) {
    const col = colour(1);
    const a = rng.uniform(0.55, 0.85);
    let x = rng.uniform(0.1, 0.9) * n;
    let y = rng.uniform(0.1, 0.9) * n;
    let dir = rng.uniform(0, 2 * Math.PI);
    let turn = 0;
    const steps = Math.round(rng.uniform(0.3, 0.7) * n);
    let lastX = -1;
    let lastY = -1;
    for (let s = 0; s < steps * 2; s++) {
      turn = 0.8 * turn + rng.normal(0, 0.08);
      dir += turn;
      x += 0.5 * Math.cos(dir);
      y += 0.5 * Math.sin(dir);
      if (Math.floor(x) !== lastX || Math.floor(y) !== lastY) paint(x, y, col, a, 1);
      lastX = Math.floor(x);
      lastY = Math.floor(y);
    }
  }
  // Spots: small filled discs.
  const spots = Math.round(area * rng.uniform(0.5, 1.5));
  for (let s = 0; s < spots; s++) {
    const col = colour(2);
    const a = rng.uniform(0.6, 0.9);
    const cx = rng.uniform(2, n - 2);
    const cy = rng.uniform(2, n - 2);
    const r = rng.uniform(1, 2);
    for (let y = Math.floor(cy - r); y <= Math.ceil(cy + r); y++) {
      for (let x = Math.floor(cx - r); x <= Math.ceil(cx + r); x++) {
        if ((x + 0.5 - cx) ** 2 + (y + 0.5 - cy) ** 2 <= r * r) paint(x, y, col, a, 2);
      }
    }
  }
  // Rings: thin circles with a background-coloured centre.
  const rings = Math.round(area * rng.uniform(0, 1));
  for (let s = 0; s < rings; s++) {
    const col = colour(3);
    const a = rng.uniform(0.6, 0.9);
    const cx = rng.uniform(4, n - 4);
    const cy = rng.uniform(4, n - 4);
    const r = rng.uniform(2.5, 4);
    for (let y = Math.floor(cy - r - 1); y <= Math.ceil(cy + r + 1); y++) {
      for (let x = Math.floor(cx - r - 1); x <= Math.ceil(cx + r + 1); x++) {
        const d = Math.hypot(x + 0.5 - cx, y + 0.5 - cy);
        if (Math.abs(d - r) <= 0.55) paint(x, y, col, a, 3);
      }
    }
  }
  const sd = noise ?? rng.uniform(0.03, 0.07);
  for (let i = 0; i < img.length; i++) {
    const v = img[i] + rng.normal(0, sd);
    img[i] = v < 0 ? 0 : v > 1 ? 1 : v;
  }
}
