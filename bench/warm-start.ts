// Warm-start benchmark: on pairs of related functions (the same function with its optimum
// shifted by 10% of each range), how many trials a study needs to reach a target with and
// without a warm start from a 100-trial study of the unshifted function, per sampler (TPE, GP,
// CMA-ES), over several seeds. Trial counts only, no timing. The prior goes through the same
// path as the CLI's: core's mapTrialsToSpace, then SamplerContext.prior.
//
// The target of a (function, sampler) pair is the best value the cold-started runs reach, in
// the median, at half the budget: cold runs need about half the budget by construction, and the
// warm-started ones are measured against that.
//
//   npm run bench:warm-start            # full grid
//   npm run bench:warm-start -- --quick # fewer seeds and functions
import { Rng, mapTrialsToSpace, type Objective, type Trial } from '@segtune/core';
import { parseSpace, type Params, type Space } from '@segtune/space';
import { ackley, branin, hartmann6, rosenbrock, styblinskiTang, type SingleObjectiveFunction } from '../libs/benchmarks/src/functions';
import { createSampler, fakeTrial } from '../libs/samplers/src/index';
import { writeReport, type Table } from './lib/report';

const quick = process.argv.includes('--quick');
const SOURCE_TRIALS = 100;
const SHIFT = 0.1;

interface Fn {
  name: string;
  bounds: [number, number][];
  f: (x: number[]) => number;
}

const fromLibrary = (fn: SingleObjectiveFunction, name = fn.name): Fn => {
  const names = Object.keys(fn.params);
  return {
    name,
    bounds: names.map((n) => {
      const p = fn.params[n] as { low: number; high: number };
      return [p.low, p.high];
    }),
    f: (x) => fn.evaluate(Object.fromEntries(names.map((n, i) => [n, x[i]])))[0],
  };
};

// BBOB-style: a random optimum inside [-4, 4]^d (fixed per function), on [-5, 5]^d.
const bbobOptimum = (d: number, seed: number) => {
  const r = new Rng(seed);
  return Array.from({ length: d }, () => r.uniform(-4, 4));
};
const xs = bbobOptimum(4, 11);
const xe = bbobOptimum(4, 12);
const FUNCTIONS: Fn[] = [
  fromLibrary(branin()),
  fromLibrary(rosenbrock(4), 'rosenbrock-4d'),
  fromLibrary(hartmann6()),
  fromLibrary(ackley(4), 'ackley-4d'),
  fromLibrary(styblinskiTang(4), 'styblinski-tang-4d'),
  { name: 'bbob-sphere-4d', bounds: Array.from({ length: 4 }, () => [-5, 5] as [number, number]), f: (x) => x.reduce((a, v, i) => a + (v - xs[i]) ** 2, 0) },
  { name: 'bbob-ellipsoid-4d', bounds: Array.from({ length: 4 }, () => [-5, 5] as [number, number]), f: (x) => x.reduce((a, v, i) => a + 10 ** (6 * (i / 3)) * (v - xe[i]) ** 2, 0) },
];

interface SamplerRun {
  kind: string;
  budget: number;
  seeds: number;
  functions: string[];
}
const SAMPLERS: SamplerRun[] = [
  { kind: 'tpe', budget: 100, seeds: quick ? 3 : 7, functions: FUNCTIONS.map((f) => f.name) },
  { kind: 'cmaes', budget: 100, seeds: quick ? 3 : 7, functions: FUNCTIONS.map((f) => f.name) },
  // The GP costs the most per suggestion: fewer seeds and a shorter budget.
  { kind: 'gp', budget: 40, seeds: quick ? 2 : 3, functions: quick ? ['branin', 'bbob-sphere-4d'] : ['branin', 'rosenbrock-4d', 'hartmann6', 'bbob-sphere-4d', 'bbob-ellipsoid-4d'] },
];

const objectives: Objective[] = [{ name: 'value', direction: 'minimize' }];

function spaceOf(fn: Fn): Space {
  const params = fn.bounds.map((b, i) => `  x${i + 1}: { type: float, low: ${b[0]}, high: ${b[1]} }`).join('\n');
  return parseSpace(`name: ${fn.name}\nobjectives: [{ name: value, direction: minimize }]\nparams:\n${params}\nworkload: { kind: module, path: ./w.mjs }\n`).space;
}

/** Runs `n` trials (suggest, evaluate, tell) with an optional prior; returns the trials. */
async function drive(kind: string, space: Space, f: (p: Params) => number, n: number, seed: number, prior?: readonly Trial[]): Promise<Trial[]> {
  const sampler = createSampler({ kind });
  const history: Trial[] = [];
  for (let k = 0; k < n; k++) {
    const params = await sampler.suggest({ space, objectives, constraints: [], history, running: [], rng: Rng.derive(seed, 'sample', k), trialNumber: k, seed, ...(prior?.length ? { prior } : {}) });
    history.push(fakeTrial(k, params, [f(params)], objectives));
  }
  return history;
}

const bestCurve = (ts: Trial[]) => {
  let b = Infinity;
  return ts.map((t) => (b = Math.min(b, t.values![0])));
};
const median = (v: number[]) => {
  const s = [...v].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

async function main() {
  const rows: (string | number)[][] = [];
  const summary: Record<string, { warm: number[]; cold: number[] }> = {};
  for (const s of SAMPLERS) {
    for (const fn of FUNCTIONS.filter((f) => s.functions.includes(f.name))) {
      const space = spaceOf(fn);
      const names = space.names;
      const cold: number[][] = [];
      const warm: number[][] = [];
      for (let seed = 0; seed < s.seeds; seed++) {
        // The shift: 10% of each range, in a direction drawn per seed.
        const r = new Rng(1000 + seed);
        const delta = fn.bounds.map((b) => (r.random() < 0.5 ? -1 : 1) * SHIFT * (b[1] - b[0]));
        const source = (p: Params) => fn.f(names.map((n) => Number(p[n])));
        const target = (p: Params) => fn.f(names.map((n, i) => Number(p[n]) - delta[i]));
        const src = await drive(s.kind, space, source, SOURCE_TRIALS, 500 + seed);
        const prior = mapTrialsToSpace(space, objectives, { objectives, trials: src, name: 'source' }).trials;
        cold.push(bestCurve(await drive(s.kind, space, target, s.budget, seed)));
        warm.push(bestCurve(await drive(s.kind, space, target, s.budget, seed, prior)));
        process.stderr.write('.');
      }
      const goal = median(cold.map((c) => c[Math.floor(s.budget / 2) - 1]));
      const reach = (c: number[]) => {
        const i = c.findIndex((v) => v <= goal);
        return i < 0 ? s.budget + 1 : i + 1;
      };
      const tc = cold.map(reach);
      const tw = warm.map(reach);
      (summary[s.kind] ??= { warm: [], cold: [] }).warm.push(median(tw));
      summary[s.kind].cold.push(median(tc));
      const fmt = (v: number) => (v > s.budget ? `>${s.budget}` : String(v));
      rows.push([
        s.kind,
        fn.name,
        s.seeds,
        goal.toPrecision(4),
        fmt(median(tc)),
        fmt(median(tw)),
        `${tw.filter((v, i) => v < tc[i]).length}/${tw.filter((v, i) => v > tc[i]).length}`,
        median(cold.map((c) => c[c.length - 1])).toPrecision(4),
        median(warm.map((c) => c[c.length - 1])).toPrecision(4),
        median(warm.map((c) => c[0])).toPrecision(4),
        median(cold.map((c) => c[0])).toPrecision(4),
      ]);
      process.stderr.write(` ${s.kind} ${fn.name}\n`);
    }
  }
  const table: Table = {
    title: `Trials to reach the target, median over seeds (source study: ${SOURCE_TRIALS} trials of the unshifted function; shift ${SHIFT * 100}% of each range)`,
    columns: ['sampler', 'function', 'seeds', 'target', 'trials cold', 'trials warm', 'warm faster/slower (seeds)', 'best at budget cold', 'best at budget warm', 'first trial warm', 'first trial cold'],
    rows,
  };
  const overall: Table = {
    title: 'Per sampler: median over functions of the median trials to target',
    columns: ['sampler', 'budget', 'cold', 'warm', 'ratio warm/cold'],
    rows: SAMPLERS.map((s) => {
      const c = median(summary[s.kind].cold);
      const w = median(summary[s.kind].warm);
      return [s.kind, s.budget, c, w, (w / c).toFixed(2)];
    }),
  };
  const file = writeReport({
    name: 'warm-start',
    command: `npm run bench:warm-start${quick ? ' -- --quick' : ''}`,
    tables: [overall, table],
    notes: [
      'The target is the median (over seeds) best value of the cold-started runs at half the budget, so "trials cold" sits near budget/2 by construction; ">N" means the median run did not reach it within the budget N.',
      'Warm starts use the same mapping as `segtune search --warm-start` (mapTrialsToSpace) and the prior each sampler builds from SamplerContext.prior: TPE weighted kernels (0.5, decaying with the own trials and with how badly the prior ranks them), GP prior mean with a residual GP, CMA-ES initial mean and covariance from the best 10% (WS-CMA-ES).',
      'Where warm starts lose: the ill-conditioned ellipsoid (TPE and GP; its shifted optimum sits where the source\'s surface is steepest, and the prior mean misleads the GP there). A prior whose optimum lies far away (unit test libs/samplers/src/warm-start.test.ts) is faded out by TPE as it ranks the study\'s trials badly, but TPE recovers slowly from the trials it already spent near the prior\'s optimum.',
      'The quick U-Net space warm-started from a 32×32 study at 64×64: bench/results/warm-start-unet.md (`npm run bench:warm-start-unet`), since it trains real models.',
    ],
  });
  process.stderr.write(`wrote ${file}\n`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
