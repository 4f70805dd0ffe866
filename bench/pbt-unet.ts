// Population-based training (PBT, and PB2) against ASHA on the quick U-Net space (issue 15 item 5, the real
// half; the simulator half is bench:schedulers): the same space, trials, workers and seeds
// through `segtune search`, on the tensorflow backend, only the scheduler differing. Reports wall
// time, best mIoU, the hypervolume of mIoU against measured latency (one reference point), and
// the interval checkpoints PBT keeps on disk at the end (each run in a folder of its own).
//
//   npm run bench:pbt-unet            # needs `segtune setup tensorflow` (npm test runs it)
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { hypervolume } from '@segtune/pareto';
import { writeReport, type Table } from './lib/report';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const work = mkdtempSync(join(tmpdir(), 'segtune-bench-pbt-'));
const SEEDS = [0, 1];
const TRIALS = 24;
const SCHEDULERS = ['asha', 'pbt', 'pb2'];

interface Run {
  scheduler: string;
  seed: number;
  wall: number;
  points: { miou: number; latency: number }[];
  pruned: number;
  failed: number;
  /** Interval checkpoint folders (`trial-N/step-S`) left at the end, their bytes, and those deleted as the study went. */
  kept: number;
  keptBytes: number;
  released: number;
}

function bytesIn(dir: string): number {
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) n += e.isDirectory() ? bytesIn(join(dir, e.name)) : statSync(join(dir, e.name)).size;
  return n;
}

function search(scheduler: string, seed: number): Run {
  const cwd = join(work, `${scheduler}-${seed}`);
  mkdirSync(cwd);
  const t0 = performance.now();
  const out = execFileSync(
    process.execPath,
    [join(root, 'apps/cli/bin/segtune.mjs'), 'search', join(root, 'search-spaces/unet-seg-quick.yaml'), '--scheduler', scheduler, '--trials', String(TRIALS), '--workers', '2', '--backend', 'tensorflow', '--seed', String(seed), '--storage', join(work, `${scheduler}-${seed}.db`), '--json', '--no-export'],
    { cwd, encoding: 'utf8', maxBuffer: 1 << 28, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const wall = (performance.now() - t0) / 1000;
  const trials = (JSON.parse(out) as { trials: { state: string; values: Record<string, number>; attrs: Record<string, unknown> }[] }).trials;
  const complete = trials.filter((t) => t.state === 'complete');
  const studyDir = join(cwd, 'results', 'unet-seg-quick');
  const steps = readdirSync(studyDir).filter((d) => d.startsWith('trial-')).flatMap((d) => readdirSync(join(studyDir, d)).filter((e) => e.startsWith('step-')).map((e) => join(studyDir, d, e)));
  const released = trials.reduce((a, t) => a + (Array.isArray(t.attrs.checkpoints_released) ? t.attrs.checkpoints_released.length : 0), 0);
  return { scheduler, seed, wall, points: complete.map((t) => ({ miou: t.values.miou, latency: t.values.latency_ms })), pruned: trials.filter((t) => t.state === 'pruned').length, failed: trials.filter((t) => t.state === 'failed').length, kept: steps.length, keptBytes: steps.reduce((a, d) => a + bytesIn(d), 0), released };
}

const runs: Run[] = [];
for (const seed of SEEDS) for (const s of SCHEDULERS) runs.push(search(s, seed));
const reference = [0, 1.1 * Math.max(...runs.flatMap((r) => r.points.map((p) => p.latency)))];
const hv = (r: Run) => hypervolume(r.points.map((p) => [-p.miou, p.latency]), reference);
const table: Table = {
  title: `The quick U-Net space, ${TRIALS} trials, 2 workers, tensorflow backend: the space's ASHA (rf 3, 1–9 epochs) against PBT and PB2 (their defaults, float params mutable)`,
  columns: ['seed', 'scheduler', 'wall s', 'best mIoU', 'hypervolume', 'complete', 'pruned', 'failed', 'interval checkpoints kept (MB)', 'released'],
  rows: runs.map((r) => [r.seed, r.scheduler, r.wall.toFixed(1), Math.max(...r.points.map((p) => p.miou)).toFixed(4), hv(r).toFixed(3), r.points.length, r.pruned, r.failed, `${r.kept} (${(r.keptBytes / 2 ** 20).toFixed(1)})`, r.released]),
};
const sum = (s: string, f: (r: Run) => number) => runs.filter((r) => r.scheduler === s).reduce((a, r) => a + f(r), 0);
const file = writeReport({
  name: 'pbt-unet',
  command: 'npm run bench:pbt-unet',
  tables: [table],
  notes: [
    `Over ${SEEDS.length} seeds: PBT's wall time is ${(sum('pbt', (r) => r.wall) / sum('asha', (r) => r.wall)).toFixed(2)}× ASHA's, its hypervolume ${(sum('pbt', hv) / sum('asha', hv)).toFixed(2)}× (reference point mIoU 0, latency ${reference[1].toFixed(2)} ms).`,
    `PB2's wall time is ${(sum('pb2', (r) => r.wall) / sum('asha', (r) => r.wall)).toFixed(2)}× ASHA's, its hypervolume ${(sum('pb2', hv) / sum('asha', hv)).toFixed(2)}× ASHA's and ${(sum('pb2', hv) / sum('pbt', hv)).toFixed(2)}× PBT's; its best mIoU over the seeds ${Math.max(...runs.filter((r) => r.scheduler === 'pb2').flatMap((r) => r.points.map((p) => p.miou))).toFixed(4)} against PBT's ${Math.max(...runs.filter((r) => r.scheduler === 'pbt').flatMap((r) => r.points.map((p) => p.miou))).toFixed(4)}.`,
    `Interval checkpoints: PBT and PB2 keep one per trial and interval step until no replacement can copy it (under the ${TRIALS}-trial limit, a trial ranked below place ⌊${TRIALS}/4⌋ + 1 at a step); at the end the runs kept ${runs.filter((r) => r.scheduler !== 'asha').map((r) => r.kept).join(', ')} and had released ${runs.filter((r) => r.scheduler !== 'asha').map((r) => r.released).join(', ')} (PBT and PB2, seed by seed).`,
    'PBT trains every member of its population to the full budget, replacing the bottom quarter by perturbed copies of the top quarter at each interval; ASHA stops weak trials early. At this budget both share the start-up design, so their best trials may coincide.',
  ],
});
process.stderr.write(`wrote ${file}\n`);
