/**
 * Segmentation metrics from a confusion matrix (rows: true class, columns: predicted class).
 * Classes absent from both truth and prediction are left out of the means (their IoU and Dice
 * are undefined, reported as NaN per class).
 */
export class ConfusionMatrix {
  readonly counts: Float64Array;

  /** `ignoreIndex`: true labels with this value (unlabelled pixels) are not counted. */
  constructor(
    readonly numClasses: number,
    readonly ignoreIndex?: number,
  ) {
    this.counts = new Float64Array(numClasses * numClasses);
  }

  /** Adds pixels: `truth` and `pred` hold class indices, the same length. */
  add(truth: ArrayLike<number>, pred: ArrayLike<number>): this {
    if (truth.length !== pred.length) throw new Error(`confusion matrix: ${truth.length} true labels but ${pred.length} predictions`);
    const k = this.numClasses;
    for (let i = 0; i < truth.length; i++) {
      const t = truth[i];
      if (t === this.ignoreIndex) continue;
      if (!(t >= 0 && t < k)) throw new Error(`confusion matrix: true label ${t} is outside 0..${k - 1} and not the ignore index`);
      this.counts[t * k + pred[i]]++;
    }
    return this;
  }

  private tpFpFn(c: number): [number, number, number] {
    const k = this.numClasses;
    const tp = this.counts[c * k + c];
    let row = 0;
    let col = 0;
    for (let j = 0; j < k; j++) {
      row += this.counts[c * k + j];
      col += this.counts[j * k + c];
    }
    return [tp, col - tp, row - tp];
  }

  perClassIoU(): number[] {
    return Array.from({ length: this.numClasses }, (_, c) => {
      const [tp, fp, fn] = this.tpFpFn(c);
      return tp + fp + fn === 0 ? NaN : tp / (tp + fp + fn);
    });
  }

  perClassDice(): number[] {
    return Array.from({ length: this.numClasses }, (_, c) => {
      const [tp, fp, fn] = this.tpFpFn(c);
      return tp + fp + fn === 0 ? NaN : (2 * tp) / (2 * tp + fp + fn);
    });
  }

  miou(): number {
    return nanMean(this.perClassIoU());
  }

  /** Mean IoU over classes 1..K-1 (background left out): what moves on imbalanced data. */
  foregroundMiou(): number {
    return nanMean(this.perClassIoU().slice(1));
  }

  dice(): number {
    return nanMean(this.perClassDice());
  }

  pixelAccuracy(): number {
    let tp = 0;
    let total = 0;
    for (let c = 0; c < this.numClasses; c++) tp += this.counts[c * this.numClasses + c];
    for (const v of this.counts) total += v;
    return total === 0 ? NaN : tp / total;
  }
}

function nanMean(xs: number[]): number {
  const ok = xs.filter((x) => !Number.isNaN(x));
  return ok.length === 0 ? NaN : ok.reduce((a, b) => a + b, 0) / ok.length;
}

export interface SegMetrics {
  miou: number;
  miou_foreground: number;
  pixel_accuracy: number;
  dice: number;
  per_class_iou: number[];
}

export function segMetrics(cm: ConfusionMatrix): SegMetrics {
  return { miou: cm.miou(), miou_foreground: cm.foregroundMiou(), pixel_accuracy: cm.pixelAccuracy(), dice: cm.dice(), per_class_iou: cm.perClassIoU() };
}
