// npm run bench:trainer [-- --skip-spread] → bench/results/trainer.md
// 1. Training throughput (images/s of plain training steps) of the reference U-Net (width 8,
//    depth 2, batch 8) and of a wider one (width 16, depth 3, batch 32) on 64×64 images, with
//    batch norm and Adam: native TensorFlow (tfjs-node built by `segtune setup tensorflow`) at 1
//    and 2 intra-op threads, wasm, the plain CPU backend, and the same architecture in PyTorch on
//    the CPU at the same thread counts (bench/peers/torch_unet.py). Each measurement runs in its
//    own process (bench/trainer-throughput-worker.ts), interleaved, so that thread settings and
//    machine drift touch every runtime alike.
// 2. Latency stability: coefficient of variation of five repeated latency measurements
//    (each the median of 30 batch-1 runs after warm-up) on wasm and on tensorflow.
// 3. Search meaningfulness: validation mIoU of 20 random configurations of
//    search-spaces/unet-seg-quick.yaml at its full budget (two child processes), and its spread.
import { execFileSync, spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Rng } from '@segtune/core';
import { loadSpaceFile } from '@segtune/space';
import { buildUNet, measureLatency, coefficientOfVariation, initBackend, nativeAvailable, type UNetConfig } from '@segtune/seg';
import { writeReport, type Table } from './lib/report';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const skipSpread = process.argv.includes('--skip-spread');
const SIZE = 64;
const ref: UNetConfig = { width: 8, depth: 2, kernelSize: 3, activation: 'relu', batchNorm: true, dropout: 0, separable: false, height: SIZE, widthPx: SIZE, channels: 3, numClasses: 5 };
if (!nativeAvailable('cpu')) throw new Error('native TensorFlow is not set up: run `npx segtune setup tensorflow` first');

interface Rate {
  images_per_s: number;
  params: number;
  cores_busy?: number;
  torch?: string;
}
const tsx = join(root, 'node_modules/.bin/tsx');
const py = execFileSync(join(root, 'scripts/python-venv.sh'), ['bench', 'optuna==5.0.0', 'scipy', 'torch==2.13.0', 'psycopg2-binary'], { encoding: 'utf8' }).trim();
const lastJson = (out: string) => JSON.parse(out.trim().split('\n').pop()!) as Rate;
function tfjsRate(backend: string, net: { width: number; depth: number; batch: number }, steps: number, env: Record<string, string> = {}): Rate {
  const args = [join(root, 'bench/trainer-throughput-worker.ts'), backend, String(net.width), String(net.depth), String(net.batch), String(steps)];
  return lastJson(execFileSync(tsx, args, { cwd: root, encoding: 'utf8', env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '2', ...env } }));
}
function torchRate(net: { width: number; depth: number; batch: number }, threads: number, steps: number): Rate {
  const args = [join(root, 'bench/peers/torch_unet.py'), '--width', String(net.width), '--depth', String(net.depth), '--size', String(SIZE), '--batch', String(net.batch), '--threads', String(threads), '--steps', String(steps)];
  return lastJson(execFileSync(py, args, { encoding: 'utf8' }));
}
const tfThreads = (n: number, onednn = '1') => ({ TF_NUM_INTRAOP_THREADS: String(n), TF_NUM_INTEROP_THREADS: '1', TF_ENABLE_ONEDNN_OPTS: onednn });

const nets = [
  { label: 'reference U-Net (width 8, depth 2), batch 8', width: 8, depth: 2, batch: 8, steps: 40 },
  { label: 'width 16, depth 3, batch 32', width: 16, depth: 3, batch: 32, steps: 12 },
];
const throughputTables: Table[] = [];
const goals: string[] = [];
let torchVersion = '';
for (const net of nets) {
  console.log(`throughput: ${net.label}`);
  // Two rounds, interleaved; each figure is the better of its two.
  const best = new Map<string, Rate>();
  const keep = (key: string, r: Rate) => {
    console.log(key, r);
    if (!best.has(key) || r.images_per_s > best.get(key)!.images_per_s) best.set(key, r);
  };
  for (let round = 0; round < 2; round++) {
    for (const threads of [1, 2]) {
      keep(`torch ${threads}`, torchRate(net, threads, net.steps));
      keep(`tensorflow ${threads}`, tfjsRate('tensorflow', net, net.steps, tfThreads(threads)));
    }
    keep('tensorflow 1 onednn-off', tfjsRate('tensorflow', net, net.steps, tfThreads(1, '0')));
    keep('wasm 1', tfjsRate('wasm', net, Math.max(4, Math.round(net.steps / 4))));
  }
  if (net.width === 8) keep('cpu 1', tfjsRate('cpu', net, 2));
  torchVersion = best.get('torch 1')!.torch ?? torchVersion;
  const torch = (t: number) => best.get(`torch ${t}`)!.images_per_s;
  const wasm = best.get('wasm 1')!.images_per_s;
  const row = (name: string, key: string, threads: number) => {
    const r = best.get(key)!;
    return [name, threads, r.images_per_s, r.cores_busy ?? '', r.images_per_s / torch(threads), r.images_per_s / wasm];
  };
  throughputTables.push({
    title: `Training throughput, ${net.label}, ${SIZE}×${SIZE}, ${best.get('torch 1')!.params} params, Adam (better of two interleaved rounds)`,
    columns: ['runtime', 'threads', 'images/s', 'cores busy', 'ratio to PyTorch (same threads)', 'ratio to wasm'],
    rows: [
      row('tfjs tensorflow (native TensorFlow 2.21 from PyPI, oneDNN on)', 'tensorflow 1', 1),
      row('tfjs tensorflow (native TensorFlow 2.21 from PyPI, oneDNN on)', 'tensorflow 2', 2),
      row('tfjs tensorflow, oneDNN off (TF_ENABLE_ONEDNN_OPTS=0)', 'tensorflow 1 onednn-off', 1),
      row('tfjs wasm (with segtune training kernels)', 'wasm 1', 1),
      ...(best.has('cpu 1') ? [row('tfjs cpu (plain JS)', 'cpu 1', 1)] : []),
      [`PyTorch ${torchVersion} CPU`, 1, torch(1), best.get('torch 1')!.cores_busy ?? '', 1, torch(1) / wasm],
      [`PyTorch ${torchVersion} CPU`, 2, torch(2), best.get('torch 2')!.cores_busy ?? '', 1, torch(2) / wasm],
    ],
  });
  for (const t of [1, 2]) {
    const r = best.get(`tensorflow ${t}`)!.images_per_s;
    goals.push(`${net.label}, ${t} thread(s): tensorflow ${(r / torch(t)).toFixed(2)}× PyTorch (goal ≥ 0.8: ${r / torch(t) >= 0.8 ? 'met' : 'missed'}), ${(r / wasm).toFixed(1)}× wasm (goal ≥ 4: ${r / wasm >= 4 ? 'met' : 'missed'}).`);
  }
}

const latencyCv = async (backend: string) => {
  await initBackend(backend);
  const latModel = buildUNet(ref, 1);
  const medians: number[] = [];
  for (let i = 0; i < 5; i++) medians.push((await measureLatency(latModel, [SIZE, SIZE, 3], { runs: 30, warmup: 5 })).medianMs);
  latModel.dispose();
  return { medians, cv: coefficientOfVariation(medians) };
};
console.log('latency stability');
const latWasm = await latencyCv('wasm');
const latTf = await latencyCv('tensorflow');

const tables: Table[] = [
  ...throughputTables,
  {
    title: 'Latency stability (reference U-Net, batch 1, 64×64; five measurements, each the median of 30 runs after 5 warm-up runs)',
    columns: ['measurement', 'wasm median ms', 'tensorflow median ms'],
    rows: [...latWasm.medians.map((m, i) => [String(i + 1), m, latTf.medians[i]] as (string | number)[]), ['coefficient of variation', latWasm.cv, latTf.cv]],
  },
];

const notes = [
  ...goals,
  `latency coefficient of variation: wasm ${(latWasm.cv * 100).toFixed(1)}%, tensorflow ${(latTf.cv * 100).toFixed(1)}% (goal ≤ 10%).`,
  '"cores busy" is the CPU time of the process divided by wall time: how many cores the runtime kept busy.',
  'Throughput counts training steps only (forward, backward and Adam update of one batch, data already in tensors); the trainer adds augmentation and per-epoch validation on top.',
];

if (!skipSpread) {
  console.log('mIoU spread: 20 random configurations of unet-seg-quick.yaml');
  const file = join(root, 'search-spaces/unet-seg-quick.yaml');
  const loaded = loadSpaceFile(file);
  const rng = new Rng(2024);
  const jobs = Array.from({ length: 20 }, (_, i) => ({ index: i, params: loaded.space.decode(loaded.space.params.map(() => rng.random())), seed: 1000 + i }));
  const t0 = performance.now();
  const runPart = (part: typeof jobs) =>
    new Promise<string>((res, rej) => {
      const p = spawn(join(root, 'node_modules/.bin/tsx'), [join(root, 'bench/trainer-spread-worker.ts'), JSON.stringify(part), file], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      p.stdout.on('data', (d: Buffer) => {
        out += d;
        for (const l of String(d).split('\n')) if (l.startsWith('{')) console.log(l.slice(0, 160));
      });
      p.on('close', (code) => (code === 0 ? res(out) : rej(new Error(`spread worker exited with ${code}`))));
    });
  const outs = await Promise.all([runPart(jobs.filter((_, i) => i % 2 === 0)), runPart(jobs.filter((_, i) => i % 2 === 1))]);
  const seconds = (performance.now() - t0) / 1000;
  const results = outs
    .join('\n')
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { index: number; params: Record<string, unknown>; result: Record<string, number>; seconds: number; backend: string })
    .sort((a, b) => b.result.miou - a.result.miou);
  const mious = results.map((r) => r.result.miou);
  const spread = Math.max(...mious) - Math.min(...mious);
  const fmtParams = (p: Record<string, unknown>) =>
    Object.entries(p)
      .map(([k, v]) => `${k}=${typeof v === 'number' && !Number.isInteger(v) ? v.toPrecision(2) : v}`)
      .join(' ');
  tables.push({
    title: `Validation mIoU of 20 random configurations of unet-seg-quick.yaml (32×32, ${loaded.spec.budget?.max} epochs, 2 processes, backend ${[...new Set(results.map((r) => r.backend))].join('/')}, ${seconds.toFixed(0)} s in all)`,
    columns: ['rank', 'mIoU', 'latency ms', 'train s', 'params'],
    rows: results.map((r, i) => [i + 1, r.result.miou, r.result.latency_ms, r.seconds, fmtParams(r.params)]),
  });
  notes.push(
    `mIoU spread over 20 random quick configurations: ${spread.toFixed(3)} (min ${Math.min(...mious).toFixed(3)}, median ${mious[10].toFixed(3)}, max ${Math.max(...mious).toFixed(3)}; goal ≥ 0.2): ${spread >= 0.2 ? 'met' : 'missed'}.`,
  );
}

const file = writeReport({ name: 'trainer', command: `npm run bench:trainer${skipSpread ? ' -- --skip-spread' : ''}`, peers: { torch: torchVersion }, tables, notes });
console.log(`wrote ${file}`);
