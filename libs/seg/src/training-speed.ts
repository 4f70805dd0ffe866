import * as tf from '@tensorflow/tfjs';
import { buildUNet, unetStats, type UNetConfig } from './unet';
import { SegOptimizer } from './optimizer';
import { segLoss } from './losses';

export interface TrainingSpeed {
  /** Forward-pass FLOPs per second the training step sustained (backward counted as 2× forward). */
  flopsPerSecond: number;
  secondsPerImage: number;
  config: UNetConfig;
  batchSize: number;
}

/**
 * Times training steps (forward, backward, Adam) of one U-Net on random data on the active
 * backend for at least `minSeconds`, after two warm-up steps. `segtune plan` scales it by FLOPs to estimate how
 * long other configurations take per image: an estimate (small convolutions run below peak),
 * which is why the planner leaves a wide margin.
 */
export async function measureTrainingSpeed(config: UNetConfig, batchSize = 4, minSeconds = 1.5): Promise<TrainingSpeed> {
  const model = buildUNet(config, 0);
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const opt = new SegOptimizer(vars, { name: 'adam', weightDecay: 0, momentum: 0.9, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 });
  const x = tf.randomUniform([batchSize, config.height, config.widthPx, config.channels], 0, 1, 'float32', 1);
  const y = tf.tidy(() => tf.cast(tf.randomUniform([batchSize, config.height, config.widthPx], 0, config.numClasses, 'float32', 2), 'int32'));
  try {
    const step = async () => {
      const loss = tf.tidy(() => {
        const { value, grads } = tf.variableGrads(() => segLoss(model.apply(x, { training: true }) as tf.Tensor, y, config.numClasses), vars);
        opt.step(vars.map((v) => grads[v.name]), 1e-3);
        return value;
      });
      await loss.data();
      loss.dispose();
    };
    // Two warm-up steps (kernel set-up, allocation), then steps until minSeconds have passed.
    await step();
    await step();
    const t0 = performance.now();
    let steps = 0;
    while (steps < 3 || performance.now() - t0 < minSeconds * 1000) {
      await step();
      steps++;
    }
    const secondsPerImage = (performance.now() - t0) / 1000 / (steps * batchSize);
    return { flopsPerSecond: (3 * unetStats(config).flops) / secondsPerImage, secondsPerImage, config, batchSize };
  } finally {
    tf.dispose([x, y]);
    opt.dispose();
    model.dispose();
  }
}
