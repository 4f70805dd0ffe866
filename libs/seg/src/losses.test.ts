import { afterAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { Rng } from '@segtune/core';
import { initBackend } from './backend';
import { DEFAULT_LOSS, LOSSES, segLoss, type LossConfig, type LossName } from './losses';
import { classWeights } from './class-weights';

// The tensorflow (tfjs-node) backend runs these too where it is installed; elsewhere its
// block reports itself as skipped.
const tensorflowReason = await initBackend('tensorflow').then(
  () => undefined,
  (e: Error) => e.message,
);
const BACKENDS = [
  { name: 'wasm', available: true },
  { name: 'tensorflow', available: tensorflowReason === undefined },
];
afterAll(async () => {
  await initBackend('wasm');
});

/** Float64 reference of every loss, written from the formulas independently of the tf code. */
function reference(logits: number[][], labels: number[], k: number, cfg: LossConfig): number {
  const w = cfg.classWeights ?? new Array<number>(k).fill(1);
  const probs = logits.map((z) => {
    const m = Math.max(...z);
    const e = z.map((v) => Math.exp(v - m));
    const s = e.reduce((a, b) => a + b, 0);
    return e.map((v) => v / s);
  });
  const valid = labels.map((l) => l !== cfg.ignoreIndex);
  let num = 0;
  let den = 0;
  for (let i = 0; i < labels.length; i++) {
    if (!valid[i]) continue;
    const p = probs[i][labels[i]];
    const ce = -Math.log(p);
    const term = cfg.name === 'focal' ? Math.max(1 - p, 1e-7) ** cfg.focalGamma * ce : ce;
    num += w[labels[i]] * term;
    den += w[labels[i]];
  }
  const ce = num / den;
  const overlapLoss = (tversky: boolean) => {
    let sum = 0;
    let wsum = 0;
    for (let c = 1; c < k; c++) {
      let tp = 0;
      let fp = 0;
      let fn = 0;
      for (let i = 0; i < labels.length; i++) {
        if (!valid[i]) continue;
        const p = probs[i][c];
        const g = labels[i] === c ? 1 : 0;
        tp += p * g;
        fp += p * (1 - g);
        fn += (1 - p) * g;
      }
      const score = tversky ? (tp + 1) / (tp + cfg.tverskyAlpha * fp + cfg.tverskyBeta * fn + 1) : (2 * tp + 1) / (2 * tp + fp + fn + 1);
      sum += w[c] * (1 - score);
      wsum += w[c];
    }
    return sum / wsum;
  };
  switch (cfg.name) {
    case 'ce':
    case 'focal':
      return ce;
    case 'dice':
      return overlapLoss(false);
    case 'tversky':
      return overlapLoss(true);
    case 'ce_dice':
      return ce + cfg.diceWeight * overlapLoss(false);
  }
}

const lossOf = (name: LossName, over: Partial<LossConfig> = {}): LossConfig => ({ ...DEFAULT_LOSS, name, ...over });

function tfLoss(logits: number[][], labels: number[], shape: [number, number, number], k: number, cfg: LossConfig): number {
  return tf.tidy(() => segLoss(tf.tensor4d(logits.flat(), [...shape, k]), tf.tensor3d(labels, shape, 'int32'), k, cfg).dataSync()[0]);
}

for (const backend of BACKENDS) {
  describe.skipIf(!backend.available)(`segmentation losses on ${backend.name}${backend.available ? '' : ` (skipped: ${tensorflowReason})`}`, () => {
    it('runs on the backend it names', async () => {
      await initBackend(backend.name);
      expect(tf.getBackend()).toBe(backend.name);
    });

    // Two pixels, two classes. Pixel A: logits [1, 0], label 1; pixel B: logits [1, 0], label 0.
    const s = Math.E / (1 + Math.E); // p(class 0) of both pixels = 0.731059
    const two = { logits: [[1, 0], [1, 0]], labels: [1, 0], shape: [1, 1, 2] as [number, number, number] };
    const hand: [string, LossConfig, number][] = [
      // -(ln(1-s) + ln s) / 2
      ['cross-entropy', lossOf('ce'), -(Math.log(1 - s) + Math.log(s)) / 2],
      // weights [1, 3]: (3·(-ln(1-s)) + 1·(-ln s)) / 4
      ['weighted cross-entropy', lossOf('ce', { classWeights: [1, 3] }), (-3 * Math.log(1 - s) - Math.log(s)) / 4],
      // only pixel A counts when B is ignored
      ['cross-entropy with an ignored pixel', lossOf('ce', { ignoreIndex: 255 }), -Math.log(1 - s)],
      // (1-p_y)^2 · ce per pixel: A has p_y = 1-s, B has p_y = s
      ['focal (γ = 2)', lossOf('focal', { focalGamma: 2 }), (s ** 2 * -Math.log(1 - s) + (1 - s) ** 2 * -Math.log(s)) / 2],
      // class 1: tp = 1-s, fp = 1-s, fn = s; 1 - (2tp + 1)/(2tp + fp + fn + 1)
      ['soft Dice', lossOf('dice'), 1 - (2 * (1 - s) + 1) / (2 * (1 - s) + (1 - s) + s + 1)],
      ['cross-entropy + Dice', lossOf('ce_dice'), -(Math.log(1 - s) + Math.log(s)) / 2 + 1 - (2 * (1 - s) + 1) / (3 * (1 - s) + s + 1)],
      // 1 - (tp + 1)/(tp + 0.3 fp + 0.7 fn + 1)
      ['Tversky (α 0.3, β 0.7)', lossOf('tversky'), 1 - (1 - s + 1) / (1 - s + 0.3 * (1 - s) + 0.7 * s + 1)],
    ];
    for (const [what, cfg, expected] of hand) {
      it(`${what} matches the hand-computed value`, () => {
        const labels = cfg.ignoreIndex === undefined ? two.labels : [1, 255];
        expect(tfLoss(two.logits, labels, two.shape, 2, cfg)).toBeCloseTo(expected, 5);
      });
    }

    it('soft Dice of a perfect, confident prediction is near 0 and of an inverted one 1 - 1/(fp + fn + 1)', () => {
      const labels = [0, 1, 1, 0];
      const good = labels.map((l) => (l === 1 ? [-20, 20] : [20, -20]));
      const bad = labels.map((l) => (l === 1 ? [20, -20] : [-20, 20]));
      expect(tfLoss(good, labels, [1, 2, 2], 2, lossOf('dice'))).toBeLessThan(1e-6);
      expect(tfLoss(bad, labels, [1, 2, 2], 2, lossOf('dice'))).toBeCloseTo(1 - 1 / 5, 4);
    });

    const rng = new Rng(42);
    const k = 4;
    const shape: [number, number, number] = [2, 3, 3];
    const n = shape[0] * shape[1] * shape[2];
    const logits = Array.from({ length: n }, () => Array.from({ length: k }, () => rng.normal(0, 1.5)));
    const labels = Array.from({ length: n }, (_, i) => (i % 7 === 3 ? 255 : rng.int(k)));
    const variants: [string, Partial<LossConfig>][] = [
      ['plain', {}],
      ['with class weights and an ignore index', { classWeights: [0.2, 1.5, 3, 0.7], ignoreIndex: 255, focalGamma: 1.5, tverskyAlpha: 0.4, tverskyBeta: 0.9, diceWeight: 0.5 }],
    ];
    for (const name of LOSSES) {
      for (const [what, over] of variants) {
        const cfg = lossOf(name, over);
        const lab = cfg.ignoreIndex === undefined ? labels.map((l) => (l === 255 ? 0 : l)) : labels;
        it(`${name} ${what}: value matches the float64 reference and tf.grad matches finite differences`, () => {
          expect(tfLoss(logits, lab, shape, k, cfg)).toBeCloseTo(reference(logits, lab, k, cfg), 5);
          const grad = tf.tidy(() => tf.grad((x: tf.Tensor) => segLoss(x, tf.tensor3d(lab, shape, 'int32'), k, cfg))(tf.tensor4d(logits.flat(), [...shape, k])).dataSync());
          const h = 1e-6;
          let worst = 0;
          let scale = 0;
          for (let i = 0; i < n; i++) {
            for (let c = 0; c < k; c++) {
              const up = logits.map((r) => [...r]);
              const down = logits.map((r) => [...r]);
              up[i][c] += h;
              down[i][c] -= h;
              const fd = (reference(up, lab, k, cfg) - reference(down, lab, k, cfg)) / (2 * h);
              worst = Math.max(worst, Math.abs(fd - grad[i * k + c]));
              scale = Math.max(scale, Math.abs(fd));
              // Ignored pixels get no gradient at all.
              if (lab[i] === cfg.ignoreIndex) expect(Math.abs(grad[i * k + c])).toBe(0);
            }
          }
          expect(scale).toBeGreaterThan(1e-3);
          expect(worst).toBeLessThan(2e-5 + 1e-3 * scale);
        });
      }
    }
  });
}

describe('class weights', () => {
  // Two 2×2 images: the first all background, the second 2 background, 1 class-1, 1 class-2 pixel.
  const split = { images: new Float32Array(0), masks: Uint8Array.from([0, 0, 0, 0, 0, 0, 1, 2]), count: 2 };
  it('inverse frequency weights the average pixel 1', () => {
    // shares 6/8, 1/8, 1/8 → w = 1/(3f) = [4/9, 8/3, 8/3]
    const w = classWeights('inverse', split, 4, 3)!;
    expect(w[0]).toBeCloseTo(4 / 9, 10);
    expect(w[1]).toBeCloseTo(8 / 3, 10);
    expect(w[2]).toBeCloseTo(8 / 3, 10);
    expect(w[0] * 0.75 + w[1] / 8 + w[2] / 8).toBeCloseTo(1, 10);
  });
  it('median frequency counts only the images a class appears in', () => {
    // freq: background 6/8, class 1 1/4, class 2 1/4 → median 1/4 → w = [1/3, 1, 1]
    expect(classWeights('median', split, 4, 3)).toEqual([1 / 3, 1, 1].map((v) => expect.closeTo(v, 10)));
  });
  it('gives absent classes weight 0, skips ignored pixels, and none is undefined', () => {
    const withIgnore = { ...split, masks: Uint8Array.from([0, 0, 255, 255, 0, 0, 1, 1]) };
    // valid shares: background 4/6, class 1 2/6, class 2 absent
    const w = classWeights('inverse', withIgnore, 4, 3, 255)!;
    expect(w).toEqual([3 / 4, 3 / 2, 0].map((v) => expect.closeTo(v, 10)));
    expect(classWeights('none', split, 4, 3)).toBeUndefined();
  });
});
