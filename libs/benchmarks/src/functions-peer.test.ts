import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Rng } from '@segtune/core';
import type { ParamSpec, Params } from '@segtune/space';
import { getBenchmark, BENCHMARK_NAMES, type BenchmarkFunction } from './functions';

// The samplers benchmark runs Optuna on bench/peers/functions.py: check that it computes the
// same functions as this package, at 100 fixed points per function (its minimisers, the corners
// of the box, and seeded random points).

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const PINS = ['optuna==5.0.0', 'scipy', 'torch==2.13.0', 'psycopg2-binary'];

/** The shared `bench` venv's python, or the reason it could not be created. */
function benchPython(): { python?: string; reason?: string } {
  const r = spawnSync(join(root, 'scripts', 'python-venv.sh'), ['bench', ...PINS], { encoding: 'utf8', timeout: 580_000 });
  if (r.status === 0 && r.stdout.trim()) return { python: r.stdout.trim().split('\n').pop() };
  const why = r.error ? r.error.message : (r.stderr || '').trim().split('\n').slice(-1)[0];
  return { reason: `could not create the bench venv (scripts/python-venv.sh bench …): ${why || `exit ${r.status}`}` };
}

const SPECS = [...BENCHMARK_NAMES, 'rosenbrock(d=7)', 'levy(d=3)', 'ackley(d=10)', 'styblinski_tang(d=2)', 'zdt1(d=5)', 'zdt2(d=4)', 'dtlz2(d=8, m=4)', 'dtlz2(d=6, m=2)'];

function corner(fn: BenchmarkFunction, side: 'low' | 'high'): Params {
  const out: Params = {};
  for (const [k, p] of Object.entries(fn.params) as [string, ParamSpec][]) {
    out[k] = p.type === 'categorical' ? p.choices[side === 'low' ? 0 : p.choices.length - 1] : p[side];
  }
  return out;
}

function fixedPoints(fn: BenchmarkFunction, spec: string): Params[] {
  const pts: Params[] = [corner(fn, 'low'), corner(fn, 'high')];
  if (fn.kind === 'single') pts.push(...fn.optimum.locations);
  else pts.push(fn.optimum.solutionAt(new Array(fn.objectives.length - 1).fill(0.25)));
  const rng = new Rng(`peer/${spec}`);
  while (pts.length < 100) {
    const p: Params = {};
    for (const [k, ps] of Object.entries(fn.params) as [string, ParamSpec][]) {
      if (ps.type === 'float') p[k] = rng.uniform(ps.low, ps.high);
      else if (ps.type === 'int') p[k] = ps.low + rng.int(ps.high - ps.low + 1);
      else p[k] = rng.choice(ps.choices);
    }
    pts.push(p);
  }
  return pts;
}

describe('bench/peers/functions.py', () => {
  it('agrees with the TypeScript definitions at 100 fixed points per function', { timeout: 600_000 }, (ctx) => {
    const { python, reason } = benchPython();
    if (!python) {
      if (process.env.CI) throw new Error(reason);
      ctx.skip(reason);
      return;
    }
    const requests = SPECS.map((spec) => ({ spec, fn: getBenchmark(spec) })).map(({ spec, fn }) => ({ function: spec, fn, points: fixedPoints(fn, spec) }));
    const r = spawnSync(python, [join(root, 'bench', 'peers', 'functions.py'), 'eval'], {
      input: JSON.stringify(requests.map(({ function: f, points }) => ({ function: f, points }))),
      encoding: 'utf8',
      timeout: 120_000,
      maxBuffer: 64 * 2 ** 20,
    });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const answers = JSON.parse(r.stdout) as number[][][];
    expect(answers).toHaveLength(requests.length);
    let compared = 0;
    requests.forEach(({ function: spec, fn, points }, i) => {
      expect(answers[i], spec).toHaveLength(100);
      points.forEach((p, j) => {
        const ours = fn.evaluate(p);
        const theirs = answers[i][j];
        expect(theirs, `${spec} point ${j}`).toHaveLength(ours.length);
        ours.forEach((v, k) => {
          const tol = 1e-9 * Math.max(1, Math.abs(v));
          if (!(Math.abs(v - theirs[k]) <= tol)) throw new Error(`${spec} at ${JSON.stringify(p)}: objective ${k} is ${v} here, ${theirs[k]} in Python`);
          compared++;
        });
      });
    });
    expect(compared).toBeGreaterThanOrEqual(100 * SPECS.length);
  });
});
