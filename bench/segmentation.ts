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
const parts: Record<string, { command: string; date: string; tables: Table[]; notes: string[]; runs?: unknown[] }> = existsSync(store) ? JSON.parse(readFileSync(store, 'utf8')) : {};

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
  /** cost: the trial's epochs in full-size equivalents, Σ (side / target side)² over its reports. */
  trials: { state: string; miou?: number; start: number; end: number; steps: number; cost: number }[];
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
        trials: trials.map((t) => {
          const reports = Object.values(t.intermediate);
          const full = Math.max(1, ...reports.map((v) => v.resolution ?? 0));
          return { state: t.state, miou: t.metrics?.miou, start: t.startedAt ?? t.createdAt, end: t.finishedAt ?? t.createdAt, steps: reports.length, cost: reports.reduce((a, v) => a + ((v.resolution ?? full) / full) ** 2, 0) };
        }),
      };
    } finally {
      await storage.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

type FidelityRun = { fidelity: string; seed: number; trials: number; run: SearchRun };

async function fidelity(): Promise<{ tables: Table[]; notes: string[]; runs: FidelityRun[] }> {
  const trials = quick ? 6 : Number(arg('--trials') ?? 20);
  const seeds = (arg('--seeds') ?? (quick ? '0' : '0,1')).split(',').map(Number);
  const fidelities = (arg('--fidelity') ?? 'epochs,epochs_resolution').split(',');
  const targets = [0.5, 0.6, 0.7];
  const base = parse(readFileSync(join(root, 'search-spaces/unet-seg-quick.yaml'), 'utf8')) as Record<string, unknown> & { workload: Record<string, unknown> };
  // Runs of earlier invocations (one exclusive-lock hold each) are kept; a rerun replaces its own.
  const earlier = ((parts[partKey('fidelity')] as { runs?: FidelityRun[] } | undefined)?.runs ?? []).filter((r) => r.trials === trials && !(seeds.includes(r.seed) && fidelities.includes(r.fidelity)));
  const runs: FidelityRun[] = [...earlier];
  for (const seed of seeds) {
    for (const fid of fidelities) {
      const space = { ...base, workload: { ...base.workload, backend: 'wasm', ...(fid === 'epochs' ? {} : { fidelity: 'epochs_resolution' }) } };
      console.log(`search: fidelity ${fid}, seed ${seed}, ${trials} trials`);
      const run = await search(fid, stringify(space), ['--trials', String(trials), '--workers', '2', '--seed', String(seed)]);
      console.log(`  ${run.seconds.toFixed(0)} s`);
      runs.push({ fidelity: fid, seed, trials, run });
    }
  }
  runs.sort((a, b) => a.seed - b.seed || a.fidelity.localeCompare(b.fidelity));
  const timeTo = (run: SearchRun, target: number) => {
    const hits = run.trials.filter((t) => t.state === 'complete' && (t.miou ?? 0) >= target).map((t) => (t.end - run.start) / 1000);
    return hits.length ? Math.min(...hits) : undefined;
  };
  // Compute spent until the target was first reached: each trial's cost, pro rata of its run time before then.
  const costTo = (run: SearchRun, target: number) => {
    const hit = timeTo(run, target);
    if (hit === undefined) return undefined;
    const at = run.start + hit * 1000;
    return run.trials.reduce((a, t) => a + (t.end <= at ? t.cost : t.start >= at ? 0 : (t.cost * (at - t.start)) / Math.max(1, t.end - t.start)), 0);
  };
  const rows = runs.map(({ fidelity: f, seed, run }) => {
    const complete = run.trials.filter((t) => t.state === 'complete');
    const best = Math.max(...complete.map((t) => t.miou ?? 0));
    const trialSeconds = run.trials.reduce((a, t) => a + (t.end - t.start) / 1000, 0);
    const epochs = run.trials.reduce((a, t) => a + t.steps, 0);
    const cost = run.trials.reduce((a, t) => a + t.cost, 0);
    return [f === 'epochs' ? 'epochs' : 'epochs × resolution', seed, ...targets.map((x) => timeTo(run, x)?.toFixed(0) ?? 'not reached'), ...targets.map((x) => costTo(run, x)?.toFixed(1) ?? 'not reached'), best, complete.length, run.trials.filter((t) => t.state === 'pruned').length, epochs, cost, trialSeconds, run.seconds];
  });
  return {
    tables: [
      {
        title: `Time to a target mIoU with resolution as a fidelity: unet-seg-quick.yaml (32×32 synthetic shapes, ASHA η 3 over 1..9 epochs, TPE), ${trials} trials on 2 workers, wasm`,
        columns: ['fidelity', 'seed', ...targets.map((x) => `s to mIoU ≥ ${x}`), ...targets.map((x) => `full-size epochs to mIoU ≥ ${x}`), 'best mIoU', 'complete', 'pruned', 'epochs trained', 'full-size epoch equivalents', 'trial-seconds', 'search s'],
        rows,
      },
    ],
    runs,
    notes: [
      'epochs × resolution: epoch 1 trains at 8×8 (¼), epochs 2–3 at 16×16 (½), epochs 4–9 at 32×32, so the rung at 1 epoch costs ~1/16 and the rung at 3 epochs ~1/5 of the full-size ones; each rung compares trials at the same epoch and resolution; latency_ms is always measured at 32×32.',
      '"s to mIoU ≥ x": seconds from the first trial start to the first complete (full-budget) trial whose final mIoU reaches x, read from the stored trial finish times; trial-seconds: the sum of every trial\'s run time; full-size epoch equivalents: Σ over all epochs trained of (side / 32)², a load-independent measure of the compute spent ("full-size epochs to mIoU ≥ x" counts it up to the moment the target was reached, running trials pro rata).',
      `The machine is shared with other agents' work, so seconds carry noise of tens of percent; seeds ${seeds.join(', ')}.`,
    ],
  };
}

async function planPart(): Promise<{ tables: Table[]; notes: string[] }> {
  const trials = quick ? 4 : Number(arg('--trials') ?? 10);
  const hours = Number(arg('--hours') ?? 0.25);
  const dir = mkdtempSync(join(tmpdir(), 'segtune-bench-plan-'));
  try {
    const data = join(dir, 'structures');
    const { syntheticStructures, writeFolderDataset } = await import('@segtune/seg');
    const n = writeFolderDataset(syntheticStructures({ imageSize: 32, trainSize: 192, valSize: 64, seed: 0 }), data);
    const planned = join(dir, 'planned.yaml');
    const times: number[] = [];
    for (let i = 0; i < (quick ? 1 : 3); i++) {
      const t0 = performance.now();
      const r = spawnSync(process.execPath, [join(root, 'apps/cli/bin/segtune.mjs'), 'plan', '--data', data, '--out', planned, '--hours', String(hours), '--backend', 'wasm'], { cwd: dir, encoding: 'utf8', env: { ...process.env, SEGTUNE_FAKE_GPUS: 'none' } });
      times.push((performance.now() - t0) / 1000);
      if (r.status !== 0) throw new Error(`segtune plan exited with ${r.status}: ${r.stderr}`);
      if (i === 0) console.log(r.stdout);
    }
    const rows: (string | number)[][] = [];
    const quickSpace = parse(readFileSync(join(root, 'search-spaces/unet-seg-quick.yaml'), 'utf8')) as Record<string, unknown> & { workload: Record<string, unknown> };
    const handWritten = stringify({ ...quickSpace, workload: { ...quickSpace.workload, backend: 'wasm', dataset: { kind: 'folder', path: data, image_size: 32, num_classes: 4 } } });
    const plannedText = readFileSync(planned, 'utf8').replace(/path: "[^"]*"/, `path: ${JSON.stringify(data)}`).replace('backend: auto', 'backend: wasm');
    const summary = (label: string, run: SearchRun, space: string) => {
      const first = run.trials.slice(0, trials);
      const complete = first.filter((t) => t.state === 'complete').map((t) => t.miou ?? 0);
      const budget = (parse(space) as { budget: { min: number; max: number } }).budget;
      rows.push([label, `${budget.min}..${budget.max}`, Math.max(...complete), median(complete), complete.length, first.filter((t) => t.state === 'pruned').length, run.seconds]);
    };
    for (const [label, text] of [['hand-written unet-seg-quick.yaml', handWritten], [`segtune plan --hours ${hours}`, plannedText]] as const) {
      console.log(`search: ${label}, ${trials} trials`);
      summary(label, await search(label, text, ['--trials', String(trials), '--workers', '2', '--seed', '0', '--timeout', '60m']), text);
    }
    return {
      tables: [
        { title: `segtune plan on a folder of ${n} synthetic-structures images (32×32, 4 classes, ~3 % foreground)`, columns: ['measure', 'value'], rows: [['plan run time, s (median of runs)', median(times)], ['runs', times.length], ...times.map((t, i) => [`run ${i + 1}, s`, t] as [string, number])] },
        { title: `First ${trials} trials of each space on that folder (TPE + ASHA, 2 workers, seed 0, wasm)`, columns: ['space', 'budget (epochs)', 'best mIoU', 'median mIoU of complete', 'complete', 'pruned', 'search s'], rows },
      ],
      notes: [
        'plan run time: the whole command (process start, fingerprint of 256 PNG pairs, memory query, 1.5 s of timed training steps, writing the space).',
        'Both spaces train on the same folder and validation split (the folder loader holds out 20 %); the planned space keeps its own budget, losses and trial timeout as written, and the hand-written one is the quick space with its dataset pointed at the folder.',
      ],
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function partKey(name: string): string {
  return name + (quick ? '-quick' : '');
}

const PARTS: Record<string, () => Promise<{ tables: Table[]; notes: string[] }>> = { losses, fidelity, plan: planPart };
if (!PARTS[part]) throw new Error(`--part ${part}: unknown; allowed: ${Object.keys(PARTS).join(', ')}`);
const measured = await PARTS[part]();
parts[partKey(part)] = { command: `npm run bench:segmentation -- ${process.argv.slice(2).join(' ')}`, date: new Date().toISOString(), ...measured };
writeFileSync(store, JSON.stringify(parts, null, 2) + '\n');
const order = Object.keys(parts).sort();
writeReport({
  name: 'segmentation',
  command: order.map((k) => `${parts[k].command} (${parts[k].date})`).join('; '),
  tables: order.flatMap((k) => parts[k].tables),
  notes: order.flatMap((k) => parts[k].notes),
});
