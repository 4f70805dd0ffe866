// npm run bench:segmentation -- --part losses|fidelity|plan [--quick] → bench/results/segmentation.md
// Each part stores its measurements in bench/results/segmentation.json; the Markdown is written
// from every part measured so far, so the parts can run separately (each under ten minutes of
// a shared machine, or in the background).
//
// losses: one fixed U-Net on the imbalanced synthetic-structures set (32×32, ~3 % foreground),
//   trained with each loss / class weighting at the same budget, 5 seeds each (median reported).
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median } from 'simple-statistics';
import { writeReport, resultsDir, type Table } from './lib/report';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const arg = (flag: string) => {
  const i = process.argv.indexOf(flag);
  return i < 0 ? undefined : process.argv[i + 1];
};
const part = arg('--part') ?? 'losses';
const quick = process.argv.includes('--quick');
const parallel = Number(arg('--processes') ?? 2);

export interface JobResult {
  key: string;
  seed: number;
  params: Record<string, unknown>;
  result: Record<string, number>;
  curve: { step: number; seconds: number; miou: number }[];
  seconds: number;
}

/** Runs jobs in `parallel` child processes (round robin), returning every result line. */
export async function runJobs(jobs: object[]): Promise<JobResult[]> {
  const run = (list: object[]) =>
    new Promise<string>((res, rej) => {
      if (!list.length) return res('');
      const p = spawn(join(root, 'node_modules/.bin/tsx'), [join(root, 'bench/segmentation-worker.ts'), JSON.stringify(list)], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      p.stdout.on('data', (d: Buffer) => {
        out += d;
        for (const l of String(d).split('\n')) if (l.startsWith('{')) console.log(l.slice(0, 200));
      });
      p.on('close', (code) => (code === 0 ? res(out) : rej(new Error(`segmentation worker exited with ${code}`))));
    });
  const outs = await Promise.all(Array.from({ length: parallel }, (_, k) => run(jobs.filter((_, i) => i % parallel === k))));
  return outs
    .join('\n')
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as JobResult);
}

const store = join(resultsDir, 'segmentation.json');
const parts: Record<string, { command: string; date: string; tables: Table[]; notes: string[] }> = existsSync(store) ? JSON.parse(readFileSync(store, 'utf8')) : {};

async function losses(): Promise<{ tables: Table[]; notes: string[] }> {
  const seeds = quick ? [0, 1] : [0, 1, 2, 3, 4];
  const epochs = quick ? 4 : 12;
  const dataset = { kind: 'synthetic-structures', image_size: 32, train_size: 192, val_size: 64, seed: 0 };
  const base = { width: 8, depth: 2, batch_size: 16, lr: 0.003, optimizer: 'adam' };
  const variants: [string, Record<string, string | number>][] = [
    ['cross-entropy', { loss: 'ce' }],
    ['cross-entropy, inverse-frequency weights', { loss: 'ce', class_weights: 'inverse' }],
    ['cross-entropy, median-frequency weights', { loss: 'ce', class_weights: 'median' }],
    ['soft Dice', { loss: 'dice' }],
    ['cross-entropy + Dice', { loss: 'ce_dice' }],
    ['focal (γ 2)', { loss: 'focal', focal_gamma: 2 }],
    ['Tversky (α 0.3, β 0.7)', { loss: 'tversky' }],
  ];
  const jobs = variants.flatMap(([key, p]) => seeds.map((seed) => ({ key, seed, params: { ...base, ...p }, workload: { dataset, backend: 'wasm', latency_runs: 20 }, budget: { name: 'epochs', min: 1, max: epochs } })));
  const t0 = performance.now();
  const results = await runJobs(jobs);
  const seconds = (performance.now() - t0) / 1000;
  const ce = median(results.filter((r) => r.key === 'cross-entropy').map((r) => r.result.miou));
  const rows = variants.map(([key]) => {
    const rs = results.filter((r) => r.key === key);
    const m = median(rs.map((r) => r.result.miou));
    return [key, m, median(rs.map((r) => r.result.miou_foreground)), Math.min(...rs.map((r) => r.result.miou)), Math.max(...rs.map((r) => r.result.miou)), m - ce, median(rs.map((r) => r.seconds))];
  });
  return {
    tables: [
      {
        title: `Per-loss validation mIoU on synthetic-structures (32×32, 192 train / 64 val, ~3 % foreground in 3 classes), median of ${seeds.length} seeds`,
        columns: ['loss', 'mIoU (median)', 'foreground mIoU (median)', 'mIoU min', 'mIoU max', 'Δ mIoU vs cross-entropy', 'train s (median)'],
        rows,
      },
    ],
    notes: [
      `Every run: U-Net width 8, depth 2, batch norm, batch 16, Adam at lr 0.003 (constant), ${epochs} epochs, no augmentation, wasm backend, seeds ${seeds.join(', ')} (weights init and data order); the same budget for every loss, and one learning rate for all of them (not tuned per loss).`,
      'mIoU averages background (IoU ≈ 0.97 for every loss) with the three foreground classes; foreground mIoU leaves background out.',
      `${results.length} runs in ${seconds.toFixed(0)} s on ${parallel} processes (machine shared with other work, so train seconds are indicative only).`,
    ],
  };
}

const PARTS: Record<string, () => Promise<{ tables: Table[]; notes: string[] }>> = { losses };
if (!PARTS[part]) throw new Error(`--part ${part}: unknown; allowed: ${Object.keys(PARTS).join(', ')}`);
const measured = await PARTS[part]();
parts[part + (quick ? '-quick' : '')] = { command: `npm run bench:segmentation -- ${process.argv.slice(2).join(' ')}`, date: new Date().toISOString(), ...measured };
writeFileSync(store, JSON.stringify(parts, null, 2) + '\n');
const order = Object.keys(parts).sort();
writeReport({
  name: 'segmentation',
  command: order.map((k) => `${parts[k].command} (${parts[k].date})`).join('; '),
  tables: order.flatMap((k) => parts[k].tables),
  notes: order.flatMap((k) => parts[k].notes),
});
