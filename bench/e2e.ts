// npm run bench:e2e → bench/results/e2e.md
// The comparison a user would make: the same quick U-Net search (bench/e2e-space.yaml: 40
// trials, asynchronous successive halving with reduction factor 3 over 1–9 epochs, 2 trials at
// once) run by segtune on native TensorFlow, and by Optuna (TPE + SuccessiveHalvingPruner, 2
// processes on one SQLite storage) training the same U-Net in PyTorch on the same pixels
// (bench/peers/e2e_optuna.py), one after the other in one invocation. Reported: wall time, best
// mIoU, and the hypervolume of mIoU against measured latency with one shared reference point.
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { hypervolume } from '@segtune/pareto';
import { syntheticShapes, nativeAvailable } from '@segtune/seg';
import { writeReport } from './lib/report';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const work = mkdtempSync(join(tmpdir(), 'segtune-e2e-'));
const seedsArg = process.argv.find((a) => a.startsWith('--seeds='));
const seeds = seedsArg ? seedsArg.slice('--seeds='.length).split(',').map(Number) : process.argv.includes('--quick') ? [0] : [0, 1];
if (seeds.some((x) => !Number.isInteger(x) || x < 0)) throw new Error(`--seeds takes whole numbers, got ${seedsArg}`);
/** Only segtune's two schedulers, against each other (no peer): how MO-ASHA was chosen. */
const schedulersOnly = process.argv.includes('--schedulers-only');
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
const run = (file: string, args: string[], cwd = work) =>
  new Promise<string>((res, rej) => {
    const p = spawn(file, args, { cwd, env: process.env, stdio: ['ignore', 'pipe', 'pipe'] });
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

// segtune runs the space twice: with its plain ASHA (promotions ranked on mIoU, the first
// objective) and with multi-objective ASHA (ranked on mIoU and latency together), the
// scheduler segtune has for a two-objective search and Optuna does not. MO-ASHA is the headline
// row on the evidence of seeds the default run does not use (--schedulers-only --seeds=2,...,7,
// bench/results/e2e-schedulers.md).
const space = readFileSync(join(root, 'bench/e2e-space.yaml'), 'utf8');
const ASHA = 'scheduler: { kind: asha, reduction_factor: 3 }';
if (!space.includes(ASHA)) throw new Error(`bench/e2e-space.yaml no longer says "${ASHA}"`);
const moashaSpace = join(work, 'e2e-space-moasha.yaml');
writeFileSync(moashaSpace, space.replace(ASHA, 'scheduler: { kind: moasha, reduction_factor: 3 }'));
const spaces = { asha: join(root, 'bench/e2e-space.yaml'), moasha: moashaSpace };

async function segtune(seed: number, scheduler: keyof typeof spaces): Promise<Side> {
  // A folder per run: trial checkpoints go under the working directory, and a run must not
  // resume another run's checkpoint of the same configuration.
  const cwd = join(work, `segtune-${scheduler}-${seed}`);
  mkdirSync(cwd);
  const t0 = performance.now();
  const out = await run(process.execPath, [join(root, 'apps/cli/bin/segtune.mjs'), 'search', spaces[scheduler], '--storage', join(cwd, 'study.db'), '--seed', String(seed), '--json', '--no-export'], cwd);
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
const runners = ['asha', 'moasha', 'optuna'] as const;
const totals = Object.fromEntries(runners.map((r) => [r, { wall: 0, hv: 0 }])) as Record<(typeof runners)[number], { wall: number; hv: number }>;
let moashaHigher = 0;
const label = { asha: 'segtune, ASHA (tensorflow backend, 2 workers)', moasha: 'segtune, MO-ASHA (tensorflow backend, 2 workers)', optuna: 'Optuna TPE + SuccessiveHalvingPruner, PyTorch (2 processes)' };
for (const seed of seeds) {
  const sides: Partial<Record<(typeof runners)[number], Side>> = {};
  for (const scheduler of ['asha', 'moasha'] as const) {
    console.log(`seed ${seed}: segtune with ${scheduler}`);
    sides[scheduler] = await segtune(seed, scheduler);
  }
  if (!schedulersOnly) {
    console.log(`seed ${seed}: Optuna + PyTorch`);
    const o = await optunaTorch(seed);
    versions = o.versions;
    sides.optuna = o;
  }
  // Shared reference point: mIoU 0 and 1.1× the slowest latency any side measured.
  const present = runners.filter((r) => sides[r]);
  const slowest = Math.max(...present.flatMap((r) => sides[r]!.points.map((p) => p.latency)));
  const reference = [0, slowest * 1.1];
  const hv = (side: Side) => hypervolume(side.points.map((p) => [-p.miou, p.latency]), reference);
  const best = (side: Side) => Math.max(0, ...side.points.map((p) => p.miou));
  for (const r of present) {
    const side = sides[r]!;
    rows.push([seed, label[r], side.wall, best(side), hv(side), side.complete, side.pruned, side.failed]);
    totals[r].wall += side.wall;
    totals[r].hv += hv(side);
  }
  if (hv(sides.moasha!) > hv(sides.asha!)) moashaHigher++;
  const vs = (a: (typeof runners)[number], b: (typeof runners)[number]) => `wall-time ratio ${(sides[a]!.wall / sides[b]!.wall).toFixed(2)}, hypervolume ratio ${(hv(sides[a]!) / Math.max(1e-12, hv(sides[b]!))).toFixed(2)}`;
  notes.push(
    schedulersOnly
      ? `seed ${seed}: MO-ASHA/ASHA ${vs('moasha', 'asha')} (reference point mIoU 0, latency ${reference[1].toFixed(2)} ms).`
      : `seed ${seed}: segtune/Optuna with MO-ASHA ${vs('moasha', 'optuna')}; with ASHA ${vs('asha', 'optuna')} (reference point mIoU 0, latency ${reference[1].toFixed(2)} ms).`,
  );
}
const ratio = (a: (typeof runners)[number], b: (typeof runners)[number], k: 'wall' | 'hv') => totals[a][k] / Math.max(1e-12, totals[b][k]);
const goals = (r: 'asha' | 'moasha') => {
  const w = ratio(r, 'optuna', 'wall');
  const h = ratio(r, 'optuna', 'hv');
  return `wall time ${w.toFixed(2)}× Optuna + PyTorch's (goal ≤ 1: ${w <= 1 ? 'met' : 'missed'}), hypervolume ${h.toFixed(2)}× (goal ≥ 1: ${h >= 1 ? 'met' : 'missed'})`;
};
notes.unshift(
  ...(schedulersOnly
    ? [`Over ${seeds.length} seed(s): MO-ASHA's summed wall time is ${ratio('moasha', 'asha', 'wall').toFixed(2)}× ASHA's and its summed hypervolume ${ratio('moasha', 'asha', 'hv').toFixed(2)}× (MO-ASHA's hypervolume is higher on ${moashaHigher} of ${seeds.length} seeds).`]
    : [`Over ${seeds.length} seed(s), segtune with MO-ASHA (its scheduler for two objectives): ${goals('moasha')}.`, `With plain ASHA (promotions ranked on mIoU alone): ${goals('asha')}.`]),
  'Optuna prunes single-objective studies only, so its side optimises mIoU and measures latency on completed trials; segtune searches both objectives (multi-objective TPE), and its scheduler ranks trials at each rung on mIoU alone (ASHA) or on mIoU and latency (MO-ASHA: non-dominated rank, then crowding distance). Both train on one thread per trial, 2 trials at once, on the same 192 + 64 synthetic images; hypervolume is over completed trials.',
  ...(schedulersOnly
    ? ['Each run is asynchronous: which trials reach the top rung depends on timing, so one seed run twice gives different fronts; read the sums over seeds.']
    : ['MO-ASHA is the headline row because on seeds this run does not use it took less wall time for the same hypervolume: `npm run bench:e2e -- --schedulers-only --seeds=2,3,4,5,6,7`, bench/results/e2e-schedulers.md.']),
);
const file = writeReport({
  name: schedulersOnly ? 'e2e-schedulers' : 'e2e',
  command: `npm run bench:e2e${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
  peers: schedulersOnly ? {} : { optuna: versions },
  tables: [{ title: 'The quick U-Net search, 40 trials, successive halving (rf 3, 1–9 epochs), 2 at once', columns: ['seed', 'runner', 'wall s', 'best mIoU', 'hypervolume', 'complete', 'pruned', 'failed'], rows }],
  notes,
});
rmSync(work, { recursive: true, force: true });
console.log(`wrote ${file}`);
