import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { PNG } from 'pngjs';
import jpeg from 'jpeg-js';
import { Rng, UserError } from '@segtune/core';
import type { SegDataset, SegSplit } from './dataset';
import { resizeBilinear, resizeNearest } from './resize';

export interface FolderDatasetOptions {
  /** Folder holding `images/` and `masks/`. */
  path: string;
  /** Number of classes (background included); by default the largest index found plus one. */
  numClasses?: number;
  classNames?: string[];
  /** Resize every image (bilinear) and mask (nearest) to this square side; required when sizes differ. */
  imageSize?: number;
  /** Share of the samples held out for validation. */
  valFraction?: number;
  seed?: number;
  /** Mask value of unlabelled pixels (e.g. 255 in Pascal VOC); kept as is, not a class. */
  ignoreIndex?: number;
}

export const IMAGE_EXTS = new Set(['.png', '.jpg', '.jpeg']);

export interface Decoded {
  width: number;
  height: number;
  rgba: Uint8Array;
  palette?: number[][];
}

export function decodeImage(file: string): Decoded {
  const buf = readFileSync(file);
  const ext = extname(file).toLowerCase();
  try {
    if (ext === '.png') {
      const png = PNG.sync.read(buf) as unknown as { width: number; height: number; data: Buffer; palette?: number[][]; colorType: number };
      return { width: png.width, height: png.height, rgba: png.data, palette: png.colorType === 3 ? png.palette : undefined };
    }
    const img = jpeg.decode(buf, { useTArray: true, formatAsRGBA: true, maxMemoryUsageInMB: 1024 });
    return { width: img.width, height: img.height, rgba: img.data };
  } catch (e) {
    throw new UserError(`folder dataset: cannot decode ${file}: ${(e as Error).message.split('\n')[0]}`);
  }
}

/**
 * Class indices of a mask PNG: the palette index for indexed (Pascal VOC style) PNGs, the grey
 * value for greyscale ones, the red channel for RGB ones whose channels are equal.
 */
export function maskIndices(file: string, d: Decoded): Uint8Array {
  const n = d.width * d.height;
  const out = new Uint8Array(n);
  if (d.palette) {
    // pngjs expands palettes to RGBA; map each colour back to its first palette index.
    const lookup = new Map<number, number>();
    d.palette.forEach((c, i) => {
      const key = (c[0] << 16) | (c[1] << 8) | c[2];
      if (!lookup.has(key)) lookup.set(key, i);
    });
    for (let i = 0; i < n; i++) {
      const key = (d.rgba[i * 4] << 16) | (d.rgba[i * 4 + 1] << 8) | d.rgba[i * 4 + 2];
      out[i] = lookup.get(key) ?? 0;
    }
    return out;
  }
  for (let i = 0; i < n; i++) {
    const r = d.rgba[i * 4];
    if (r !== d.rgba[i * 4 + 1] || r !== d.rgba[i * 4 + 2]) {
      throw new UserError(`folder dataset: mask ${file} is an RGB colour image; masks must be indexed or greyscale PNGs of class indices`);
    }
    out[i] = r;
  }
  return out;
}

/**
 * A user's dataset: `images/NAME.(png|jpg|jpeg)` with `masks/NAME.png` of class indices.
 * Problems (missing mask, size mismatch, index out of range) are one-line UserErrors naming
 * the file.
 */
export function folderDataset(o: FolderDatasetOptions): SegDataset {
  const imagesDir = join(o.path, 'images');
  const masksDir = join(o.path, 'masks');
  for (const dir of [imagesDir, masksDir]) {
    if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new UserError(`folder dataset: ${dir} is not a folder (expected images/ and masks/ under ${o.path})`);
  }
  const files = readdirSync(imagesDir)
    .filter((f) => IMAGE_EXTS.has(extname(f).toLowerCase()))
    .sort();
  if (files.length < 2) throw new UserError(`folder dataset: ${imagesDir} holds ${files.length} PNG/JPEG images; at least 2 are needed (train and validation)`);
  const samples: { image: Float32Array; mask: Uint8Array; file: string }[] = [];
  let size: { height: number; width: number } | undefined = o.imageSize ? { height: o.imageSize, width: o.imageSize } : undefined;
  let maxIndex = 0;
  for (const f of files) {
    const stem = basename(f, extname(f));
    const maskFile = join(masksDir, `${stem}.png`);
    if (!existsSync(maskFile)) throw new UserError(`folder dataset: no mask for ${join(imagesDir, f)} (expected ${maskFile})`);
    const img = decodeImage(join(imagesDir, f));
    const m = decodeImage(maskFile);
    if (img.width !== m.width || img.height !== m.height) {
      throw new UserError(`folder dataset: ${maskFile} is ${m.width}x${m.height} but its image ${f} is ${img.width}x${img.height}`);
    }
    let mask: Uint8Array = maskIndices(maskFile, m);
    for (let i = 0; i < mask.length; i++) {
      if (mask[i] === o.ignoreIndex) continue;
      if (o.numClasses !== undefined && mask[i] >= o.numClasses) {
        throw new UserError(`folder dataset: ${maskFile} has class index ${mask[i]} at pixel (${i % m.width}, ${Math.floor(i / m.width)}); allowed 0..${o.numClasses - 1} (num_classes ${o.numClasses})${o.ignoreIndex === undefined ? '' : ` or the ignore_index ${o.ignoreIndex}`}`);
      }
      if (mask[i] > maxIndex) maxIndex = mask[i];
    }
    let image: Float32Array = new Float32Array(img.width * img.height * 3);
    for (let i = 0; i < img.width * img.height; i++) for (let c = 0; c < 3; c++) image[i * 3 + c] = img.rgba[i * 4 + c] / 255;
    if (!size) size = { height: img.height, width: img.width };
    if (img.width !== size.width || img.height !== size.height) {
      if (!o.imageSize) {
        throw new UserError(`folder dataset: ${f} is ${img.width}x${img.height} but earlier images are ${size.width}x${size.height}; set image_size to resize them all`);
      }
      image = resizeBilinear(image, img.height, img.width, 3, size.height, size.width);
      mask = resizeNearest(mask, img.height, img.width, size.height, size.width);
    }
    samples.push({ image, mask, file: f });
  }
  const numClasses = o.numClasses ?? maxIndex + 1;
  if (numClasses < 2) throw new UserError(`folder dataset: masks under ${masksDir} hold only class 0; at least two classes are needed`);
  if (o.classNames && o.classNames.length !== numClasses) {
    throw new UserError(`folder dataset: class_names lists ${o.classNames.length} names but there are ${numClasses} classes`);
  }
  const valFraction = o.valFraction ?? 0.2;
  if (!(valFraction > 0 && valFraction < 1)) throw new UserError(`folder dataset: val_fraction must be in (0, 1), got ${valFraction}`);
  const order = new Rng(o.seed ?? 0).shuffle(samples.map((_, i) => i));
  const nVal = Math.min(samples.length - 1, Math.max(1, Math.round(samples.length * valFraction)));
  const { height, width } = size!;
  const pack = (idx: number[]): SegSplit => {
    const images = new Float32Array(idx.length * height * width * 3);
    const masks = new Uint8Array(idx.length * height * width);
    idx.forEach((s, k) => {
      images.set(samples[s].image, k * height * width * 3);
      masks.set(samples[s].mask, k * height * width);
    });
    return { images, masks, count: idx.length };
  };
  return {
    name: `folder:${o.path}`,
    height,
    width,
    channels: 3,
    numClasses,
    classNames: o.classNames ?? Array.from({ length: numClasses }, (_, i) => (i === 0 ? 'background' : `class_${i}`)),
    ignoreIndex: o.ignoreIndex,
    train: pack(order.slice(nVal)),
    val: pack(order.slice(0, nVal)),
  };
}
