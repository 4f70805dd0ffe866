/**
 * A segmentation dataset held as typed arrays: images NHWC float32 in [0, 1], masks NHW of
 * class indices. Plain arrays (not tensors) so that augmentation runs without tfjs and nothing
 * has to be disposed.
 */
export interface SegSplit {
  images: Float32Array;
  masks: Uint8Array;
  count: number;
}

export interface SegDataset {
  name: string;
  height: number;
  width: number;
  channels: number;
  /** Number of classes, background (index 0) included. */
  numClasses: number;
  classNames: string[];
  /** Mask value of unlabelled pixels (Pascal VOC's 255): no loss, no metric counts them. */
  ignoreIndex?: number;
  train: SegSplit;
  val: SegSplit;
}

/** Copies sample `i` of a split into fresh arrays. */
export function sampleOf(ds: Pick<SegDataset, 'height' | 'width' | 'channels'>, split: SegSplit, i: number): { image: Float32Array; mask: Uint8Array } {
  const hw = ds.height * ds.width;
  return {
    image: split.images.slice(i * hw * ds.channels, (i + 1) * hw * ds.channels),
    mask: split.masks.slice(i * hw, (i + 1) * hw),
  };
}

/** Pixel share of each class over a split's labelled pixels (values outside 0..numClasses-1 are unlabelled). */
export function classFrequencies(split: SegSplit, numClasses: number): number[] {
  const counts = new Array<number>(numClasses).fill(0);
  let total = 0;
  for (let i = 0; i < split.masks.length; i++) {
    const c = split.masks[i];
    if (c < numClasses) {
      counts[c]++;
      total++;
    }
  }
  return counts.map((c) => c / (total || 1));
}

const digests = new WeakMap<SegDataset, string>();

/**
 * A digest of the training split (shapes, classes, every pixel and label), computed once per
 * dataset object: checkpoints carry it, so weights trained on other data are never resumed.
 * Two 32-bit multiplicative hashes (FNV-1a and a murmur-style mix) over the raw words; 7 ms for
 * 192 images of 32×32, 0.26 s for 1,000 of 128×128 (measured 2026-12-07).
 */
export function trainingDataDigest(ds: SegDataset): string {
  let d = digests.get(ds);
  if (d !== undefined) return d;
  const { images, masks, count } = ds.train;
  let a = 0x811c9dc5;
  let b = 0x9747b28c;
  const mix = (w: number) => {
    a = Math.imul(a ^ w, 0x01000193);
    b = Math.imul(b ^ w, 0x5bd1e995) ^ (b >>> 15);
  };
  for (const w of [count, ds.height, ds.width, ds.channels, ds.numClasses, ds.ignoreIndex ?? -1]) mix(w | 0);
  const words = new Uint32Array(images.buffer, images.byteOffset, images.length);
  for (let i = 0; i < words.length; i++) mix(words[i]);
  for (let i = 0; i < masks.length; i++) mix(masks[i]);
  d = `${(a >>> 0).toString(16).padStart(8, '0')}${(b >>> 0).toString(16).padStart(8, '0')}`;
  digests.set(ds, d);
  return d;
}
