import { describe, expect, it } from 'vitest';
import { ConfusionMatrix } from './metrics';

describe('metrics', () => {
  it('match hand-computed IoU, Dice and pixel accuracy', () => {
    // 3 classes, 10 pixels.
    const truth = [0, 0, 0, 0, 1, 1, 1, 2, 2, 2];
    const pred = [0, 0, 0, 1, 1, 1, 2, 2, 2, 0];
    const cm = new ConfusionMatrix(3).add(truth, pred);
    // class 0: tp 3, fp 1 (pixel 9), fn 1 (pixel 3) → IoU 3/5, Dice 6/8
    // class 1: tp 2, fp 1, fn 1 → IoU 2/4, Dice 4/6
    // class 2: tp 2, fp 1, fn 1 → IoU 2/4, Dice 4/6
    const iou = cm.perClassIoU();
    expect(iou[0]).toBeCloseTo(0.6, 12);
    expect(iou[1]).toBeCloseTo(0.5, 12);
    expect(iou[2]).toBeCloseTo(0.5, 12);
    expect(cm.miou()).toBeCloseTo((0.6 + 0.5 + 0.5) / 3, 12);
    expect(cm.dice()).toBeCloseTo((0.75 + 2 / 3 + 2 / 3) / 3, 12);
    expect(cm.pixelAccuracy()).toBeCloseTo(0.7, 12);
  });

  it('leaves classes absent from truth and prediction out of the means', () => {
    const cm = new ConfusionMatrix(4).add([0, 0, 1, 1], [0, 1, 1, 1]);
    const iou = cm.perClassIoU();
    expect(Number.isNaN(iou[2])).toBe(true);
    expect(Number.isNaN(iou[3])).toBe(true);
    // class 0: 1/2; class 1: 2/3
    expect(cm.miou()).toBeCloseTo((1 / 2 + 2 / 3) / 2, 12);
    expect(cm.dice()).toBeCloseTo((2 / 3 + 4 / 5) / 2, 12);
  });

  it('a class predicted but never true counts with IoU 0', () => {
    const cm = new ConfusionMatrix(3).add([0, 0, 0, 0], [0, 0, 0, 2]);
    expect(cm.perClassIoU()[2]).toBe(0);
    expect(cm.miou()).toBeCloseTo(0.75 / 2, 12);
  });

  it('accumulates over batches and rejects mismatched lengths', () => {
    const a = new ConfusionMatrix(2).add([0, 1], [0, 1]).add([1, 1], [0, 1]);
    expect(a.pixelAccuracy()).toBeCloseTo(0.75, 12);
    expect(() => a.add([0], [0, 1])).toThrow(/1 true labels but 2 predictions/);
  });
});
