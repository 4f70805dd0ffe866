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
