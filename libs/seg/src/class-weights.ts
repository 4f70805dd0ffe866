import { median } from 'simple-statistics';
import type { SegSplit } from './dataset';

/** Class weighting schemes a space can choose between (`class_weights` param). */
export const CLASS_WEIGHTINGS = ['none', 'inverse', 'median'] as const;
export type ClassWeighting = (typeof CLASS_WEIGHTINGS)[number];

/** Per-class pixel counts of a split, and per class the pixels of the images it appears in. */
export function classPixelCounts(split: SegSplit, pixelsPerImage: number, numClasses: number, ignoreIndex?: number): { counts: number[]; imagePixels: number[] } {
  const counts = new Array<number>(numClasses).fill(0);
  const imagePixels = new Array<number>(numClasses).fill(0);
  const seen = new Uint8Array(numClasses);
  for (let i = 0; i < split.count; i++) {
    seen.fill(0);
    let valid = 0;
    for (let p = i * pixelsPerImage; p < (i + 1) * pixelsPerImage; p++) {
      const c = split.masks[p];
      if (c === ignoreIndex || c >= numClasses) continue;
      counts[c]++;
      seen[c] = 1;
      valid++;
    }
    for (let c = 0; c < numClasses; c++) if (seen[c]) imagePixels[c] += valid;
  }
  return { counts, imagePixels };
}

/**
 * Class weights from the training split's labels.
 *
 * - `inverse`: w_c ∝ 1 / f_c (f_c the pixel share of class c), scaled so that the average
 *   pixel weighs 1 (Σ f_c·w_c = 1), so a learning rate keeps its meaning.
 * - `median`: median frequency balancing (Eigen & Fergus 2015): freq_c is class c's pixels over
 *   the pixels of the images where c appears, w_c = median(freq) / freq_c.
 *
 * A class absent from the training split weighs 0 (there is nothing of it to learn from).
 * Returns undefined for `none`.
 */
export function classWeights(kind: ClassWeighting, split: SegSplit, pixelsPerImage: number, numClasses: number, ignoreIndex?: number): number[] | undefined {
  if (kind === 'none') return undefined;
  const { counts, imagePixels } = classPixelCounts(split, pixelsPerImage, numClasses, ignoreIndex);
  const present = counts.map((n) => n > 0);
  if (kind === 'inverse') {
    const total = counts.reduce((a, b) => a + b, 0);
    const k = present.filter(Boolean).length;
    return counts.map((n) => (n > 0 ? total / (k * n) : 0));
  }
  const freq = counts.map((n, c) => (n > 0 ? n / imagePixels[c] : 0));
  const med = median(freq.filter((_, c) => present[c]));
  return freq.map((f) => (f > 0 ? med / f : 0));
}
