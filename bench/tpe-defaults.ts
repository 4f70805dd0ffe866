// Cross-check of the TPE ablations that beat the default on the bbob suite
// (bench/results/samplers.md), on the project's own single-objective functions, which the
// suite does not hold: a variant only becomes the default if it does not lose there.
//   npm run bench:tpe-defaults
import { Space, type ParamDef } from '@segtune/space';
import { BENCHMARK_FUNCTIONS, log10Regret, type SingleObjectiveFunction } from '../libs/benchmarks/src/functions';
import { createSampler, driveSampler } from '../libs/samplers/src/index';
import { writeReport } from './lib/report';

const SEEDS = 20;
const VARIANTS: { label: string; spec: Record<string, unknown> }[] = [
  { label: 'default', spec: { kind: 'tpe' } },
  { label: 'bandwidth_factor 0.7', spec: { kind: 'tpe', bandwidth_factor: 0.7 } },
  { label: 'gamma 0.25', spec: { kind: 'tpe', gamma: 0.25 } },
  { label: 'n_ei_candidates 64', spec: { kind: 'tpe', n_ei_candidates: 64 } },
];
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const names = Object.keys(BENCHMARK_FUNCTIONS).filter((n) => BENCHMARK_FUNCTIONS[n].objectives.length === 1);
const rows: (string | number)[][] = [];
const worse = new Map(VARIANTS.map((v) => [v.label, 0]));
for (const name of names) {
  const fn = BENCHMARK_FUNCTIONS[name] as SingleObjectiveFunction;
  const space = new Space(Object.entries(fn.params).map(([n, spec]) => ({ name: n, ...spec }) as ParamDef));
  const trials = fn.dimension > 4 ? 200 : 100;
  const med: number[] = [];
  for (const v of VARIANTS) {
    const r: number[] = [];
    for (let seed = 0; seed < SEEDS; seed++) {
      const sampler = createSampler(v.spec as never);
      sampler.onWarning = () => {};
      const out = await driveSampler(sampler, space, fn.objectives, fn.evaluate, trials, seed);
      r.push(log10Regret(fn, Math.min(...out.trials.filter((t) => t.values).map((t) => t.values![0]))));
    }
    med.push(median(r));
  }
  // A variant "loses" on a function when its median regret is above the default's by more than
  // 0.1 in log10 (26%).
  VARIANTS.forEach((v, i) => i > 0 && med[i] > med[0] + 0.1 && worse.set(v.label, worse.get(v.label)! + 1));
  rows.push([name, fn.dimension, trials, ...med.map((m) => m.toFixed(2))]);
}
rows.push(['functions where the variant is worse by > 0.1', '', '', ...VARIANTS.map((v, i) => (i === 0 ? '–' : `${worse.get(v.label)} of ${names.length}`))]);
const file = writeReport({
  name: 'tpe-defaults',
  command: 'npm run bench:tpe-defaults',
  tables: [{ title: `median log10 simple regret over ${SEEDS} seeds (lower is better), ours only`, columns: ['function', 'dim', 'trials', ...VARIANTS.map((v) => v.label)], rows }],
  notes: [
    'Why: on the bbob suite with 3 instances × 3 seeds (bench/results/samplers.md) these three TPE variants had a lower geometric-mean ratio to Optuna than the default; the question is whether that holds off the suite before one becomes the default.',
    'Reading: a variant is adopted only if it is not worse here either. bandwidth_factor 0.7 and gamma 0.25 lose clearly on some of these functions (as measured on 2026-12-06: bandwidth 0.7 on Hartmann6 by 0.8 in log10, gamma 0.25 on Levy by 0.8), so they stay options. n_ei_candidates 64 is within about 0.1 of the default everywhere here, a tie, and scores 2.7× as many candidates per suggestion, which would cost the 10×-faster-than-Optuna figure at 1,000 trials; the default stays 24.',
  ],
});
console.log(`wrote ${file}`);
