/**
 * Affine resampling of HWC float images (bilinear) and HW class masks (nearest neighbour).
 * Written by hand rather than with tf.image because augmentation runs on typed arrays, one
 * sample at a time, with no tensors to dispose and the same result on every backend.
 *
 * An `Affine` maps an output pixel centre (x + 0.5, y + 0.5) to a source position:
 * sx = a*x + b*y + c, sy = d*x + e*y + f (pixel units, origin at the top-left corner).
 */
export type Affine = [number, number, number, number, number, number];

/** Resamples an HWC image through `m`; positions outside the source take `fill`. */
export function warpBilinear(src: Float32Array, h: number, w: number, ch: number, m: Affine, out: Float32Array, oh = h, ow = w, fill = 0): Float32Array {
  const [a, b, c, d, e, f] = m;
  for (let y = 0; y < oh; y++) {
    for (let x = 0; x < ow; x++) {
      const px = x + 0.5;
      const py = y + 0.5;
      const sx = a * px + b * py + c;
      const sy = d * px + e * py + f;
      const o = (y * ow + x) * ch;
      if (sx < 0 || sy < 0 || sx >= w || sy >= h) {
        for (let k = 0; k < ch; k++) out[o + k] = fill;
        continue;
      }
      // Sample at pixel centres: the continuous position sx maps to index sx - 0.5.
      const fx = sx - 0.5;
      const fy = sy - 0.5;
      let x0 = Math.floor(fx);
      let y0 = Math.floor(fy);
      const tx = fx - x0;
      const ty = fy - y0;
      let x1 = x0 + 1;
      let y1 = y0 + 1;
      if (x0 < 0) x0 = 0;
      if (y0 < 0) y0 = 0;
      if (x1 > w - 1) x1 = w - 1;
      if (y1 > h - 1) y1 = h - 1;
      const i00 = (y0 * w + x0) * ch;
      const i01 = (y0 * w + x1) * ch;
      const i10 = (y1 * w + x0) * ch;
      const i11 = (y1 * w + x1) * ch;
      for (let k = 0; k < ch; k++) {
        const top = src[i00 + k] + (src[i01 + k] - src[i00 + k]) * tx;
        const bot = src[i10 + k] + (src[i11 + k] - src[i10 + k]) * tx;
        out[o + k] = top + (bot - top) * ty;
      }
    }
  }
  return out;
}

/** Resamples a HW mask through `m` by nearest neighbour; positions outside take `fill`. */
export function warpNearest(src: Uint8Array, h: number, w: number, m: Affine, out: Uint8Array, oh = h, ow = w, fill = 0): Uint8Array {
  const [a, b, c, d, e, f] = m;
  for (let y = 0; y < oh; y++) {
    for (let x = 0; x < ow; x++) {
      const px = x + 0.5;
      const py = y + 0.5;
      const sx = a * px + b * py + c;
      const sy = d * px + e * py + f;
      out[y * ow + x] = sx < 0 || sy < 0 || sx >= w || sy >= h ? fill : src[Math.floor(sy) * w + Math.floor(sx)];
    }
  }
  return out;
}

function scaleAffine(h: number, w: number, oh: number, ow: number): Affine {
  return [w / ow, 0, 0, 0, h / oh, 0];
}

export function resizeBilinear(src: Float32Array, h: number, w: number, ch: number, oh: number, ow: number): Float32Array {
  return warpBilinear(src, h, w, ch, scaleAffine(h, w, oh, ow), new Float32Array(oh * ow * ch), oh, ow);
}

export function resizeNearest(src: Uint8Array, h: number, w: number, oh: number, ow: number): Uint8Array {
  return warpNearest(src, h, w, scaleAffine(h, w, oh, ow), new Uint8Array(oh * ow), oh, ow);
}

/** m1 ∘ m2: first apply m2 (output → intermediate), then m1 (intermediate → source). */
export function compose(m1: Affine, m2: Affine): Affine {
  const [a1, b1, c1, d1, e1, f1] = m1;
  const [a2, b2, c2, d2, e2, f2] = m2;
  return [a1 * a2 + b1 * d2, a1 * b2 + b1 * e2, a1 * c2 + b1 * f2 + c1, d1 * a2 + e1 * d2, d1 * b2 + e1 * e2, d1 * c2 + e1 * f2 + f1];
}

export const IDENTITY: Affine = [1, 0, 0, 0, 1, 0];
