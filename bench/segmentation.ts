// npm run bench:segmentation -- --part losses|fidelity|plan [--quick] → bench/results/segmentation.md
// Each part stores its measurements in bench/results/segmentation.json; the Markdown is written
// from every part measured so far, so the parts can run separately (each under ten minutes of
// a shared machine, or in the background).
//
// fidelity: the quick space (search-spaces/unet-seg-quick.yaml: 32×32 shapes, ASHA over 1..9
//   epochs) searched by the real CLI with epochs alone and with epochs × resolution (workload
//   fidelity: epochs_resolution), same seed, trials and workers; time to a target mIoU from the
//   trials' stored finish times.
// losses: one fixed U-Net on the imbalanced synthetic-structures set (32×32, ~3 % foreground),
//   trained with each loss / class weighting at the same budget, 5 seeds each (median reported).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { parse, stringify } from 'yaml';
import { openStorage } from '@segtune/storage';
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

interface SearchRun {
  label: string;
  seconds: number;
  trials: { state: string; miou?: number; start: number; end: number; steps: number }[];
  start: number;
}

/** Runs `segtune search` on a space (text) to completion and reads its trials back. */
async function search(label: string, spaceText: string, args: string[]): Promise<SearchRun> {
  const dir = mkdtempSync(join(tmpdir(), 'segtune-bench-seg-'));
  try {
    const file = join(dir, 'space.yaml');
    writeFileSync(file, spaceText);
    const db = join(dir, 'study.db');
    const t0 = performance.now();
    const r = spawnSync(process.execPath, [join(root, 'apps/cli/bin/segtune.mjs'), 'search', file, '--storage', db, '--no-export', '--quiet', ...args], { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
    const seconds = (performance.now() - t0) / 1000;
    if (r.status !== 0) throw new Error(`segtune search (${label}) exited with ${r.status}`);
    const storage = await openStorage(db);
    try {
      const [study] = await storage.listStudies();
      const trials = await storage.getTrials(study.id);
      const start = Math.min(...trials.map((t) => t.startedAt ?? t.createdAt));
      return {
        label,
        seconds,
        start,
        trials: trials.map((t) => ({ state: t.state, miou: t.metrics?.miou, start: t.startedAt ?? t.createdAt, end: t.finishedAt ?? t.createdAt, steps: Object.keys(t.intermediate).length })),
      };
    } finally {
      await storage.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function fidelity(): Promise<{ tables: Table[]; notes: string[] }> {
  const trials = quick ? 6 : Number(arg('--trials') ?? 20);
  const seeds = (arg('--seeds') ?? (quick ? '0' : '0,1')).split(',').map(Number);
  const targets = [0.5, 0.6, 0.7];
  const base = parse(readFileSync(join(root, 'search-spaces/unet-seg-quick.yaml'), 'utf8')) as Record<string, unknown> & { workload: Record<string, unknown> };
  const runs: { fidelity: string; seed: number; run: SearchRun }[] = [];
  for (const seed of seeds) {
    for (const fid of ['epochs', 'epochs_resolution']) {
      const space = { ...base, workload: { ...base.workload, backend: 'wasm', ...(fid === 'epochs' ? {} : { fidelity: 'epochs_resolution' }) } };
      console.log(`search: fidelity ${fid}, seed ${seed}, ${trials} trials`);
      const run = await search(fid, stringify(space), ['--trials', String(trials), '--workers', '2', '--seed', String(seed)]);
      console.log(`  ${run.seconds.toFixed(0)} s`);
      runs.push({ fidelity: fid, seed, run });
    }
  }
  const timeTo = (run: SearchRun, target: number) => {
    const hits = run.trials.filter((t) => t.state === 'complete' && (t.miou ?? 0) >= target).map((t) => (t.end - run.start) / 1000);
    return hits.length ? Math.min(...hits) : undefined;
  };
  const rows = runs.map(({ fidelity: f, seed, run }) => {
    const complete = run.trials.filter((t) => t.state === 'complete');
    const best = Math.max(...complete.map((t) => t.miou ?? 0));
    const trialSeconds = run.trials.reduce((a, t) => a + (t.end - t.start) / 1000, 0);
    return [f === 'epochs' ? 'epochs' : 'epochs × resolution', seed, ...targets.map((x) => timeTo(run, x)?.toFixed(0) ?? 'not reached'), best, complete.length, run.trials.filter((t) => t.state === 'pruned').length, trialSeconds, run.seconds];
  });
  return {
    tables: [
      {
        title: `Time to a target mIoU with resolution as a fidelity: unet-seg-quick.yaml (32×32 synthetic shapes, ASHA η 3 over 1..9 epochs, TPE), ${trials} trials on 2 workers, wasm`,
        columns: ['fidelity', 'seed', ...targets.map((x) => `s to mIoU ≥ ${x}`), 'best mIoU', 'complete', 'pruned', 'trial-seconds', 'search s'],
        rows,
      },
    ],
    notes: [
      'epochs × resolution: epoch 1 trains at 8×8 (¼), epochs 2–3 at 16×16 (½), epochs 4–9 at 32×32, so the rung at 1 epoch costs ~1/16 and the rung at 3 epochs ~1/5 of the full-size ones; each rung compares trials at the same epoch and resolution; latency_ms is always measured at 32×32.',
      '"s to mIoU ≥ x": seconds from the first trial start to the first complete (full-budget) trial whose final mIoU reaches x, read from the stored trial finish times; trial-seconds: the sum of every trial\'s run time.',
      `The machine is shared with other agents' work, so seconds carry noise of tens of percent; seeds ${seeds.join(', ')}.`,
    ],
  };
}

const PARTS: Record<string, () => Promise<{ tables: Table[]; notes: string[] }>> = { losses, fidelity };
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
