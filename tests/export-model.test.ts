import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { openStorage } from '@segtune/storage';
import { buildUNet, evaluate, initBackend, loadDataset, loadModel, modelConfig, parseSegSpec, trialSettings } from '@segtune/seg';
import { runCli } from './support/cli';

// A small segmentation study on imbalanced data, with a loss, class weights and flip TTA
// searched, so the exported model has to reproduce all of them.
const SPACE = `name: tiny-seg
objectives:
  - { name: miou, direction: maximize }
params:
  width: { type: categorical, choices: [4] }
  depth: { type: int, low: 1, high: 2 }
  lr: { type: float, low: 0.003, high: 0.01, log: true }
  loss: { type: categorical, choices: [ce_dice, tversky] }
  class_weights: { type: categorical, choices: [none, median], when: { loss: ce_dice } }
  tta: { type: categorical, choices: [none, hflip] }
budget: { name: epochs, min: 1, max: 2 }
sampler: { kind: random }
seed: 3
workload:
  kind: segmentation
  dataset: { kind: synthetic-structures, image_size: 16, train_size: 8, val_size: 6, seed: 1 }
  backend: wasm
  latency_runs: 20
`;

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'segtune-export-model-'));
  writeFileSync(join(dir, 'space.yaml'), SPACE);
  const r = runCli(['search', 'space.yaml', '--trials', '2', '--workers', '1', '--storage', 'study.db', '--no-export', '--quiet'], { cwd: dir, timeoutMs: 300_000 });
  expect(r.stderr).not.toMatch(/error|failed/i);
  expect(r.code).toBe(0);
}, 320_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('segtune export --with-model', () => {
  it("writes the weights the chosen trial trained, which reproduce the study's mIoU within 1e-6", async () => {
    const r = runCli(['export', '--study', 'tiny-seg', '--storage', 'study.db', '--with-model', '--out', 'best.yaml'], { cwd: dir, timeoutMs: 120_000 });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/exported the weights trial \d+ trained \(epoch 2, from /);
    expect(r.stdout).not.toMatch(/training/);
    const doc = parse(readFileSync(join(dir, 'best.yaml'), 'utf8')) as { trial: number; model: string; metrics: Record<string, number>; params: Record<string, string | number> };
    const storage = await openStorage(join(dir, 'study.db'));
    const [study] = await storage.listStudies();
    const trial = (await storage.getTrials(study.id)).find((t) => t.number === doc.trial)!;
    await storage.close();
    // Reload in this process, evaluate on the same validation split: the study's figure.
    await initBackend('wasm');
    const model = await loadModel(doc.model);
    const spec = parseSegSpec(parse(SPACE).workload);
    const ds = loadDataset(spec);
    const cm = await evaluate(model, ds, ds.val, 16, trialSettings(doc.params).tta);
    model.dispose();
    expect(Math.abs(cm.miou() - trial.metrics!.miou)).toBeLessThanOrEqual(1e-6);
    // Not a coincidence of a degenerate prediction: an untrained net of the same shape predicts otherwise.
    const untrained = buildUNet(modelConfig(doc.params, { height: 16, width: 16, channels: 3, numClasses: 4 }), 0);
    const cm0 = await evaluate(untrained, ds, ds.val, 16, trialSettings(doc.params).tta);
    untrained.dispose();
    expect(Array.from(cm0.counts)).not.toEqual(Array.from(cm.counts));
    expect(doc.metrics.model_miou).toBeCloseTo(trial.metrics!.miou, 6);
    const config = JSON.parse(readFileSync(join(doc.model, 'config.json'), 'utf8')) as Record<string, unknown>;
    expect(config).toMatchObject({ source: "the trial's own checkpoint", epochs: 2, trial: doc.trial, tta: doc.params.tta ?? 'none' });
  }, 120_000);

  it('trains again only with --retrain', () => {
    const r = runCli(['export', '--study', 'tiny-seg', '--storage', 'study.db', '--with-model', '--retrain', '--out', 'again.yaml'], { cwd: dir, timeoutMs: 120_000 });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/training trial \d+'s configuration again at full budget \(2 epochs\)/);
    const doc = parse(readFileSync(join(dir, 'again.yaml'), 'utf8')) as { model: string; metrics: Record<string, number> };
    expect(Number.isFinite(doc.metrics.final_miou)).toBe(true);
    expect(existsSync(join(doc.model, 'weights.bin'))).toBe(true);
  }, 120_000);

  it('fails in one line when the checkpoint is gone', async () => {
    const storage = await openStorage(join(dir, 'study.db'));
    const [study] = await storage.listStudies();
    const dirs = (await storage.getTrials(study.id)).map((t) => t.attrs.checkpoint_dir as string);
    await storage.close();
    // The weights (named by each checkpoint's header), the header left in place.
    for (const d of dirs) for (const f of readdirSync(d)) if (/^checkpoint.*\.bin$/.test(f)) rmSync(join(d, f), { force: true });
    const r = runCli(['export', '--study', 'tiny-seg', '--storage', 'study.db', '--with-model', '--out', 'gone.yaml'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toMatch(/^segtune: no checkpoint in .*trial-\d+ \(checkpoint\.json or the weights it names missing\)$/);
  });
});
