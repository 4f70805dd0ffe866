// npm run bench:e2e → bench/results/e2e.md
// The comparison a user would make: the same quick U-Net search (bench/e2e-space.yaml: 40
// trials, asynchronous successive halving with reduction factor 3 over 1–9 epochs, 2 trials at
// once) run by segtune on native TensorFlow, and by Optuna (TPE + SuccessiveHalvingPruner, 2
// processes on one SQLite storage) training the same U-Net in PyTorch on the same pixels
// (bench/peers/e2e_optuna.py), one after the other in one invocation. Reported: wall time, best
// mIoU, and the hypervolume of mIoU against measured latency with one shared reference point.
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { hypervolume } from '@segtune/pareto';
import { syntheticShapes, nativeAvailable } from '@segtune/seg';
import { writeReport } from './lib/report';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const work = mkdtempSync(join(tmpdir(), 'segtune-e2e-'));
const seeds = process.argv.includes('--quick') ? [0] : [0, 1];
if (!nativeAvailable('cpu')) throw new Error('native TensorFlow is not set up: run `npx segtune setup tensorflow` first');

// The peer's copy of the data: segtune's synthetic shapes exactly as the workload generates them.
const ds = syntheticShapes({ imageSize: 32, trainSize: 192, valSize: 64, seed: 0 });
const data = join(work, 'data');
mkdirSync(data);
writeFileSync(join(data, 'meta.json'), JSON.stringify({ height: ds.height, width: ds.width, channels: ds.channels, classes: ds.numClasses }));
for (const [name, split] of [['train', ds.train], ['val', ds.val]] as const) {
  writeFileSync(join(data, `${name}-images.f32`), Buffer.from(split.images.buffer, split.images.byteOffset, split.images.byteLength));
  writeFileSync(join(data, `${name}-masks.u8`), Buffer.from(split.masks.buffer, split.masks.byteOffset, split.masks.byteLength));
}

const py = execFileSync(join(root, 'scripts/python-venv.sh'), ['bench', 'optuna==5.0.0', 'scipy', 'torch==2.13.0', 'psycopg2-binary'], { encoding: 'utf8' }).trim();
const run = (file: string, args: string[], env: NodeJS.ProcessEnv = process.env) =>
  new Promise<string>((res, rej) => {
    const p = spawn(file, args, { cwd: work, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (d: Buffer) => (out += d));
    p.stderr.on('data', (d: Buffer) => (err = (err + d).slice(-4000)));
    p.on('close', (code) => (code === 0 ? res(out) : rej(new Error(`${file} exited with ${code}: ${err}`))));
  });

interface Side {
  wall: number;
  points: { miou: number; latency: number }[];
  complete: number;
  pruned: number;
  failed: number;
}

async function segtune(seed: number): Promise<Side> {
  const t0 = performance.now();
  const out = await run(process.execPath, [join(root, 'apps/cli/bin/segtune.mjs'), 'search', join(root, 'bench/e2e-space.yaml'), '--storage', join(work, `segtune-${seed}.db`), '--seed', String(seed), '--json', '--no-export']);
  const wall = (performance.now() - t0) / 1000;
  const doc = JSON.parse(out) as { trials: { state: string; values: Record<string, number>; attrs: Record<string, unknown> }[] };
  const backends = new Set(doc.trials.map((t) => t.attrs.backend));
  if (backends.size !== 1 || !backends.has('tensorflow')) throw new Error(`segtune trained on ${[...backends].join(', ')}, not tensorflow`);
  const complete = doc.trials.filter((t) => t.state === 'complete');
  return {
    wall,
    points: complete.map((t) => ({ miou: t.values.miou, latency: t.values.latency_ms })),
    complete: complete.length,
    pruned: doc.trials.filter((t) => t.state === 'pruned').length,
    failed: doc.trials.filter((t) => t.state === 'failed').length,
  };
}

async function optunaTorch(seed: number): Promise<Side & { versions: string }> {
  const storage = `sqlite:///${join(work, `optuna-${seed}.db`)}`;
  const study = `e2e-${seed}`;
  const peer = join(root, 'bench/peers/e2e_optuna.py');
  // Create the study first, so that the two processes do not race to create it.
  execFileSync(py, ['-c', `import optuna; optuna.create_study(study_name='${study}', storage='${storage}', direction='maximize', load_if_exists=True)`]);
  const t0 = performance.now();
  const outs = await Promise.all([0, 1].map((p) => run(py, [peer, '--data', data, '--storage', storage, '--study', study, '--trials', '20', '--seed', String(seed * 10 + p)])));
  const wall = (performance.now() - t0) / 1000;
  const dump = execFileSync(py, ['-c', `import optuna, json; s = optuna.load_study(study_name='${study}', storage='${storage}'); print(json.dumps([{"state": t.state.name, "value": t.value, "latency": t.user_attrs.get("latency_ms")} for t in s.trials]))`], { encoding: 'utf8' });
  const trials = JSON.parse(dump) as { state: string; value: number | null; latency?: number }[];
  const complete = trials.filter((t) => t.state === 'COMPLETE');
  const v = JSON.parse(outs[0].trim().split('\n').pop()!) as { optuna: string; torch: string };
  return {
    wall,
    points: complete.map((t) => ({ miou: t.value!, latency: t.latency! })),
    complete: complete.length,
    pruned: trials.filter((t) => t.state === 'PRUNED').length,
    failed: trials.filter((t) => t.state === 'FAIL').length,
    versions: `optuna ${v.optuna}, torch ${v.torch}`,
  };
}

const rows: (string | number)[][] = [];
const notes: string[] = [];
let versions = '';
const totals = { segtune: { wall: 0, hv: 0 }, optuna: { wall: 0, hv: 0 } };
for (const seed of seeds) {
  console.log(`seed ${seed}: segtune`);
  const s = await segtune(seed);
  console.log(`seed ${seed}: Optuna + PyTorch`);
  const o = await optunaTorch(seed);
  versions = o.versions;
  // Shared reference point: mIoU 0 and 1.1× the slowest latency either side measured.
  const slowest = Math.max(...[...s.points, ...o.points].map((p) => p.latency));
  const reference = [0, slowest * 1.1];
  const hv = (side: Side) => hypervolume(side.points.map((p) => [-p.miou, p.latency]), reference);
  const best = (side: Side) => Math.max(0, ...side.points.map((p) => p.miou));
  for (const [name, side] of [['segtune (tensorflow backend, 2 workers)', s], [`Optuna TPE + SuccessiveHalvingPruner, PyTorch (2 processes)`, o]] as const) {
    rows.push([seed, name, side.wall, best(side), hv(side), side.complete, side.pruned, side.failed]);
  }
  totals.segtune.wall += s.wall;
  totals.optuna.wall += o.wall;
  totals.segtune.hv += hv(s);
  totals.optuna.hv += hv(o);
  notes.push(`seed ${seed}: segtune/Optuna wall-time ratio ${(s.wall / o.wall).toFixed(2)}, hypervolume ratio ${(hv(s) / Math.max(1e-12, hv(o))).toFixed(2)} (reference point mIoU 0, latency ${reference[1].toFixed(2)} ms).`);
}
const wallRatio = totals.segtune.wall / totals.optuna.wall;
const hvRatio = totals.segtune.hv / Math.max(1e-12, totals.optuna.hv);
notes.unshift(
  `Over ${seeds.length} seed(s): segtune's wall time is ${wallRatio.toFixed(2)}× Optuna + PyTorch's (goal ≤ 1: ${wallRatio <= 1 ? 'met' : 'missed'}); its hypervolume is ${hvRatio.toFixed(2)}× (goal ≥ 1: ${hvRatio >= 1 ? 'met' : 'missed'}).`,
  'Optuna prunes single-objective studies only, so its side optimises mIoU and measures latency on completed trials; segtune searches both objectives (multi-objective TPE) with ASHA ranking trials on mIoU. Both train on one thread per trial, 2 trials at once, on the same 192 + 64 synthetic images.',
);
const file = writeReport({
  name: 'e2e',
  command: `npm run bench:e2e${process.argv.includes('--quick') ? ' -- --quick' : ''}`,
  peers: { optuna: versions },
  tables: [{ title: 'The quick U-Net search, 40 trials, successive halving (rf 3, 1–9 epochs), 2 at once', columns: ['seed', 'runner', 'wall s', 'best mIoU', 'hypervolume', 'complete', 'pruned', 'failed'], rows }],
  notes,
});
rmSync(work, { recursive: true, force: true });
console.log(`wrote ${file}`);
