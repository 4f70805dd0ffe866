// Native TensorFlow (tfjs-node built by `segtune setup tensorflow` against PyPI's wheel): it
// trains, gives the same losses as wasm for a fixed seed, reaches the reference mIoU, exports
// models that plain tfjs loads, and runs a search through the CLI with each trial's share of
// the cores. `npm test` runs the setup before the suite, so under CI a missing build fails here.
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tfjs from '@tensorflow/tfjs';
import { initBackend, loadModel, saveModel, SegOptimizer, type OptimizerConfig, syntheticShapes, trainUNet, trialSettings, type BackendInfo, type SegDataset } from '@segtune/seg';
import { nativeAvailable } from '../libs/seg/src/backend/tensorflow-cache';
import { reluLayer } from '../libs/seg/src/relu';
import { batchNormalization } from '../libs/seg/src/batch-norm';
import type { NativeBackend } from '../libs/seg/src/native-kernels';
import { batchNormPass, expectSameAsTfjsLayer } from '../libs/seg/src/testing';
import { repoRoot, runCli } from './support/cli';

const available = nativeAvailable('cpu');
const skipReason = 'native TensorFlow is not set up here (segtune setup tensorflow; npm test runs it)';
if (!available && process.env.CI) throw new Error(`CI: ${skipReason}`);

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'segtune-tf-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Tensors alive in tfjs' engine and in the native backend (which also holds segtune kernels' intermediates). */
const tensorCounts = () => [tfjs.memory().numTensors, (tfjs.backend() as unknown as NativeBackend).numDataIds()];

function settingsFor(ds: SegDataset, epochs: number, width = 8, depth = 2) {
  const s = trialSettings({ width, depth, lr: 0.008, batch_size: 8, schedule: 'cosine', optimizer: 'adam' });
  return { ...s, model: { ...s.model, height: ds.height, widthPx: ds.width, channels: ds.channels, numClasses: ds.numClasses }, epochs, seed: 1 };
}

describe.skipIf(!available)('native TensorFlow backend', () => {
  let tf: BackendInfo;
  beforeAll(async () => {
    tf = await initBackend('tensorflow');
  });

  it('loads the cached build as the tensorflow backend, on the project’s own tfjs engine', async () => {
    expect(tf.name).toBe('tensorflow');
    expect(tf.tf.getBackend()).toBe('tensorflow');
    // One engine: tensors made through the project's @tensorflow/tfjs run on the native backend.
    const { matMul, tensor2d } = await import('@tensorflow/tfjs');
    expect(Array.from(matMul(tensor2d([[1, 2]]), tensor2d([[3], [4]])).dataSync())).toEqual([11]);
    const binding = (tf.tf.backend() as unknown as { binding: { TF_Version: string } }).binding;
    expect(binding.TF_Version).toMatch(/^2\.\d+\.\d+/);
  });

  it('takes TensorFlow\'s own ReluGrad for a training relu, with exactly tfjs\' gradient', async () => {
    const x = tfjs.randomNormal([2, 6, 6, 4], 0, 1, 'float32', 7);
    const r = tfjs.randomNormal([2, 6, 6, 4], 0, 1, 'float32', 8);
    // Loss and input gradient of sum(layer(x)·r) in training mode, with the kernels it ran.
    const pass = async (layer: tfjs.layers.Layer) => {
      const input = tfjs.input({ shape: [6, 6, 4] });
      const model = tfjs.model({ inputs: input, outputs: layer.apply(input) as tfjs.SymbolicTensor });
      const xv = tfjs.variable(x);
      let out = { loss: NaN, dx: [] as number[] };
      const prof = await tfjs.profile(() => {
        const { value, grads } = tfjs.variableGrads(() => tfjs.sum(tfjs.mul(model.apply(xv, { training: true }) as tfjs.Tensor, r)) as tfjs.Scalar, [xv]);
        out = { loss: value.dataSync()[0], dx: Array.from(grads[xv.name].dataSync()) };
      });
      xv.dispose();
      return { ...out, kernels: prof.kernels.map((k) => k.name) };
    };
    const ours = await pass(reluLayer({ name: 'ours_relu' }));
    const ref = await pass(tfjs.layers.reLU({ name: 'ref_relu' }));
    expect(ours.loss).toBe(ref.loss);
    expect(ours.dx).toEqual(ref.dx);
    expect(ours.dx.some((v) => v === 0) && ours.dx.some((v) => v !== 0)).toBe(true);
    // One kernel for the gradient, where tfjs' own path runs step's eight.
    expect(ours.kernels).toContain('SegtuneReluGrad');
    expect(ours.kernels).not.toContain('Step');
    expect(ref.kernels).toContain('Step');
  });

  it('runs training batch norm as TensorFlow\'s fused kernels, with tfjs-layers\' values and no leaks', async () => {
    const x = tfjs.randomNormal([3, 5, 4, 6], 0.7, 2, 'float32', 3);
    const r = tfjs.randomNormal([3, 5, 4, 6], 0, 1, 'float32', 4);
    const kernelsOf = async (layer: tfjs.layers.Layer) => {
      let out: ReturnType<typeof batchNormPass> | undefined;
      const prof = await tfjs.profile(() => {
        out = batchNormPass(layer, x, r);
      });
      return { out: out!, kernels: prof.kernels.map((k) => k.name) };
    };
    const ours = await kernelsOf(batchNormalization({ name: 'ours_fbn', momentum: 0.9 }));
    const ref = await kernelsOf(tfjs.layers.batchNormalization({ name: 'ref_fbn', momentum: 0.9 }));
    expectSameAsTfjsLayer(ours.out, ref.out);
    expect(ours.kernels).toContain('SegtuneFusedBatchNormTraining');
    expect(ours.kernels).toContain('SegtuneFusedBatchNormTrainingGrad');
    expect(ours.kernels).not.toContain('Mean');
    expect(ref.kernels).toContain('Mean');
    // Training steps leave no tensors behind, in tfjs or in the native backend (the kernels'
    // unused reserve-space outputs included).
    const layer = batchNormalization({ name: 'leak_fbn', momentum: 0.9 });
    const input = tfjs.input({ shape: [5, 4, 6] });
    const model = tfjs.model({ inputs: input, outputs: layer.apply(input) as tfjs.SymbolicTensor });
    const step = () => tfjs.tidy(() => tfjs.variableGrads(() => tfjs.sum(tfjs.mul(model.apply(x, { training: true }) as tfjs.Tensor, r)) as tfjs.Scalar).value).dispose();
    step();
    const before = tensorCounts();
    for (let i = 0; i < 3; i++) step();
    expect(tensorCounts()).toEqual(before);
  });

  it('steps every optimizer as one native kernel, to the bit as its tfjs ops, with no leaks', async () => {
    const run = async (cfg: OptimizerConfig, native: boolean, shapes: number[][]) => {
      const ws = shapes.map((s, i) => tfjs.variable(tfjs.randomNormal(s, 0, 1, 'float32', 10 + i)));
      const opt = new SegOptimizer(ws, cfg, { native });
      let after1: number[] = [];
      let kernels: string[] = [];
      for (let step = 0; step < 6; step++) {
        const grads = ws.map((w, i) => tfjs.randomNormal(w.shape, 0, 1, 'float32', 1000 + 100 * step + i));
        // Inside a tidy, as the trainer calls it.
        if (step === 1) kernels = (await tfjs.profile(() => tfjs.tidy(() => opt.step(grads, 0.02)))).kernels.map((k) => k.name);
        else tfjs.tidy(() => opt.step(grads, 0.01 * (step + 1)));
        tfjs.dispose(grads);
        if (step === 1) after1 = tensorCounts();
      }
      // Nothing left behind, in tfjs or in the native backend, once the first step made the constants.
      expect(tensorCounts()).toEqual(after1);
      const out = [...ws, ...opt.stateVariables()].map((w) => Array.from(w.dataSync()));
      opt.dispose();
      tfjs.dispose(ws);
      return { out, kernels };
    };
    const base: OptimizerConfig = { name: 'adam', weightDecay: 0, momentum: 0.9, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 };
    for (const cfg of [base, { ...base, weightDecay: 0.05 }, { ...base, name: 'adamw', weightDecay: 0.05 }, { ...base, name: 'sgd', weightDecay: 0.05 }, { ...base, name: 'sgd' }] as OptimizerConfig[]) {
      for (const shapes of [[[3, 3, 2, 4], [4], [4], [2, 2, 4, 1], [1]], [[2, 3]]]) {
        const ours = await run(cfg, true, shapes);
        const ref = await run(cfg, false, shapes);
        expect({ cfg, shapes, out: ours.out }).toEqual({ cfg, shapes, out: ref.out });
        expect(ours.kernels).toEqual(['SegtuneOptimizerStep']);
        expect(ref.kernels.length).toBeGreaterThan(5);
      }
    }
  });

  it('gives the same training losses as wasm from the same seed (few steps, within 1%)', async () => {
    const ds = syntheticShapes({ imageSize: 32, trainSize: 32, valSize: 16, seed: 4 });
    const losses: Record<string, number[]> = {};
    for (const name of ['wasm', 'tensorflow'] as const) {
      await initBackend(name);
      const curve: number[] = [];
      const r = await trainUNet(ds, settingsFor(ds, 2), { onEpoch: (e) => void curve.push(e.loss) });
      r.model.dispose();
      losses[name] = curve;
    }
    await initBackend('tensorflow');
    for (let e = 0; e < 2; e++) {
      const [a, b] = [losses.wasm[e], losses.tensorflow[e]];
      expect(Math.abs(a - b) / a, `epoch ${e + 1}: wasm ${a}, tensorflow ${b}`).toBeLessThan(0.01);
    }
  }, 240_000);

  it('trains the reference configuration to validation mIoU >= 0.8, and plain tfjs loads the export and predicts the same', async () => {
    const ds = syntheticShapes({ imageSize: 64, trainSize: 192, valSize: 64, seed: 0 });
    const curve: number[] = [];
    const r = await trainUNet(ds, settingsFor(ds, 8), { onEpoch: (e) => void curve.push(e.miou) });
    expect(r.final.miou, `mIoU by epoch: ${curve.map((v) => v.toFixed(3)).join(', ')}`).toBeGreaterThanOrEqual(0.8);

    const x = tf.tf.tensor4d(ds.val.images.subarray(0, 2 * 64 * 64 * 3), [2, 64, 64, 3]);
    const native = (r.model.predict(x) as import('@tensorflow/tfjs').Tensor).dataSync();
    const out = join(dir, 'model');
    await saveModel(r.model, out);
    r.model.dispose();
    // Plain tfjs: the JavaScript CPU backend, which knows nothing of TensorFlow.
    await initBackend('cpu');
    const loaded = await loadModel(out);
    const xCpu = tf.tf.tensor4d(ds.val.images.subarray(0, 2 * 64 * 64 * 3), [2, 64, 64, 3]);
    const plain = (loaded.predict(xCpu) as import('@tensorflow/tfjs').Tensor).dataSync();
    let worst = 0;
    for (let i = 0; i < plain.length; i++) worst = Math.max(worst, Math.abs(plain[i] - native[i]));
    expect(worst).toBeLessThan(1e-3);
    loaded.dispose();
    await initBackend('tensorflow');
  }, 300_000);
});

describe.skipIf(!available)('segtune search on native TensorFlow', () => {
  it('picks tensorflow automatically, runs each of 2 trials in its own process with its share of the cores, and keeps TensorFlow’s start-up logs quiet', () => {
    const space = join(repoRoot, 'search-spaces/unet-seg-quick.yaml');
    const r = runCli(['search', space, '--trials', '4', '--workers', '2', '--json', '--study', 'tf-quick', '--storage', join(dir, 'tf.db')], { cwd: dir, timeoutMs: 600_000 });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toMatch(/oneDNN|absl|cpu_feature_guard|I0000|W0000/);
    const doc = JSON.parse(r.stdout) as { trials: { state: string; attrs: Record<string, unknown>; values: Record<string, number> }[] };
    expect(doc.trials).toHaveLength(4);
    const share = Math.max(1, Math.floor(availableParallelism() / 2));
    for (const t of doc.trials) {
      expect(t.attrs.backend).toBe('tensorflow');
      expect(t.attrs.threads).toBe(share);
      expect(['complete', 'pruned']).toContain(t.state);
      expect(t.attrs.worker).toMatch(/^pid\d+\/t\d+$/);
    }
    // TensorFlow's binding keeps one backend per process: two trials in threads of one process
    // would share it (and crash now and then), so each slot is a process of its own.
    const pids = new Set(doc.trials.map((t) => String(t.attrs.worker).split('/')[0]));
    expect(pids.size).toBeGreaterThanOrEqual(2);
  }, 660_000);

  it('--backend tensorflow without the setup is one line naming the setup command, exit 2, nothing written', () => {
    const space = join(repoRoot, 'search-spaces/branin.yaml');
    const db = join(dir, 'never.db');
    const r = runCli(['search', space, '--backend', 'tensorflow', '--storage', db], { cwd: dir, env: { SEGTUNE_HOME: join(dir, 'empty-home') } });
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe('segtune: --backend tensorflow: native TensorFlow is not set up (run: segtune setup tensorflow)');
    const unknown = runCli(['search', space, '--backend', 'cuda', '--storage', db], { cwd: dir });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr.trim()).toBe("segtune: option '--backend <name>' argument 'cuda' is invalid. Allowed choices are tensorflow-gpu, tensorflow, wasm, cpu.");
  });

  it('segtune backends lists every backend with whether it is usable and why not', () => {
    const r = runCli(['backends', '--json', '--workers', '2']);
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout) as { automatic: string; backends: { name: string; usable: boolean; reason?: string; version?: string; threads?: number }[] };
    expect(doc.backends.map((b) => b.name)).toEqual(['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu']);
    const native = doc.backends[1];
    expect(native).toMatchObject({ usable: true, threads: Math.max(1, Math.floor(availableParallelism() / 2)) });
    expect(native.version).toMatch(/^TensorFlow 2\.\d+\.\d+, tfjs-node 4\.\d+\.\d+$/);
    if (!doc.backends[0].usable) expect(doc.backends[0].reason).toMatch(/GPU|not set up/);
    expect(doc.automatic).toBe(doc.backends[0].usable ? 'tensorflow-gpu' : 'tensorflow');
    const empty = runCli(['backends', '--json'], { env: { SEGTUNE_HOME: join(dir, 'empty-home') } });
    const noNative = JSON.parse(empty.stdout) as typeof doc;
    expect(noNative.backends[1]).toMatchObject({ usable: false, reason: 'not set up (run: segtune setup tensorflow)' });
    expect(noNative.automatic).toBe('wasm');
  });
});
