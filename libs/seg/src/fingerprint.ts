import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { median } from 'simple-statistics';
import { UserError } from '@segtune/core';
import { IMAGE_EXTS, decodeImage, maskIndices } from './folder-dataset';

/** What `segtune plan` learns from a folder dataset before any training (nnU-Net's "fingerprint"). */
export interface DatasetFingerprint {
  path: string;
  count: number;
  /** Image sizes: every distinct one with its count, and the median side lengths. */
  sizes: { width: number; height: number; count: number }[];
  medianWidth: number;
  medianHeight: number;
  /** 1 when every image is grey (R = G = B), else 3. */
  channels: number;
  numClasses: number;
  ignoreIndex?: number;
  /** Pixel share of each class among labelled pixels. */
  classFrequencies: number[];
  /** Share of images in which each class appears. */
  classPresence: number[];
  /** Share of labelled pixels that are not background (class 0). */
  foregroundFraction: number;
  /** Most frequent class's share over the rarest present class's share. */
  imbalanceRatio: number;
  /** Share of pixels that are unlabelled (ignore_index). */
  ignoredFraction: number;
  /** Classes in 0..numClasses-1 that no mask holds. */
  absentClasses: number[];
}

export interface FingerprintOptions {
  path: string;
  /** Declared classes (background included); masks holding an index at or above it are an error. */
  numClasses?: number;
  /** Mask value of unlabelled pixels. */
  ignoreIndex?: number;
}

/**
 * Reads every image and mask of a folder dataset (the `folder` loader's layout) and computes its
 * fingerprint. Bad data is one UserError naming the file: an empty or missing folder, an image
 * without a mask, a mask whose size differs from its image's, a class index out of range
 * (at or above numClasses, or 255 without an ignore index, which is how Pascal VOC marks
 * unlabelled pixels).
 */
export function datasetFingerprint(o: FingerprintOptions): DatasetFingerprint {
  if (!existsSync(o.path) || !statSync(o.path).isDirectory()) throw new UserError(`--data: ${o.path} is not a folder`);
  const imagesDir = join(o.path, 'images');
  const masksDir = join(o.path, 'masks');
  for (const dir of [imagesDir, masksDir]) {
    if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new UserError(`--data: ${dir} is not a folder (expected images/ and masks/ under ${o.path})`);
  }
  const files = readdirSync(imagesDir)
    .filter((f) => IMAGE_EXTS.has(extname(f).toLowerCase()))
    .sort();
  if (files.length === 0) throw new UserError(`--data: ${imagesDir} holds no PNG or JPEG image`);
  const counts = new Float64Array(256);
  const presence = new Float64Array(256);
  let ignored = 0;
  let total = 0;
  let grey = true;
  const sizes = new Map<string, { width: number; height: number; count: number }>();
  const widths: number[] = [];
  const heights: number[] = [];
  for (const f of files) {
    const imageFile = join(imagesDir, f);
    const maskFile = join(masksDir, `${basename(f, extname(f))}.png`);
    if (!existsSync(maskFile)) throw new UserError(`--data: no mask for ${imageFile} (expected ${maskFile})`);
    const img = decodeImage(imageFile);
    const m = decodeImage(maskFile);
    if (img.width !== m.width || img.height !== m.height) throw new UserError(`--data: ${maskFile} is ${m.width}x${m.height} but its image ${imageFile} is ${img.width}x${img.height}`);
    const mask = maskIndices(maskFile, m);
    const seen = new Uint8Array(256);
    for (let i = 0; i < mask.length; i++) {
      const c = mask[i];
      if (c === o.ignoreIndex) {
        ignored++;
        continue;
      }
      const bad = o.numClasses !== undefined ? c >= o.numClasses : c === 255;
      if (bad) {
        const allowed = o.numClasses !== undefined ? `allowed 0..${o.numClasses - 1} (--num-classes ${o.numClasses})` : 'pass --ignore-index 255 if it marks unlabelled pixels (Pascal VOC), or --num-classes';
        throw new UserError(`--data: ${maskFile} has class index ${c} at pixel (${i % m.width}, ${Math.floor(i / m.width)}); ${allowed}`);
      }
      counts[c]++;
      seen[c] = 1;
    }
    total += mask.length;
    for (let c = 0; c < 256; c++) presence[c] += seen[c];
    if (grey) {
      for (let i = 0; i < img.width * img.height; i++) {
        if (img.rgba[i * 4] !== img.rgba[i * 4 + 1] || img.rgba[i * 4] !== img.rgba[i * 4 + 2]) {
          grey = false;
          break;
        }
      }
    }
    const key = `${img.width}x${img.height}`;
    const s = sizes.get(key) ?? { width: img.width, height: img.height, count: 0 };
    s.count++;
    sizes.set(key, s);
    widths.push(img.width);
    heights.push(img.height);
  }
  let maxClass = 0;
  for (let c = 0; c < 256; c++) if (counts[c] > 0) maxClass = c;
  const numClasses = o.numClasses ?? maxClass + 1;
  if (numClasses < 2) throw new UserError(`--data: the masks under ${masksDir} hold only class 0; at least two classes are needed`);
  const labelled = total - ignored;
  const freq = Array.from({ length: numClasses }, (_, c) => counts[c] / (labelled || 1));
  const present = freq.filter((f) => f > 0);
  return {
    path: o.path,
    count: files.length,
    sizes: [...sizes.values()].sort((a, b) => b.count - a.count),
    medianWidth: median(widths),
    medianHeight: median(heights),
    channels: grey ? 1 : 3,
    numClasses,
    ignoreIndex: o.ignoreIndex,
    classFrequencies: freq,
    classPresence: Array.from({ length: numClasses }, (_, c) => presence[c] / files.length),
    foregroundFraction: 1 - freq[0],
    imbalanceRatio: Math.max(...present) / Math.min(...present),
    ignoredFraction: ignored / (total || 1),
    absentClasses: freq.flatMap((f, c) => (f === 0 ? [c] : [])),
  };
}
