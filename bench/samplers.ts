// Sampler benchmark: our random, TPE, GP, NSGA-II and multi-objective TPE against Optuna's
// samplers on the same functions, budgets and seeds, both sides in one invocation. The Optuna
// side (bench/peers/samplers_peer.py) runs in a child process while ours runs here.
//
//   npm run bench:samplers            # full grid (long: GP dominates)
//   npm run bench:samplers -- --quick # fewer seeds; GP on Branin and Hartmann6 only
import { spawn, execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Rng, type Trial } from '@segtune/core';
import { Space, type ParamDef, type Params } from '@segtune/space';
import { BENCHMARK_FUNCTIONS, log10Regret, type BenchmarkFunction, type SingleObjectiveFunction } from '../libs/benchmarks/src/functions';
import { hypervolume } from '@segtune/pareto';
import { createSampler, driveSampler, fakeTrial } from '../libs/samplers/src/index';
import { writeReport, type Table } from './lib/report';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const quick = process.argv.includes('--quick');

const SINGLE = ['branin', 'hartmann6', 'rosenbrock', 'levy', 'mixed'];
const MULTI = ['zdt1', 'dtlz2'];
const SEEDS = quick ? 10 : 20;
const GP_FUNCTIONS = quick ? ['branin', 'hartmann6'] : SINGLE;
const GP_SEEDS = quick ? 5 : 10;
const GP_TRIALS = 100;
const MO_SEEDS = quick ? 5 : 10;
const MO_TRIALS = 200;
const TPE_OVERHEAD_AT = [100, 1000, 5000];
const GP_OVERHEAD_AT = [100, 500];

const fnOf = (name: string): BenchmarkFunction => BENCHMARK_FUNCTIONS[name];
const spaceOf = (fn: BenchmarkFunction) => new Space(Object.entries(fn.params).map(([name, spec]) => ({ name, ...spec }) as ParamDef));
const trialsFor = (fn: BenchmarkFunction) => (fn.dimension > 4 ? 200 : 100);

interface PeerJob {
  id: string;
  mode: 'optimize' | 'overhead';
  function: string;
  sampler: string;
  trials?: number;
  seed: number;
  completed?: number;
  repeats?: number;
}

function peerPython(): string {
  return execFileSync(join(root, 'scripts/python-venv.sh'), ['bench', 'optuna==5.0.0', 'scipy', 'torch==2.13.0', 'psycopg2-binary'], { encoding: 'utf8' }).trim();
}

function runPeer(python: string, jobs: PeerJob[]): Promise<Map<string, { values?: number[][]; seconds?: number; ms?: number[] }>> {
  return new Promise((resolve, reject) => {
    const child = spawn(python, [join(here, 'peers/samplers_peer.py')], { stdio: ['pipe', 'pipe', 'inherit'] });
    const out = new Map();
    let buf = '';
    child.stdout.on('data', (d) => {
      buf += d;
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        if (line.trim()) {
          const r = JSON.parse(line);
          out.set(r.id, r);
          if (out.size % 20 === 0) console.error(`  optuna: ${out.size}/${jobs.length} jobs`);
        }
      }
    });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`optuna peer exited with ${code}`))));
    child.stdin.end(JSON.stringify(jobs));
  });
}

function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  return s[lo] + (s[Math.min(lo + 1, s.length - 1)] - s[lo]) * (pos - lo);
}
const median = (xs: number[]) => quantile(xs, 0.5);
const cell = (xs: number[], digits = 2) => (xs.length ? `${median(xs).toFixed(digits)} [${quantile(xs, 0.25).toFixed(digits)}, ${quantile(xs, 0.75).toFixed(digits)}]` : 'n/a');

async function ours(kind: string, fn: BenchmarkFunction, trials: number, seed: number): Promise<{ values: number[][]; seconds: number }> {
  const sampler = createSampler(kind);
  sampler.onWarning = () => {};
  const t0 = performance.now();
  const r = await driveSampler(sampler, spaceOf(fn), fn.objectives, fn.evaluate, trials, seed);
  return { values: r.trials.map((t) => t.values!), seconds: (performance.now() - t0) / 1000 };
}

/** Milliseconds per suggestion of our sampler with `completed` random trials in the history. */
function ourOverhead(kind: string, fn: BenchmarkFunction, completed: number, repeats: number): number[] {
  const space = spaceOf(fn);
  const rng = new Rng(0);
  const history: Trial[] = [];
  for (let n = 0; n < completed; n++) {
    const p: Params = space.decode(space.params.map(() => rng.random()));
    history.push(fakeTrial(n, p, fn.evaluate(p), fn.objectives));
  }
  const sampler = createSampler(kind);
  sampler.onWarning = () => {};
  const ms: number[] = [];
  // Warm-up calls (JIT, caches), untimed, as a running study's sampler would be warm.
  for (let r = -2; r < repeats; r++) {
    const t0 = performance.now();
    sampler.suggest({ space, objectives: fn.objectives, constraints: [], history, running: [], rng: Rng.derive(0, 'trial', completed + r), trialNumber: completed + r, seed: 0 });
    if (r >= 0) ms.push(performance.now() - t0);
  }
  return ms;
}

async function main() {
  const started = Date.now();
  const python = peerPython();
  const optunaVersion = execFileSync(python, ['-c', 'import optuna, torch; print(optuna.__version__, torch.__version__)'], { encoding: 'utf8' }).trim().split(' ');

  // ---- the Optuna side, started first so that it runs while ours does
  const jobs: PeerJob[] = [];
  for (const f of SINGLE) {
    for (let s = 0; s < SEEDS; s++) {
      for (const sampler of ['random', 'tpe']) jobs.push({ id: `${f}/${sampler}/${s}`, mode: 'optimize', function: f, sampler, trials: trialsFor(fnOf(f)), seed: s });
    }
  }
  for (const f of GP_FUNCTIONS) for (let s = 0; s < GP_SEEDS; s++) jobs.push({ id: `${f}/gp/${s}`, mode: 'optimize', function: f, sampler: 'gp', trials: GP_TRIALS, seed: s });
  for (const f of MULTI) for (let s = 0; s < MO_SEEDS; s++) for (const sampler of ['nsga2', 'tpe']) jobs.push({ id: `${f}/${sampler}/${s}`, mode: 'optimize', function: f, sampler, trials: MO_TRIALS, seed: s });
  console.error(`optuna ${optunaVersion[0]}: ${jobs.length} jobs; ours runs alongside`);
  const peerDone = runPeer(python, jobs);

  // ---- our side
  const mine = new Map<string, { values: number[][]; seconds: number }>();
  for (const f of SINGLE) {
    for (let s = 0; s < SEEDS; s++) for (const kind of ['random', 'tpe']) mine.set(`${f}/${kind}/${s}`, await ours(kind, fnOf(f), trialsFor(fnOf(f)), s));
    console.error(`  ours: ${f} random+tpe done`);
  }
  for (const f of MULTI) for (let s = 0; s < MO_SEEDS; s++) for (const kind of ['nsga2', 'tpe']) mine.set(`${f}/${kind}/${s}`, await ours(kind, fnOf(f), MO_TRIALS, s));
  console.error('  ours: multi-objective done');
  for (const f of GP_FUNCTIONS) {
    for (let s = 0; s < GP_SEEDS; s++) mine.set(`${f}/gp/${s}`, await ours('gp', fnOf(f), GP_TRIALS, s));
    console.error(`  ours: ${f} gp done`);
  }
  const theirs = await peerDone;

  // ---- overhead, measured after the optimisation runs so the two sides do not compete
  const h6 = fnOf('hartmann6');
  const overheadJobs: PeerJob[] = [];
  const reps = (n: number, gp: boolean) => (gp ? (n >= 500 ? 2 : 3) : n >= 5000 ? 3 : 10);
  for (const n of TPE_OVERHEAD_AT) for (const sampler of ['tpe', 'tpe_multivariate']) overheadJobs.push({ id: `oh/${sampler}/${n}`, mode: 'overhead', function: 'hartmann6', sampler, completed: n, repeats: reps(n, false), seed: 0 });
  for (const n of GP_OVERHEAD_AT) overheadJobs.push({ id: `oh/gp/${n}`, mode: 'overhead', function: 'hartmann6', sampler: 'gp', completed: n, repeats: reps(n, true), seed: 0 });
  const ourOh = new Map<string, number[]>();
  for (const n of TPE_OVERHEAD_AT) {
    ourOh.set(`tpe/${n}`, ourOverhead('tpe', h6, n, reps(n, false)));
  }
  for (const n of GP_OVERHEAD_AT) ourOh.set(`gp/${n}`, ourOverhead('gp', h6, n, reps(n, true)));
  const theirOh = await runPeer(python, overheadJobs);

  // ---- tables
  const regrets = (src: Map<string, { values?: number[][] }>, f: string, kind: string, seeds: number) => {
    const fn = fnOf(f) as SingleObjectiveFunction;
    const out: number[] = [];
    for (let s = 0; s < seeds; s++) {
      const r = src.get(`${f}/${kind}/${s}`);
      if (r?.values) out.push(log10Regret(fn, Math.min(...r.values.map((v) => v[0]))));
    }
    return out;
  };
  const notes: string[] = [];
  const single: Table = {
    title: `Single objective: log10 simple regret, median [IQR]; random/TPE ${SEEDS} seeds at 100 trials (200 above 4-D); GP ${GP_SEEDS} seeds at ${GP_TRIALS} trials`,
    columns: ['function', 'trials', 'random (ours)', 'random (Optuna)', 'TPE (ours)', 'TPE (Optuna)', 'TPE regret ratio', 'GP (ours)', 'GP (Optuna)', 'GP regret ratio'],
    rows: [],
  };
  const tpeDiffs: number[] = [];
  const gpDiffs: Record<string, number> = {};
  for (const f of SINGLE) {
    const ot = regrets(mine, f, 'tpe', SEEDS);
    const tt = regrets(theirs, f, 'tpe', SEEDS);
    const diff = median(ot) - median(tt);
    tpeDiffs.push(diff);
    const hasGp = GP_FUNCTIONS.includes(f);
    const og = hasGp ? regrets(mine, f, 'gp', GP_SEEDS) : [];
    const tg = hasGp ? regrets(theirs, f, 'gp', GP_SEEDS) : [];
    if (hasGp) gpDiffs[f] = median(og) - median(tg);
    single.rows.push([
      f,
      trialsFor(fnOf(f)),
      cell(regrets(mine, f, 'random', SEEDS)),
      cell(regrets(theirs, f, 'random', SEEDS)),
      cell(ot),
      cell(tt),
      (10 ** diff).toPrecision(3),
      hasGp ? cell(og) : 'not run',
      hasGp ? cell(tg) : 'not run',
      hasGp ? (10 ** gpDiffs[f]).toPrecision(3) : '',
    ]);
  }
  const geo = 10 ** (tpeDiffs.reduce((a, b) => a + b, 0) / tpeDiffs.length);
  const tpeEvery = tpeDiffs.every((d) => d <= 0);
  notes.push(
    `TPE goal (median regret at or below Optuna's on every function, geometric-mean regret ratio ≤ 0.8): ${tpeEvery && geo <= 0.8 ? 'met' : 'missed'}; geometric-mean ratio ${geo.toPrecision(3)}; at or below on ${tpeDiffs.filter((d) => d <= 0).length} of ${tpeDiffs.length} functions.`,
  );
  const gpGoal = ['branin', 'hartmann6'].every((f) => (gpDiffs[f] ?? Infinity) <= 0);
  notes.push(`GP goal (median regret at or below Optuna GPSampler's on Branin and Hartmann6): ${gpGoal ? 'met' : 'missed'} (ratios ${['branin', 'hartmann6'].map((f) => `${f} ${(10 ** (gpDiffs[f] ?? NaN)).toPrecision(3)}`).join(', ')}).`);

  const mo: Table = {
    title: `Multi-objective: hypervolume after ${MO_TRIALS} trials, median [IQR] over ${MO_SEEDS} seeds (higher is better)`,
    columns: ['function', 'reference point', 'true front', 'NSGA-II (ours)', 'NSGA-II (Optuna)', 'TPE (ours)', 'TPE (Optuna)'],
    rows: [],
  };
  const moGoal: string[] = [];
  for (const f of MULTI) {
    const fn = fnOf(f);
    if (fn.kind !== 'multi') continue;
    const ref = fn.optimum.referencePoint;
    const hv = (src: Map<string, { values?: number[][] }>, kind: string) => {
      const out: number[] = [];
      for (let s = 0; s < MO_SEEDS; s++) {
        const r = src.get(`${f}/${kind}/${s}`);
        if (r?.values) out.push(hypervolume(r.values, ref));
      }
      return out;
    };
    const [on, tn, ot, tt] = [hv(mine, 'nsga2'), hv(theirs, 'nsga2'), hv(mine, 'tpe'), hv(theirs, 'tpe')];
    mo.rows.push([f, `(${ref.join(', ')})`, fn.optimum.hypervolume.toFixed(3), cell(on, 3), cell(tn, 3), cell(ot, 3), cell(tt, 3)]);
    moGoal.push(`${f}: NSGA-II ${median(on) >= median(tn) ? 'met' : 'missed'} (${(median(on) / median(tn)).toPrecision(3)}×), TPE ${median(ot) >= median(tt) ? 'met' : 'missed'} (${(median(ot) / median(tt)).toPrecision(3)}×)`);
  }
  notes.push(`Hypervolume goal (at or above Optuna's): ${moGoal.join('; ')}.`);

  const ohTable: Table = {
    title: 'Overhead: milliseconds per suggestion on Hartmann6 (6-D) with N completed trials in the history, median over repeats',
    columns: ['sampler', 'N', 'ours (ms)', 'Optuna (ms)', 'Optuna / ours'],
    rows: [],
  };
  for (const n of TPE_OVERHEAD_AT) {
    const ourMv = median(ourOh.get(`tpe/${n}`)!);
    const optUni = median(theirOh.get(`oh/tpe/${n}`)!.ms!);
    const optMv = median(theirOh.get(`oh/tpe_multivariate/${n}`)!.ms!);
    ohTable.rows.push([`TPE (ours multivariate) vs Optuna default (univariate)`, n, ourMv.toFixed(2), optUni.toFixed(2), (optUni / ourMv).toFixed(1)]);
    ohTable.rows.push([`TPE (ours multivariate) vs Optuna multivariate`, n, ourMv.toFixed(2), optMv.toFixed(2), (optMv / ourMv).toFixed(1)]);
    if (n === 1000) notes.push(`TPE speed goal (≥ 10× faster than Optuna at 1,000 trials): ${optUni / ourMv >= 10 ? 'met' : 'missed'} against the default univariate TPESampler (${(optUni / ourMv).toFixed(1)}×), ${optMv / ourMv >= 10 ? 'met' : 'missed'} against multivariate (${(optMv / ourMv).toFixed(1)}×).`);
  }
  for (const n of GP_OVERHEAD_AT) {
    const o = median(ourOh.get(`gp/${n}`)!);
    const t = median(theirOh.get(`oh/gp/${n}`)!.ms!);
    ohTable.rows.push(['GP', n, o.toFixed(0), t.toFixed(0), (t / o).toFixed(2)]);
  }
  const time: Table = {
    title: 'Wall time per optimisation run (seconds, median), sampler plus function',
    columns: ['sampler', 'function', 'ours', 'Optuna'],
    rows: [],
  };
  const secs = (src: Map<string, { seconds?: number }>, key: string, seeds: number) => {
    const xs: number[] = [];
    for (let s = 0; s < seeds; s++) {
      const r = src.get(`${key}/${s}`);
      if (r?.seconds !== undefined) xs.push(r.seconds);
    }
    return xs.length ? median(xs).toFixed(2) : 'n/a';
  };
  for (const f of SINGLE) time.rows.push(['TPE', f, secs(mine, `${f}/tpe`, SEEDS), secs(theirs, `${f}/tpe`, SEEDS)]);
  for (const f of GP_FUNCTIONS) time.rows.push(['GP', f, secs(mine, `${f}/gp`, GP_SEEDS), secs(theirs, `${f}/gp`, GP_SEEDS)]);

  notes.push(
    `Mode: ${quick ? '--quick (random/TPE 10 seeds, GP 5 seeds on Branin and Hartmann6 only, MO 5 seeds)' : `full (random/TPE ${SEEDS} seeds, GP ${GP_SEEDS} seeds, MO ${MO_SEEDS} seeds)`}; GP runs use ${GP_TRIALS} trials on every function (the bar quoted in issue 8 is at 100 trials), since a 200-trial GP run costs minutes per seed on this machine. Total wall time ${((Date.now() - started) / 60000).toFixed(1)} min; the Optuna side ran in a child process at the same time as ours (2 shared cores), overhead figures were measured afterwards, one side at a time.`,
    'Our samplers: TPE is `tpe` with defaults (multivariate: joint kernels with per-dimension neighbour bandwidths as Optuna 5, gamma 0.2 capped at 25, 24 EI candidates, 10 Sobol start-up trials); GP is `gp` with defaults (10 Sobol start-up trials, Matérn-5/2 ARD, MAP fit with 3 starts, log EI over 1,024 random + 300 local candidates and 6 local refinements); NSGA-II population 50 with BLX-0.5 crossover (p 0.9) and polynomial mutation (η 20, p = 1/d); multi-objective TPE with its MO defaults (independent estimators, good group ⌈0.1 n⌉ uncapped, as Optuna). Optuna: defaults of TPESampler, GPSampler, NSGAIISampler (population 50) and RandomSampler, seeded with the same integers.',
  );
  notes.push(
    'What we learned: (1) Optuna 5 TPE samples jointly by default (single objective) with per-dimension neighbour-distance bandwidths and a categorical kernel whose off-choice mass shrinks as prior_weight/(n+1); our first version used the older Scott-rule multivariate bandwidth and a flat categorical kernel and lost on Hartmann6 (ratio 2.3) and the mixed function (3.5) — matching Optuna 5 and then doubling gamma to 0.2 gave the figures above. (2) For several objectives independent estimators with an uncapped 10% good group beat joint ones (DTLZ2 hypervolume 0.40 against 0.21-0.28). (3) NSGA-II with BLX-0.5 beat SBX and uniform crossover at 4 generations (DTLZ2 0.106 against 0.035 for SBX).',
    'Overhead: TPE is 2-2.5× faster than Optuna per suggestion, not 10×: rebuilding the Parzen estimators from the whole history on every call (a pure function of storage, no cached model) costs about 4-5 µs per completed trial; the remaining time is spread over splitting, group decomposition and the kernel sums rather than one hot spot. The GP is 10× slower than Optuna GPSampler per suggestion: Optuna warm-starts the kernel fit from its previous call and runs its linear algebra in torch, while ours refits from scratch (3 L-BFGS starts, pure function of the history) and refines the acquisition with finite-difference gradients; end to end a 100-trial GP run takes 1.3-2.5× Optuna\'s wall time (table above).',
  );
  const file = writeReport({
    name: 'samplers',
    command: `npm run bench:samplers${quick ? ' -- --quick' : ''}`,
    peers: { optuna: optunaVersion[0], torch: optunaVersion[1] },
    tables: [single, mo, ohTable, time],
    notes,
  });
  console.log(`wrote ${file}`);
}

await main();
