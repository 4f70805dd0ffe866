// Run by scripts/gpu-check.sh on an NVIDIA machine after `segtune setup tensorflow --gpu`:
// 1. training throughput on the GPU (tfjs tensorflow-gpu, the CUDA 12 build of TensorFlow from
//    PyPI) next to the same U-Net in PyTorch on CUDA, for the reference net (width 8, depth 2,
//    batch 8) and width 16 / depth 3 / batch 32, 64×64;
// 2. a short quick search with two trials per GPU, sampling each trial process's GPU memory.
// Writes bench/results/gpu-check.md. usage: tsx bench/gpu-check.ts PYTHON_WITH_CUDA_TORCH
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeReport, type Table } from './lib/report';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const py = process.argv[2] ?? 'python3';
const tsx = join(root, 'node_modules/.bin/tsx');
const last = (out: string) => JSON.parse(out.trim().split('\n').pop()!) as Record<string, number | string | null>;
const gpuName = execFileSync('nvidia-smi', ['--query-gpu=name,memory.total,driver_version', '--format=csv,noheader'], { encoding: 'utf8' }).trim().split('\n')[0];

const rows: (string | number)[][] = [];
for (const [width, depth, batch] of [[8, 2, 8], [16, 3, 32]]) {
  const steps = String(batch === 8 ? 200 : 100);
  const tfjs = last(execFileSync(tsx, [join(root, 'bench/trainer-throughput-worker.ts'), 'tensorflow-gpu', String(width), String(depth), String(batch), steps], { cwd: root, encoding: 'utf8', env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '2', TF_FORCE_GPU_ALLOW_GROWTH: 'true' } }));
  const torch = last(execFileSync(py, [join(root, 'bench/peers/torch_unet.py'), '--width', String(width), '--depth', String(depth), '--size', '64', '--batch', String(batch), '--steps', steps, '--device', 'cuda'], { encoding: 'utf8' }));
  if (tfjs.backend !== 'tensorflow-gpu') throw new Error(`tfjs trained on ${tfjs.backend}, not tensorflow-gpu`);
  rows.push([`width ${width}, depth ${depth}, batch ${batch}`, Number(tfjs.images_per_s), Number(torch.images_per_s), Number(tfjs.images_per_s) / Number(torch.images_per_s), Number(torch.peak_gpu_mb ?? 0)]);
  console.log(rows.at(-1));
}

// The quick search, two trials per GPU; GPU memory of each trial process sampled every 0.5 s.
const dir = mkdtempSync(join(tmpdir(), 'segtune-gpu-check-'));
const peak = new Map<string, number>();
const sampler = setInterval(() => {
  try {
    const out = execFileSync('nvidia-smi', ['--query-compute-apps=pid,used_memory', '--format=csv,noheader,nounits'], { encoding: 'utf8' });
    for (const line of out.trim().split('\n').filter(Boolean)) {
      const [pid, mb] = line.split(',').map((s) => s.trim());
      peak.set(pid, Math.max(peak.get(pid) ?? 0, Number(mb)));
    }
  } catch {
    // a sample missed is no harm
  }
}, 500);
const t0 = performance.now();
const search = await new Promise<string>((res, rej) => {
  const p = spawn(process.execPath, [join(root, 'apps/cli/bin/segtune.mjs'), 'search', join(root, 'search-spaces/unet-seg-quick.yaml'), '--trials', '12', '--gpus', 'all', '--trials-per-gpu', '2', '--storage', join(dir, 'gpu.db'), '--json', '--no-export'], { cwd: dir, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  p.stdout.on('data', (d: Buffer) => (out += d));
  p.on('close', (code) => (code === 0 ? res(out) : rej(new Error(`segtune search exited with ${code}`))));
});
clearInterval(sampler);
const wall = (performance.now() - t0) / 1000;
const doc = JSON.parse(search) as { trials: { state: string; attrs: Record<string, unknown>; values: Record<string, number> }[] };
const backends = [...new Set(doc.trials.map((t) => String(t.attrs.backend)))];
const complete = doc.trials.filter((t) => t.state === 'complete');
const tables: Table[] = [
  { title: `Training throughput on ${gpuName} (64×64, Adam), images/s`, columns: ['net', 'tfjs tensorflow-gpu', 'PyTorch CUDA', 'ratio', 'PyTorch peak MB'], rows },
  {
    title: 'Quick search (unet-seg-quick.yaml, 12 trials, 2 trials per GPU, one process per GPU)',
    columns: ['wall s', 'backends', 'complete', 'pruned', 'failed', 'best mIoU', 'GPU processes', 'peak MB per GPU process', 'peak MB per trial (2 at once)'],
    rows: [[wall, backends.join(', '), complete.length, doc.trials.filter((t) => t.state === 'pruned').length, doc.trials.filter((t) => t.state === 'failed').length, Math.max(0, ...complete.map((t) => t.values.miou)), peak.size, Math.max(0, ...peak.values()), Math.max(0, ...peak.values()) / 2]],
  },
];
const file = writeReport({ name: 'gpu-check', command: 'scripts/gpu-check.sh', peers: { torch: String(last(execFileSync(py, ['-c', 'import json, torch; print(json.dumps({"v": torch.__version__}))'], { encoding: 'utf8' })).v) }, tables, notes: [`GPU: ${gpuName}. Memory growth is on (TF_FORCE_GPU_ALLOW_GROWTH), so a process holds what its trials use, not the whole card.`] });
console.log(`wrote ${file}`);
