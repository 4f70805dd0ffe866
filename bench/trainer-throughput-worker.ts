// Child process of bench/trainer.ts: training throughput (images/s of plain training steps:
// forward, backward, Adam update; data already in tensors) of one U-Net on one backend. A child
// per measurement, because native TensorFlow reads its thread counts when it loads: the parent
// sets TF_NUM_INTRAOP_THREADS in this process's environment. Prints one JSON line.
// usage: tsx bench/trainer-throughput-worker.ts BACKEND WIDTH DEPTH BATCH STEPS [SIZE]
import * as tf from '@tensorflow/tfjs';
import { buildUNet, initBackend, SegOptimizer, segLoss, syntheticShapes, type UNetConfig } from '@segtune/seg';

const [backend, width, depth, batch, steps, size = '64'] = process.argv.slice(2);
const SIZE = Number(size);
const BATCH = Number(batch);
const info = await initBackend(backend);
const cfg: UNetConfig = { width: Number(width), depth: Number(depth), kernelSize: 3, activation: 'relu', batchNorm: true, dropout: 0, separable: false, height: SIZE, widthPx: SIZE, channels: 3, numClasses: 5 };
const ds = syntheticShapes({ imageSize: SIZE, trainSize: BATCH, valSize: 1, seed: 0 });
const model = buildUNet(cfg, 1);
const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
const opt = new SegOptimizer(vars, { name: 'adam', weightDecay: 0, momentum: 0.9, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 });
const x = tf.tensor4d(ds.train.images, [BATCH, SIZE, SIZE, 3]);
const y = tf.tensor3d(ds.train.masks, [BATCH, SIZE, SIZE], 'int32');
const step = async () => {
  const loss = tf.tidy(() => {
    const { value, grads } = tf.variableGrads(() => segLoss(model.apply(x, { training: true }) as tf.Tensor, y, 5), vars);
    opt.step(vars.map((v) => grads[v.name]), 1e-3);
    return value;
  });
  await loss.data();
  loss.dispose();
};
for (let i = 0; i < 3; i++) await step();
const t0 = performance.now();
const cpu0 = process.cpuUsage();
for (let i = 0; i < Number(steps); i++) await step();
const seconds = (performance.now() - t0) / 1000;
const cpu = process.cpuUsage(cpu0);
console.log(JSON.stringify({ backend: info.name, threads: info.threads, images_per_s: (Number(steps) * BATCH) / seconds, seconds, cores_busy: (cpu.user + cpu.system) / 1e6 / seconds, params: model.countParams() }));
