import { Rng, UserError } from '@segtune/core';
import { type Affine, IDENTITY, compose, warpBilinear, warpNearest } from './resize';

/** The augmentation operations, geometric ones first. */
export const AUGMENT_OPS = ['hflip', 'vflip', 'rotate', 'crop', 'scale', 'brightness', 'contrast', 'noise', 'cutout'] as const;
export type AugmentOp = (typeof AUGMENT_OPS)[number];
const GEOMETRIC = new Set<AugmentOp>(['hflip', 'vflip', 'rotate', 'crop', 'scale']);

/** Probability of applying an op to a sample, and its magnitude in [0, 1]. */
export interface OpSetting {
  p: number;
  m: number;
}

export interface AugmentPolicy {
  ops: Partial<Record<AugmentOp, OpSetting>>;
  /** RandAugment: per sample, apply `n` ops drawn from `ops`' keys (or all ops), each at magnitude `m`. */
  randAugment?: { n: number; m: number };
}

export const AUGMENT_PRESETS = ['none', 'light', 'medium', 'heavy'] as const;
export type AugmentPreset = (typeof AUGMENT_PRESETS)[number];

/**
 * What a magnitude of 1 means per op (0 is the identity): rotation up to ±45°, random resized
 * crop down to 25% of the area (aspect 3:4..4:3), zoom 0.6..1.4, brightness ±0.4, contrast
 * ×0.4..1.6, Gaussian noise sd up to 0.15, cutout of a square half the image side.
 */
const PRESETS: Record<AugmentPreset, AugmentPolicy['ops']> = {
  none: {},
  light: { hflip: { p: 0.5, m: 0 }, brightness: { p: 0.3, m: 0.3 }, contrast: { p: 0.3, m: 0.3 } },
  medium: {
    hflip: { p: 0.5, m: 0 },
    vflip: { p: 0.5, m: 0 },
    rotate: { p: 0.5, m: 0.5 },
    crop: { p: 0.3, m: 0.4 },
    brightness: { p: 0.5, m: 0.5 },
    contrast: { p: 0.5, m: 0.5 },
    noise: { p: 0.3, m: 0.4 },
  },
  heavy: {
    hflip: { p: 0.5, m: 0 },
    vflip: { p: 0.5, m: 0 },
    rotate: { p: 0.8, m: 0.8 },
    crop: { p: 0.6, m: 0.7 },
    scale: { p: 0.5, m: 0.6 },
    brightness: { p: 0.8, m: 0.7 },
    contrast: { p: 0.8, m: 0.7 },
    noise: { p: 0.6, m: 0.7 },
    cutout: { p: 0.5, m: 0.6 },
  },
};

export function presetPolicy(name: string, magnitude?: number): AugmentPolicy {
  if (!(AUGMENT_PRESETS as readonly string[]).includes(name)) {
    throw new UserError(`augmentation policy "${name}" is unknown; allowed: ${[...AUGMENT_PRESETS, 'randaugment', 'custom'].join(', ')}`);
  }
  const ops: AugmentPolicy['ops'] = {};
  for (const [op, s] of Object.entries(PRESETS[name as AugmentPreset])) {
    // A magnitude of 0.5 keeps the preset as written; 0 and 1 scale it down to nothing or up to double.
    ops[op as AugmentOp] = { p: s.p, m: magnitude === undefined ? s.m : Math.min(1, s.m * 2 * magnitude) };
  }
  return { ops };
}

function checkUnit(what: string, v: number): number {
  if (!(Number.isFinite(v) && v >= 0 && v <= 1)) throw new UserError(`augmentation: ${what} must be in [0, 1], got ${v}`);
  return v;
}

/**
 * Builds a policy from trial params: `augment` (a preset, `randaugment` or `custom`),
 * `augment_magnitude` (scales a preset's magnitudes; 0.5 = as written), `randaugment_n` and
 * `randaugment_m`, and explicit per-op overrides `aug_<op>` (probability) and `aug_<op>_mag`
 * (magnitude), e.g. `aug_rotate: 0.3, aug_rotate_mag: 0.6`.
 */
export function policyFromParams(params: Record<string, unknown>): AugmentPolicy {
  const name = String(params.augment ?? 'none');
  const magnitude = params.augment_magnitude === undefined ? undefined : checkUnit('augment_magnitude', Number(params.augment_magnitude));
  let policy: AugmentPolicy;
  if (name === 'randaugment') {
    const n = Number(params.randaugment_n ?? 2);
    if (!Number.isInteger(n) || n < 0 || n > AUGMENT_OPS.length) throw new UserError(`augmentation: randaugment_n must be an integer in 0..${AUGMENT_OPS.length}, got ${params.randaugment_n}`);
    policy = { ops: {}, randAugment: { n, m: checkUnit('randaugment_m', Number(params.randaugment_m ?? magnitude ?? 0.5)) } };
  } else if (name === 'custom') {
    policy = { ops: {} };
  } else {
    policy = presetPolicy(name, magnitude);
  }
  for (const op of AUGMENT_OPS) {
    const p = params[`aug_${op}`];
    const m = params[`aug_${op}_mag`];
    if (p === undefined && m === undefined) continue;
    const prev = policy.ops[op] ?? { p: 0, m: 0.5 };
    policy.ops[op] = { p: p === undefined ? prev.p : checkUnit(`aug_${op}`, Number(p)), m: m === undefined ? prev.m : checkUnit(`aug_${op}_mag`, Number(m)) };
  }
  return policy;
}

/** Geometric part of one op as an affine map in centred coordinates (output → source). */
function geometric(op: AugmentOp, m: number, rng: Rng, h: number, w: number): Affine {
  switch (op) {
    case 'hflip':
      return [-1, 0, 0, 0, 1, 0];
    case 'vflip':
      return [1, 0, 0, 0, -1, 0];
    case 'rotate': {
      const t = (rng.uniform(-1, 1) * 45 * m * Math.PI) / 180;
      const c = Math.cos(t);
      const s = Math.sin(t);
      return [c, -s, 0, s, c, 0];
    }
    case 'scale': {
      const z = 1 + rng.uniform(-1, 1) * 0.4 * m;
      return [1 / z, 0, 0, 0, 1 / z, 0];
    }
    case 'crop': {
      // Random resized crop: a region of area fraction [1 - 0.75m, 1] and aspect 3:4..4:3,
      // placed at random, stretched to the full output.
      const area = rng.uniform(1 - 0.75 * m, 1);
      const aspect = Math.exp(rng.uniform(Math.log(3 / 4), Math.log(4 / 3)) * m);
      const cw = Math.min(1, Math.sqrt(area * aspect));
      const chh = Math.min(1, Math.sqrt(area / aspect));
      const ox = rng.uniform(-(1 - cw) / 2, (1 - cw) / 2) * w;
      const oy = rng.uniform(-(1 - chh) / 2, (1 - chh) / 2) * h;
      return [cw, 0, ox, 0, chh, oy];
    }
    default:
      return IDENTITY;
  }
}

/**
 * Applies a policy to one sample in place of the given output buffers. Geometric ops are
 * composed into one affine map and applied once (bilinear for the image, nearest neighbour
 * for the mask, so both move together); photometric ops then touch the image only.
 */
export function augmentSample(
  image: Float32Array,
  mask: Uint8Array,
  h: number,
  w: number,
  ch: number,
  policy: AugmentPolicy,
  rng: Rng,
  outImage: Float32Array,
  outMask: Uint8Array,
): void {
  let chosen: [AugmentOp, number][];
  if (policy.randAugment) {
    const pool = (Object.keys(policy.ops).length ? Object.keys(policy.ops) : [...AUGMENT_OPS]) as AugmentOp[];
    chosen = rng
      .shuffle([...pool])
      .slice(0, policy.randAugment.n)
      .map((op) => [op, policy.randAugment!.m]);
  } else {
    chosen = [];
    for (const op of AUGMENT_OPS) {
      const s = policy.ops[op];
      if (s && s.p > 0 && rng.random() < s.p) chosen.push([op, s.m]);
    }
  }
  chosen.sort((a, b) => AUGMENT_OPS.indexOf(a[0]) - AUGMENT_OPS.indexOf(b[0]));
  let m: Affine = IDENTITY;
  let moved = false;
  for (const [op, mag] of chosen) {
    if (!GEOMETRIC.has(op)) continue;
    m = compose(m, geometric(op, mag, rng, h, w));
    moved = true;
  }
  if (moved) {
    // Centre the map: source = M · (out − centre) + centre.
    const full = compose(compose([1, 0, w / 2, 0, 1, h / 2], m), [1, 0, -w / 2, 0, 1, -h / 2]);
    warpBilinear(image, h, w, ch, full, outImage);
    warpNearest(mask, h, w, full, outMask);
  } else {
    outImage.set(image);
    outMask.set(mask);
  }
  for (const [op, mag] of chosen) {
    if (GEOMETRIC.has(op)) continue;
    photometric(op, mag, rng, outImage, h, w, ch);
  }
}

function photometric(op: AugmentOp, m: number, rng: Rng, img: Float32Array, h: number, w: number, ch: number): void {
  const n = img.length;
  const clip = (v: number) => (v < 0 ? 0 : v > 1 ? 1 : v);
  switch (op) {
    case 'brightness': {
      const d = rng.uniform(-1, 1) * 0.4 * m;
      for (let i = 0; i < n; i++) img[i] = clip(img[i] + d);
      return;
    }
    case 'contrast': {
      const f = 1 + rng.uniform(-1, 1) * 0.6 * m;
      let mean = 0;
      for (let i = 0; i < n; i++) mean += img[i];
      mean /= n;
      for (let i = 0; i < n; i++) img[i] = clip(mean + (img[i] - mean) * f);
      return;
    }
    case 'noise': {
      const sd = rng.uniform(0, 0.15 * m);
      for (let i = 0; i < n; i++) img[i] = clip(img[i] + rng.normal(0, sd));
      return;
    }
    case 'cutout': {
      const side = Math.max(1, Math.round(0.5 * m * Math.min(h, w)));
      const cx = rng.int(w);
      const cy = rng.int(h);
      for (let y = Math.max(0, cy - (side >> 1)); y < Math.min(h, cy - (side >> 1) + side); y++) {
        for (let x = Math.max(0, cx - (side >> 1)); x < Math.min(w, cx - (side >> 1) + side); x++) {
          for (let k = 0; k < ch; k++) img[(y * w + x) * ch + k] = 0.5;
        }
      }
      return;
    }
    default:
      return;
  }
}

/** Whether a policy changes anything (so the training loop can skip the copy). */
export function isIdentityPolicy(p: AugmentPolicy): boolean {
  if (p.randAugment) return p.randAugment.n === 0;
  return Object.values(p.ops).every((s) => !s || s.p <= 0);
}
