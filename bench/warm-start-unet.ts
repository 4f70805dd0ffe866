// Warm start on real training: the quick U-Net space (search-spaces/unet-seg-quick.yaml) run at
// 64×64, cold and warm-started (`segtune search --warm-start`) from a study of the same space at
// 32×32, several seeds each, through the CLI as a user runs it. Reports, per seed and in the
// median, the best mIoU after the budget, the completed trial that first reached a target, and
// the hypervolume of (mIoU, latency) against a shared reference point.
//
// The target is the median over seeds of the cold runs' best mIoU, so cold runs reach it late
// by construction and the warm ones are measured against that.
//
//   npm run bench:warm-start-unet             # 3 seeds, 24 trials at 64×64, 40 at 32×32
//   npm run bench:warm-start-unet -- --quick  # 2 seeds, 16 trials at 64×64
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';
import { median } from 'simple-statistics';
import { hypervolume } from '@segtune/pareto';
import { nativeAvailable } from '@segtune/seg';
import { writeReport, type Table } from './lib/report';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const quick = process.argv.includes('--quick');
const SEEDS = quick ? [0, 1] : [0, 1, 2];
const TARGET_TRIALS = quick ? 16 : 24;
const SOURCE_TRIALS = 40;
const backend = nativeAvailable('cpu') ? 'tensorflow' : 'wasm';
const work = mkdtempSync(join(tmpdir(), 'segtune-warm-unet-'));

interface TrialOut {
  number: number;
  state: string;
  values?: Record<string, number>;
}

function space(imageSize: number, name: string, trials: number): string {
  const doc = parse(readFileSync(join(root, 'search-spaces/unet-seg-quick.yaml'), 'utf8'));
  doc.name = name;
  doc.trials = trials;
  doc.workload.dataset.image_size = imageSize;
  doc.workload.backend = backend;
  const file = join(work, `${name}.yaml`);
  writeFileSync(file, stringify(doc));
  return file;
}

function search(file: string, storage: string, seed: number, extra: string[] = []): Promise<{ trials: TrialOut[]; seconds: number }> {
  const args = [join(root, 'apps/cli/bin/segtune.mjs'), 'search', file, '--storage', storage, '--seed', String(seed), '--json', '--no-export', ...extra];
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, args, { cwd: work, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (err += d));
    p.on('close', (code) => {
      if (code !== 0) return reject(new Error(`segtune search exited ${code}: ${err.slice(-2000)}`));
      resolve({ trials: (JSON.parse(out) as { trials: TrialOut[] }).trials, seconds: (performance.now() - t0) / 1000 });
    });
  });
}

const completed = (ts: TrialOut[]) => ts.filter((t) => t.state === 'complete' && t.values).sort((a, b) => a.number - b.number);
const bestMiou = (ts: TrialOut[]) => Math.max(0, ...completed(ts).map((t) => t.values!.miou));
/** Trials started up to the first completed one reaching `target` (its number + 1, pruned ones counted); Infinity if none. */
const trialsTo = (ts: TrialOut[], target: number) => {
  const hit = completed(ts).find((t) => t.values!.miou >= target);
  return hit ? hit.number + 1 : Infinity;
};

async function main() {
  const source = space(32, 'unet-quick-32', SOURCE_TRIALS);
  const target = space(64, 'unet-quick-64', TARGET_TRIALS);
  const sourceDb = join(work, 'source.db');
  process.stderr.write(`source: ${SOURCE_TRIALS} trials at 32×32 on ${backend}\n`);
  const src = await search(source, sourceDb, 0);
  const runs: { seed: number; mode: 'cold' | 'warm'; trials: TrialOut[]; seconds: number }[] = [];
  for (const seed of SEEDS) {
    for (const mode of ['cold', 'warm'] as const) {
      process.stderr.write(`seed ${seed} ${mode}\n`);
      const db = join(work, `${mode}-${seed}.db`);
      const r = await search(target, db, seed, mode === 'warm' ? ['--warm-start', `unet-quick-32@${sourceDb}`] : []);
      runs.push({ seed, mode, ...r });
    }
  }
  const goal = median(runs.filter((r) => r.mode === 'cold').map((r) => bestMiou(r.trials)));
  // Shared reference point: mIoU 0 and the slowest completed latency of all runs, plus 10%.
  const maxLatency = Math.max(...runs.flatMap((r) => completed(r.trials).map((t) => t.values!.latency_ms))) * 1.1;
  const hv = (ts: TrialOut[]) => hypervolume(completed(ts).map((t) => [-t.values!.miou, t.values!.latency_ms]), [0, maxLatency]);
  const fmtTrials = (n: number) => (Number.isFinite(n) ? String(n) : `>${TARGET_TRIALS}`);
  const perSeed: Table = {
    title: `Quick U-Net space at 64×64, ${TARGET_TRIALS} trials (TPE + ASHA, 2 workers, ${backend}); warm: --warm-start from ${SOURCE_TRIALS} trials of the same space at 32×32 (${src.seconds.toFixed(0)} s)`,
    columns: ['seed', 'start', 'best mIoU', `trials to mIoU ≥ ${goal.toFixed(3)}`, 'hypervolume', 'complete', 'wall s'],
    rows: runs.map((r) => [r.seed, r.mode, bestMiou(r.trials).toFixed(4), fmtTrials(trialsTo(r.trials, goal)), hv(r.trials).toFixed(3), completed(r.trials).length, r.seconds.toFixed(0)]),
  };
  const summary: Table = {
    title: 'Median over seeds',
    columns: ['start', 'best mIoU', 'trials to target', 'hypervolume', 'seeds better than cold (best mIoU)'],
    rows: (['cold', 'warm'] as const).map((mode) => {
      const rs = runs.filter((r) => r.mode === mode);
      const better = mode === 'warm' ? `${rs.filter((r) => bestMiou(r.trials) > bestMiou(runs.find((c) => c.mode === 'cold' && c.seed === r.seed)!.trials)).length}/${rs.length}` : '—';
      return [mode, median(rs.map((r) => bestMiou(r.trials))).toFixed(4), fmtTrials(median(rs.map((r) => trialsTo(r.trials, goal)))), median(rs.map((r) => hv(r.trials))).toFixed(3), better];
    }),
  };
  const file = writeReport({
    name: 'warm-start-unet',
    command: `npm run bench:warm-start-unet${quick ? ' -- --quick' : ''}`,
    tables: [summary, perSeed],
    notes: [
      `Source study: search-spaces/unet-seg-quick.yaml at 32×32, seed 0, best mIoU ${bestMiou(src.trials).toFixed(4)} over ${completed(src.trials).length} completed trials. Target studies: the same file with image_size 64; the warm ones map the source's trials into the space (all params are shared) and give them to TPE as prior observations.`,
      `The target mIoU is the median of the cold runs' best, so a cold run reaches it near the end of its budget by construction. Hypervolume: (mIoU, latency) of completed trials against the shared reference point (mIoU 0, latency ${maxLatency.toFixed(2)} ms).`,
      'Latency changes with resolution, so the source\'s latency values rank architectures rather than give the new study\'s speeds.',
    ],
  });
  process.stderr.write(`wrote ${file}\n`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
