import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { buildUNet, unetStats, type UNetConfig } from './unet';
import { estimateTrainingMemory } from './cost';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const base: UNetConfig = { width: 4, depth: 2, kernelSize: 3, activation: 'relu', batchNorm: true, dropout: 0, separable: false, height: 16, widthPx: 16, channels: 3, numClasses: 5 };

describe('U-Net family', () => {
  const variants: Partial<UNetConfig>[] = [
    {},
    { batchNorm: false },
    { separable: true },
    { depth: 0 },
    { depth: 3, width: 6, kernelSize: 5, activation: 'swish', dropout: 0.3 },
    { activation: 'leaky_relu', separable: true, batchNorm: false },
    { activation: 'elu', depth: 1 },
  ];
  for (const v of variants) {
    it(`analytic parameter count matches tfjs for ${JSON.stringify(v)}`, () => {
      const c = { ...base, ...v };
      const model = buildUNet(c, 1);
      try {
        expect(unetStats(c).params).toBe(model.countParams());
        expect(model.outputs[0].shape).toEqual([null, c.height, c.widthPx, c.numClasses]);
      } finally {
        model.dispose();
      }
    });
  }

  it('the same seed gives the same weights, another seed others', () => {
    const read = (seed: number) => {
      const m = buildUNet(base, seed);
      const w = Array.from(m.getWeights()[0].dataSync());
      m.dispose();
      return w;
    };
    expect(read(3)).toEqual(read(3));
    expect(read(3)).not.toEqual(read(4));
  });

  it('FLOPs and memory grow with width, depth and batch', () => {
    const s = unetStats(base);
    expect(s.flops).toBeGreaterThan(2 * 16 * 16 * 9 * 3 * 4);
    expect(unetStats({ ...base, width: 8 }).flops).toBeGreaterThan(3 * s.flops);
    expect(unetStats({ ...base, separable: true }).flops).toBeLessThan(s.flops);
    expect(estimateTrainingMemory(base, 16)).toBeGreaterThan(estimateTrainingMemory(base, 4));
    expect(estimateTrainingMemory({ ...base, depth: 3 }, 4)).toBeGreaterThan(estimateTrainingMemory(base, 4));
  });

  it('rejects configurations with one line', () => {
    expect(() => buildUNet({ ...base, height: 20, depth: 3 }, 1)).toThrow(/image size 20x16 must be divisible by 2\^depth = 8 \(depth 3\)/);
    expect(() => buildUNet({ ...base, kernelSize: 4 }, 1)).toThrow(/kernel_size must be an odd integer/);
    expect(() => buildUNet({ ...base, activation: 'tanh' as never }, 1)).toThrow(/activation "tanh" is unknown; allowed: relu, leaky_relu, elu, swish/);
  });
});
