import { Rng, UserError } from '@segtune/core';
import type { SegDataset, SegSplit } from './dataset';

export interface SyntheticShapesOptions {
  /** Square image side in pixels (or give height and width). */
  imageSize?: number;
  height?: number;
  width?: number;
  trainSize?: number;
  valSize?: number;
  seed?: number;
  /** Shapes per image, inclusive range. */
  minShapes?: number;
  maxShapes?: number;
  /** Per-pixel Gaussian noise standard deviation (in [0, 1] intensity units). */
  noise?: number;
}

export const SHAPE_CLASSES = ['background', 'circle', 'square', 'triangle', 'cross'] as const;

type Shape = 'circle' | 'square' | 'triangle' | 'cross';
const SHAPES: Shape[] = ['circle', 'square', 'triangle', 'cross'];

/**
 * Procedural segmentation data: ellipses, rectangles, triangles and crosses of varied size,
 * position, rotation and overlap (later shapes cover earlier ones) on textured, noisy
 * backgrounds with soft coloured distractor blobs. Each class has a hue tendency with wide
 * jitter, so colour alone is not enough near class boundaries and against the distractors:
 * a model must also use shape and context. Every image is a pure function of
 * (seed, split, index), so datasets of any size agree on their common prefix.
 */
export function syntheticShapes(options: SyntheticShapesOptions = {}): SegDataset {
  const height = options.height ?? options.imageSize ?? 64;
  const width = options.width ?? options.imageSize ?? 64;
  const trainSize = options.trainSize ?? 256;
  const valSize = options.valSize ?? 64;
  const seed = options.seed ?? 0;
  for (const [k, v, min] of [
    ['image_size', height, 8],
    ['image_size', width, 8],
    ['train_size', trainSize, 1],
    ['val_size', valSize, 1],
  ] as const) {
    if (!Number.isInteger(v) || v < min) throw new UserError(`synthetic-shapes: ${k} must be an integer >= ${min}, got ${v}`);
  }
  const gen = (split: string, count: number): SegSplit => {
    const images = new Float32Array(count * height * width * 3);
    const masks = new Uint8Array(count * height * width);
    for (let i = 0; i < count; i++) {
      drawSample(
        Rng.derive(seed, 'synthetic-shapes', split, i),
        height,
        width,
        images.subarray(i * height * width * 3, (i + 1) * height * width * 3),
        masks.subarray(i * height * width, (i + 1) * height * width),
        options,
      );
    }
    return { images, masks, count };
  };
  return {
    name: 'synthetic-shapes',
    height,
    width,
    channels: 3,
    numClasses: SHAPE_CLASSES.length,
    classNames: [...SHAPE_CLASSES],
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

/** Whether local coordinates (u, v), scaled so the shape's radius is 1, fall inside the shape. */
function inside(shape: Shape, u: number, v: number, aspect: number): boolean {
  switch (shape) {
    case 'circle':
      return u * u + (v * v) / (aspect * aspect) <= 1;
    case 'square':
      return Math.abs(u) <= 0.82 && Math.abs(v) <= 0.82 * aspect;
    case 'triangle':
      // Equilateral, vertices on the unit circle at 90°, 210° and 330°: three half-planes.
      return v >= -0.5 && 0.866 * u - 0.5 * v >= -0.5 && -0.866 * u - 0.5 * v >= -0.5;
    case 'cross': {
      const t = 0.34 * aspect;
      return (Math.abs(u) <= 1 && Math.abs(v) <= t) || (Math.abs(u) <= t && Math.abs(v) <= 1);
    }
  }
}

function drawSample(rng: Rng, h: number, w: number, img: Float32Array, mask: Uint8Array, o: SyntheticShapesOptions): void {
  const side = Math.min(h, w);
  // Background: a low-saturation base colour, two oriented sinusoidal textures and a smooth
  // brightness gradient.
  const base = hsv(rng.uniform(0, 360), rng.uniform(0, 0.35), rng.uniform(0.3, 0.8));
  const waves = [0, 1].map(() => {
    const angle = rng.uniform(0, Math.PI);
    const period = rng.uniform(3, 14) * (side / 64) + 2;
    return { cx: Math.cos(angle) / period, cy: Math.sin(angle) / period, amp: rng.uniform(0.03, 0.12), phase: rng.uniform(0, 2 * Math.PI), tint: [rng.uniform(0.6, 1.4), rng.uniform(0.6, 1.4), rng.uniform(0.6, 1.4)] };
  });
  const gAngle = rng.uniform(0, 2 * Math.PI);
  const gAmp = rng.uniform(0, 0.15);
  const gx = (Math.cos(gAngle) * gAmp) / side;
  const gy = (Math.sin(gAngle) * gAmp) / side;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const p = (y * w + x) * 3;
      const shade = gx * (x - w / 2) + gy * (y - h / 2);
      for (let c = 0; c < 3; c++) {
        let v = base[c] + shade;
        for (const wv of waves) v += wv.amp * wv.tint[c] * Math.sin(2 * Math.PI * (wv.cx * x + wv.cy * y) + wv.phase);
        img[p + c] = v;
      }
    }
  }
  // Distractors: soft saturated blobs that belong to the background class.
  const blobs = rng.int(3);
  for (let b = 0; b < blobs; b++) {
    const col = hsv(rng.uniform(0, 360), rng.uniform(0.4, 0.9), rng.uniform(0.5, 1));
    const bx = rng.uniform(0, w);
    const by = rng.uniform(0, h);
    const br = rng.uniform(0.08, 0.2) * side;
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const d2 = ((x - bx) ** 2 + (y - by) ** 2) / (br * br);
        if (d2 > 9) continue;
        const a = 0.75 * Math.exp(-d2);
        const p = (y * w + x) * 3;
        for (let c = 0; c < 3; c++) img[p + c] = img[p + c] * (1 - a) + col[c] * a;
      }
    }
  }
  // Shapes, drawn in order so that later ones cover earlier ones.
  const minShapes = o.minShapes ?? 2;
  const maxShapes = Math.max(minShapes, o.maxShapes ?? 4);
  const n = minShapes + rng.int(maxShapes - minShapes + 1);
  for (let s = 0; s < n; s++) {
    const cls = rng.int(SHAPES.length);
    const shape = SHAPES[cls];
    // Each class leans to its own hue (90° apart) with ±40° jitter.
    const col = hsv((cls * 90 + rng.uniform(-40, 40) + 360) % 360, rng.uniform(0.45, 1), rng.uniform(0.45, 1));
    const r = rng.uniform(0.12, 0.3) * side;
    const cx = rng.uniform(0.1, 0.9) * w;
    const cy = rng.uniform(0.1, 0.9) * h;
    const theta = rng.uniform(0, 2 * Math.PI);
    const aspect = rng.uniform(0.65, 1);
    const cos = Math.cos(theta);
    const sin = Math.sin(theta);
    const shadeX = rng.uniform(-0.15, 0.15) / r;
    const shadeY = rng.uniform(-0.15, 0.15) / r;
    const x0 = Math.max(0, Math.floor(cx - r - 1));
    const x1 = Math.min(w - 1, Math.ceil(cx + r + 1));
    const y0 = Math.max(0, Math.floor(cy - r - 1));
    const y1 = Math.min(h - 1, Math.ceil(cy + r + 1));
    for (let y = y0; y <= y1; y++) {
      for (let x = x0; x <= x1; x++) {
        const dx = x + 0.5 - cx;
        const dy = y + 0.5 - cy;
        const u = (cos * dx + sin * dy) / r;
        const v = (-sin * dx + cos * dy) / r;
        if (!inside(shape, u, v, aspect)) continue;
        const p = (y * w + x) * 3;
        const shade = shadeX * dx + shadeY * dy;
        for (let c = 0; c < 3; c++) img[p + c] = col[c] + shade;
        mask[y * w + x] = cls + 1;
      }
    }
  }
  // Sensor noise, then clip to [0, 1].
  const sd = o.noise ?? rng.uniform(0.03, 0.08);
  for (let i = 0; i < img.length; i++) {
    const v = img[i] + rng.normal(0, sd);
    img[i] = v < 0 ? 0 : v > 1 ? 1 : v;
  }
}
