// A deterministic, realistic-looking segmentation study (mIoU against latency, U-Net params,
// per-epoch curves, ASHA-style pruning, a few out-of-memory failures) written through the
// ordinary Storage API. The dashboard's browser tests, its benchmark and its screenshot use it;
// it is not part of the package's public surface.
import { Rng, type Storage, type StudyRecord } from '@segtune/core';

export const DEMO_SPACE = `name: unet-seg-demo
objectives:
  - { name: miou, direction: maximize }
  - { name: latency_ms, direction: minimize }
params:
  width: { type: int, low: 4, high: 16, step: 4 }
  depth: { type: int, low: 1, high: 3 }
  lr: { type: float, low: 0.0003, high: 0.03, log: true }
  batch_size: { type: categorical, choices: [8, 16, 32] }
  optimizer: { type: categorical, choices: [adam, adamw, sgd] }
  augment: { type: categorical, choices: [none, light, medium, heavy] }
  augment_magnitude: { type: float, low: 0.0, high: 1.0, when: { augment: [light, medium, heavy] } }
budget: { name: epochs, min: 1, max: 9 }
sampler: { kind: tpe }
scheduler: { kind: asha, reduction_factor: 3 }
workload: { kind: simulator }
`;

export interface DemoOptions {
  name: string;
  trials: number;
  seed?: number;
  /** Report per-epoch curves and prune ASHA-style (default true). */
  curves?: boolean;
  /** Fraction of trials that fail out of memory (default 0.04). */
  failFraction?: number;
  /** Leave this many trials running at the end (default 0). */
  running?: number;
  /** Epochs of a full trial (default 9). */
  epochs?: number;
}

export interface DemoTrial {
  params: { width: number; depth: number; lr: number; batch_size: number; optimizer: string; augment: string; augment_magnitude?: number };
  miou: number;
  latency_ms: number;
}

/** One configuration and its (noisy, deterministic) outcome. */
export function demoTrial(rng: Rng): DemoTrial {
  const width = 4 * (1 + Math.floor(rng.random() * 4));
  const depth = 1 + Math.floor(rng.random() * 3);
  const lr = Math.exp(Math.log(3e-4) + rng.random() * (Math.log(3e-2) - Math.log(3e-4)));
  const batch_size = [8, 16, 32][Math.floor(rng.random() * 3)];
  const optimizer = ['adam', 'adamw', 'sgd'][Math.floor(rng.random() * 3)];
  const augment = ['none', 'light', 'medium', 'heavy'][Math.floor(rng.random() * 4)];
  const params: DemoTrial['params'] = { width, depth, lr: Number(lr.toPrecision(6)), batch_size, optimizer, augment };
  if (augment !== 'none') params.augment_magnitude = Number(rng.random().toFixed(4));
  const capacity = Math.log2(width * Math.pow(2, depth - 1) * 2);
  const lrFit = Math.exp(-Math.pow(Math.log10(lr) - Math.log10(4e-3), 2) / 0.5);
  const aug = { none: 0, light: 0.03, medium: 0.04, heavy: 0.01 }[augment]! * (augment === 'none' ? 0 : 1 - Math.abs((params.augment_magnitude ?? 0) - 0.45));
  const opt = { adam: 0.02, adamw: 0.03, sgd: -0.04 }[optimizer]!;
  const miou = Math.min(0.97, Math.max(0.05, 0.22 + 0.09 * capacity * lrFit + 0.08 * lrFit + aug + opt + (rng.random() - 0.5) * 0.05));
  const latency_ms = 0.35 + 0.0065 * Math.pow(width, 1.6) * depth * (1 + 0.35 * (depth - 1)) * (1 + (rng.random() - 0.5) * 0.12) + (batch_size === 8 ? 0.02 : 0);
  return { params, miou: Number(miou.toFixed(5)), latency_ms: Number(latency_ms.toFixed(4)) };
}

/** Writes the study through `storage` and returns its record. */
export async function writeDemoStudy(storage: Storage, o: DemoOptions): Promise<StudyRecord> {
  const rng = new Rng(o.seed ?? 7);
  const epochs = o.epochs ?? 9;
  const curves = o.curves ?? true;
  const record = await storage.createStudy({
    name: o.name,
    objectives: [
      { name: 'miou', direction: 'maximize' },
      { name: 'latency_ms', direction: 'minimize' },
    ],
    budget: { name: 'epochs', min: 1, max: epochs },
    sampler: { kind: 'tpe' },
    scheduler: { kind: 'asha', reduction_factor: 3 },
    seed: o.seed ?? 7,
    spaceSource: DEMO_SPACE,
  });
  const rungs = [1, 3].filter((r) => r < epochs);
  const atRung = new Map<number, number[]>(rungs.map((r) => [r, []]));
  for (let n = 0; n < o.trials; n++) {
    const d = demoTrial(rng);
    const t = (await storage.createTrial(record.id, { state: 'running', params: d.params, attrs: { worker: `demo-${n % 2}`, backend: 'wasm' } }))!;
    const live = n >= o.trials - (o.running ?? 0);
    const speed = 0.35 + 0.4 * rng.random();
    const curve = (epoch: number) => d.miou * (1 - Math.exp(-speed * (epoch + 1))) + (rng.random() - 0.5) * 0.01;
    if (rng.random() < (o.failFraction ?? 0.04) && !live) {
      if (curves) await storage.reportIntermediate(t.id, 0, { miou: curve(0), loss: 1 - curve(0) });
      await storage.finishTrial(t.id, { state: 'failed', attrs: { reason: 'oom', error: `out of memory at width ${d.params.width}, batch ${d.params.batch_size}` } });
      continue;
    }
    let pruned = false;
    const last = live ? Math.min(epochs - 1, 1 + (n % 4)) : epochs - 1;
    for (let e = 0; curves && e <= last; e++) {
      const m = curve(e);
      await storage.reportIntermediate(t.id, e, { miou: Number(m.toFixed(5)), loss: Number((1.1 - m + 0.05 * Math.exp(-e)).toFixed(5)) });
      const seen = atRung.get(e);
      if (seen && !live) {
        seen.push(m);
        // ASHA with η = 3: continue only in the top third of this rung so far.
        const sorted = [...seen].sort((a, b) => b - a);
        if (seen.length >= 3 && m < sorted[Math.floor(seen.length / 3)]) {
          pruned = true;
          break;
        }
      }
    }
    if (live) continue;
    if (pruned) {
      await storage.finishTrial(t.id, { state: 'pruned' });
      continue;
    }
    await storage.finishTrial(t.id, {
      state: 'complete',
      values: [d.miou, d.latency_ms],
      metrics: { miou: d.miou, latency_ms: d.latency_ms, pixel_acc: Number(Math.min(0.995, 0.6 + d.miou * 0.4).toFixed(5)), params_k: Number((0.3 * d.params.width * d.params.width * d.params.depth * 9).toFixed(1)) },
    });
  }
  return record;
}
