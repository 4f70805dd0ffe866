// Multi-fidelity schedulers on the learning-curve simulator (virtual clock), with 1, 4, 16 and 64
// simulated workers and a fixed simulated wall budget, against Optuna's SuccessiveHalvingPruner
// and HyperbandPruner with TPE driven through ask-and-tell on the same curves (served from here).
//
// Run: npm run bench:schedulers
// Knobs (environment): SCHED_BENCH_SEEDS (3), SCHED_BENCH_WALL_HOURS (6), SCHED_BENCH_MO_WALL_HOURS (2),
//   SCHED_BENCH_PEER_WORKERS (1,4,16), SCHED_BENCH_MO_SEEDS_64 (1), SCHED_BENCH_JOBS (cores, at most 4).
//
// Every (method, workers, seed) cell is an independent deterministic simulation, so cells run in
// SCHED_BENCH_JOBS forked processes at once; the figures do not depend on that, only "s/run" does.
import { spawn, execFileSync, fork, type ChildProcess } from 'node:child_process';
import { cpus } from 'node:os';
import { createInterface } from 'node:readline';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Objective, Sampler, Scheduler, Trial } from '@segtune/core';
import type { Budget, StrategySpec } from '@segtune/space';
import { bestReachableAccuracy, simulate, simulatorMetrics, simulatorProblem, curveShape } from '@segtune/benchmarks';
import { SAMPLERS } from '@segtune/samplers';
import { hypervolume } from '@segtune/pareto';
import { createStrategies } from '@segtune/schedulers';
import { writeReport, type Table } from './lib/report';

const here = dirname(fileURLToPath(import.meta.url));
const self = fileURLToPath(import.meta.url);
const root = join(here, '..');
const SEEDS = Number(process.env.SCHED_BENCH_SEEDS ?? 3);
const WALL = Number(process.env.SCHED_BENCH_WALL_HOURS ?? 6) * 3600;
const WORKERS = [1, 4, 16, 64];
/** The two-objective runs use a shorter budget: NSGA-II re-sorts the whole history per suggestion (O(N²) each). */
const MO_WALL = Number(process.env.SCHED_BENCH_MO_WALL_HOURS ?? 2) * 3600;
/** Seeds of the 64-worker two-objective cell (NSGA-II takes minutes there with ~3,500 trials). */
const MO_SEEDS_64 = Number(process.env.SCHED_BENCH_MO_SEEDS_64 ?? 1);
/**
 * Optuna's TPE costs O(N) per ask over N trials: a 16-worker SuccessiveHalvingPruner run (~3,000
 * trials) takes minutes and a 64-worker one (~11,000) would take most of an hour, so 64 is opt-in.
 */
const PEER_WORKERS = (process.env.SCHED_BENCH_PEER_WORKERS ?? '1,4,16').split(',').filter(Boolean).map(Number);
const JOBS = Math.max(1, Number(process.env.SCHED_BENCH_JOBS ?? Math.min(4, cpus().length)));
const ETA = 3;

const problem = simulatorProblem();
const best = bestReachableAccuracy(problem.budget.max);
const target = best * 0.99;

/** The sampler kind a method asks for, or random where this build has none of that kind. */
function samplerKind(kind: 'random' | 'tpe' | 'nsga2'): string {
  return kind !== 'random' && SAMPLERS[kind] ? kind : 'random';
}

/**
 * Sampler and scheduler through the factory the CLI uses (createStrategies), so promotion mode
 * and BOHB's model are wired here exactly as in `segtune search`.
 */
function strategies(scheduler: unknown, samplerName: 'random' | 'tpe' | 'nsga2' | undefined, p: { objectives: Objective[]; budget: Budget }): { sampler: Sampler; scheduler: Scheduler } {
  const schedulerSpec = (typeof scheduler === 'string' ? { kind: scheduler } : scheduler) as StrategySpec;
  return createStrategies({ scheduler: schedulerSpec, sampler: samplerName ? { kind: samplerKind(samplerName) } : undefined, objectives: p.objectives, budget: p.budget });
}

interface Run {
  /** Simulated seconds until the incumbent's noise-free accuracy is within 1% of the best reachable; Infinity if never. */
  timeToTarget: number;
  regret: number;
  utilisation: number;
  trials: number;
  complete: number;
  seconds: number;
  /** Hours the configuration that first put the incumbent on target spent in training (start to completion). */
  targetTrainHours: number;
  /** Trials whose configuration reaches the target at the full budget (noise-free), and how many of those were stopped early. */
  good?: number;
  goodStopped?: number;
}

/** Incumbent = the complete trial with the best observed final value; judged on its noise-free value. */
function score(completions: { time: number; start: number; value: number; truth: number }[], busy: number, workers: number, trials: number, seconds: number): Run {
  let inc = -Infinity;
  let truth = 0;
  let ttt = Infinity;
  let train = NaN;
  for (const c of [...completions].sort((a, b) => a.time - b.time)) {
    if (c.value > inc) {
      inc = c.value;
      truth = c.truth;
      if (ttt === Infinity && truth >= target) {
        ttt = c.time;
        train = (c.time - c.start) / 3600;
      }
    }
  }
  return { timeToTarget: ttt, targetTrainHours: train, regret: completions.length ? best - truth : best, utilisation: busy / (workers * WALL), trials, complete: completions.length, seconds };
}

const methods: { label: string; scheduler: unknown; sampler?: 'random' | 'tpe' }[] = [
  { label: 'random, full budget', scheduler: 'none', sampler: 'random' },
  { label: 'TPE, full budget', scheduler: 'none', sampler: 'tpe' },
  { label: 'synchronous SH', scheduler: 'sha', sampler: 'random' },
  { label: 'ASHA', scheduler: { kind: 'asha', reduction_factor: ETA }, sampler: 'random' },
  { label: 'Hyperband', scheduler: { kind: 'hyperband', reduction_factor: ETA }, sampler: 'random' },
  // BOHB proposes with its own model: no sampler.
  { label: 'BOHB', scheduler: { kind: 'bohb', reduction_factor: ETA } },
];

async function ours(m: (typeof methods)[number], workers: number, seed: number): Promise<Run> {
  // Synchronous SH: cohorts of W·η^K trials, so its last rung still has a trial per worker.
  const spec = m.scheduler === 'sha' ? { kind: 'sha', reduction_factor: ETA, cohort_size: workers * 27 } : m.scheduler;
  const { scheduler, sampler: s } = strategies(spec, m.sampler, problem);
  const t0 = performance.now();
  const r = await simulate({ problem, sampler: s, scheduler, workers, wallSeconds: WALL, seed });
  const comps = r.completions.map((c) => ({ time: c.time, start: c.trial.startedAt ?? 0, value: c.trial.values![0], truth: problem.trueValues(c.trial.params)[0] }));
  const good = r.trials.filter((t) => Object.keys(t.params).length > 0 && problem.trueValues(t.params)[0] >= target);
  return { ...score(comps, r.busySeconds, workers, r.trials.length, (performance.now() - t0) / 1000), good: good.length, goodStopped: good.filter((t) => t.state === 'pruned').length };
}

async function peer(python: string, pruner: 'sh' | 'hyperband', workers: number, seed: number): Promise<Run> {
  const t0 = performance.now();
  const cfg = { pruner, workers, wall: WALL, seed, min: problem.budget.min, max: problem.budget.max, eta: ETA };
  const child = spawn(python, [join(here, 'peers', 'schedulers_peer.py'), JSON.stringify(cfg)], { stdio: ['pipe', 'pipe', 'inherit'] });
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  const lines = createInterface({ input: child.stdout });
  let result: { trials: number; busy: number; completions: { time: number; start: number; value: number; true: number }[] } | undefined;
  for await (const line of lines) {
    const msg = JSON.parse(line) as { curve?: Record<string, number>; result?: typeof result };
    if (msg.curve) {
      const p = msg.curve;
      const values = Array.from({ length: problem.budget.max }, (_, i) => simulatorMetrics(p, i + 1).accuracy);
      child.stdin.write(`${JSON.stringify({ values, cost: curveShape(p).cost, true: problem.trueValues(p)[0] })}\n`);
    } else if (msg.result) {
      result = msg.result;
      child.stdin.end();
    }
  }
  const code = await exited;
  if (!result) throw new Error(`Optuna peer (${pruner}, ${workers} workers, seed ${seed}) gave no result (exit ${code})`);
  return score(result.completions.map((c) => ({ time: c.time, start: c.start, value: c.value, truth: c.true })), result.busy, workers, result.trials, (performance.now() - t0) / 1000);
}

async function multiObjective(workers: number, seed: number, kind: 'moasha' | 'nsga2'): Promise<{ hv: number; seconds: number }> {
  const mo = simulatorProblem({ multiObjective: true });
  const { scheduler, sampler: s } = strategies(kind === 'moasha' ? { kind: 'moasha', reduction_factor: ETA } : 'none', kind === 'nsga2' ? 'nsga2' : 'random', mo);
  const t0 = performance.now();
  const r = await simulate({ problem: mo, sampler: s, scheduler, workers, wallSeconds: MO_WALL, seed });
  // Hypervolume of the complete trials' noise-free (error, latency) points, reference (0.5, 40 ms).
  const points = r.completions.map((c: { trial: Trial }) => {
    const [acc, lat] = mo.trueValues(c.trial.params);
    return [1 - acc, lat];
  });
  return { hv: hypervolume(points, [0.5, 40]), seconds: (performance.now() - t0) / 1000 };
}

// ── the cells, and the pool that runs them ────────────────────────────────────────────────────

type Cell =
  | { kind: 'ours'; method: number; workers: number; seed: number }
  | { kind: 'peer'; pruner: 'sh' | 'hyperband'; workers: number; seed: number; python: string }
  | { kind: 'mo'; which: 'moasha' | 'nsga2'; workers: number; seed: number };

type CellResult = { run: Run } | { hv: number; seconds: number };

async function runCell(c: Cell): Promise<CellResult> {
  if (c.kind === 'ours') return { run: await ours(methods[c.method], c.workers, c.seed) };
  if (c.kind === 'peer') return { run: await peer(c.python, c.pruner, c.workers, c.seed) };
  return multiObjective(c.workers, c.seed, c.which);
}

/** Rough real seconds per cell on this machine, only to start the long ones first. */
function estimate(c: Cell): number {
  const w = c.workers;
  if (c.kind === 'peer') return (c.pruner === 'sh' ? 0.02 : 0.006) * (w * 27) ** 2 / 10;
  if (c.kind === 'mo') return (c.which === 'nsga2' ? 0.04 : 0.01) * w ** 2;
  const label = methods[c.method].label;
  return (label.startsWith('TPE') || label === 'ASHA' || label === 'synchronous SH' ? 0.007 : 0.002) * w ** 2;
}

async function runPool(cells: Cell[]): Promise<CellResult[]> {
  const results = new Array<CellResult>(cells.length);
  const order = cells.map((_, i) => i).sort((a, b) => estimate(cells[b]) - estimate(cells[a]));
  let next = 0;
  let done = 0;
  const t0 = performance.now();
  const worker = (child: ChildProcess) =>
    new Promise<void>((resolve, reject) => {
      let finished = false;
      const give = () => {
        if (next >= order.length) {
          finished = true;
          child.send({ exit: true });
          return resolve();
        }
        const i = order[next++];
        child.removeAllListeners('message');
        child.on('message', (msg: { result?: CellResult; error?: string }) => {
          if (msg.error !== undefined) return reject(new Error(`cell ${JSON.stringify({ ...cells[i], python: undefined })}: ${msg.error}`));
          results[i] = msg.result!;
          done++;
          const c = cells[i];
          const label = c.kind === 'ours' ? methods[c.method].label : c.kind === 'peer' ? `Optuna ${c.pruner}` : c.which;
          console.log(`[${done}/${cells.length} ${((performance.now() - t0) / 1000).toFixed(0)}s] ${label}, ${c.workers} workers, seed ${c.seed}`);
          give();
        });
        child.send({ cell: cells[i] });
      };
      child.on('exit', (code) => (finished ? undefined : reject(new Error(`bench worker exited early (${code})`))));
      give();
    });
  const children = Array.from({ length: Math.min(JOBS, cells.length) }, () => fork(self, ['--cell-worker'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], serialization: 'advanced' /* keeps Infinity (target never reached) */ }));
  try {
    await Promise.all(children.map(worker));
  } finally {
    for (const c of children) if (c.exitCode === null) c.kill();
  }
  return results;
}

function cellWorker(): void {
  process.on('message', async (msg: { cell?: Cell; exit?: boolean }) => {
    if (msg.exit) return process.disconnect();
    try {
      process.send!({ result: await runCell(msg.cell!) });
    } catch (e) {
      process.send!({ error: e instanceof Error ? e.message : String(e) });
    }
  });
}

// ── the report ────────────────────────────────────────────────────────────────────────────────

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
/** Standard error of the mean (0 for a single value). */
const stderr = (xs: number[]) => (xs.length < 2 ? 0 : Math.sqrt(xs.reduce((a, x) => a + (x - mean(xs)) ** 2, 0) / (xs.length - 1) / xs.length));
const hours = (s: number) => (Number.isFinite(s) ? (s / 3600).toFixed(2) : `> ${(WALL / 3600).toFixed(0)}`);
const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

function optunaVersion(python: string): string {
  return execFileSync(python, ['-c', 'import optuna; print(optuna.__version__)'], { encoding: 'utf8' }).trim();
}

async function main(): Promise<void> {
  const started = performance.now();
  const python = execFileSync(join(root, 'scripts', 'python-venv.sh'), ['bench', 'optuna==5.0.0', 'scipy', 'torch==2.13.0', 'psycopg2-binary'], { encoding: 'utf8' }).trim().split('\n').pop()!;
  const tpeUsed = samplerKind('tpe');
  const nsgaUsed = samplerKind('nsga2');
  const seeds = (n: number) => Array.from({ length: n }, (_, s) => s);

  const cells: Cell[] = [];
  for (const workers of WORKERS) {
    methods.forEach((_, method) => seeds(SEEDS).forEach((seed) => cells.push({ kind: 'ours', method, workers, seed })));
    if (PEER_WORKERS.includes(workers)) for (const pruner of ['sh', 'hyperband'] as const) seeds(SEEDS).forEach((seed) => cells.push({ kind: 'peer', pruner, workers, seed, python }));
    const moSeeds = workers >= 64 ? Math.min(SEEDS, MO_SEEDS_64) : SEEDS;
    for (const which of ['moasha', 'nsga2'] as const) seeds(moSeeds).forEach((seed) => cells.push({ kind: 'mo', which, workers, seed }));
  }
  console.log(`${cells.length} cells on ${JOBS} processes; best reachable accuracy ${best.toFixed(4)}, target ${target.toFixed(4)}`);
  const results = await runPool(cells);
  const runsOf = (pick: (c: Cell) => boolean) => cells.flatMap((c, i) => (pick(c) ? [results[i]] : []));

  const rows: (string | number)[][] = [];
  const summary = new Map<string, { ttt: number; regret: number; se: number; util: number; seeds: number; complete: number; good: number; goodStopped: number; train: number }>();
  const add = (label: string, workers: number, runs: Run[]) => {
    if (!runs.length) return;
    const ttt = median(runs.map((r) => r.timeToTarget));
    const regret = mean(runs.map((r) => r.regret));
    const se = stderr(runs.map((r) => r.regret));
    const util = mean(runs.map((r) => r.utilisation));
    const complete = mean(runs.map((r) => r.complete));
    summary.set(`${label}/${workers}`, { ttt, regret, se, util, seeds: runs.length, complete, good: mean(runs.map((r) => r.good ?? NaN)), goodStopped: mean(runs.map((r) => r.goodStopped ?? NaN)), train: median(runs.map((r) => r.targetTrainHours).filter((h) => Number.isFinite(h))) });
    rows.push([
      label,
      workers,
      hours(ttt),
      `${runs.filter((r) => Number.isFinite(r.timeToTarget)).length}/${runs.length}`,
      `${regret.toFixed(4)} ± ${se.toFixed(4)}`,
      (util * 100).toFixed(1),
      Math.round(mean(runs.map((r) => r.trials))),
      Math.round(mean(runs.map((r) => r.complete))),
      mean(runs.map((r) => r.seconds)).toFixed(2),
    ]);
  };
  for (const workers of WORKERS) {
    methods.forEach((m, method) => {
      const runs = runsOf((c) => c.kind === 'ours' && c.method === method && c.workers === workers).map((r) => (r as { run: Run }).run);
      add(m.sampler === 'tpe' && tpeUsed !== 'tpe' ? `${m.label} (random: no TPE yet)` : m.label, workers, runs);
    });
    for (const pruner of ['sh', 'hyperband'] as const) {
      const runs = runsOf((c) => c.kind === 'peer' && c.pruner === pruner && c.workers === workers).map((r) => (r as { run: Run }).run);
      add(pruner === 'sh' ? 'Optuna SuccessiveHalvingPruner + TPE' : 'Optuna HyperbandPruner + TPE', workers, runs);
    }
  }

  const moRows: (string | number)[][] = [];
  for (const workers of WORKERS) {
    const of = (which: string) => runsOf((c) => c.kind === 'mo' && c.which === which && c.workers === workers) as { hv: number; seconds: number }[];
    const a = of('moasha');
    const b = of('nsga2');
    moRows.push([workers, a.length, mean(a.map((x) => x.hv)).toFixed(3), mean(b.map((x) => x.hv)).toFixed(3), (mean(a.map((x) => x.hv)) / mean(b.map((x) => x.hv))).toFixed(3), mean(a.map((x) => x.seconds)).toFixed(1), mean(b.map((x) => x.seconds)).toFixed(1)]);
  }

  const g = (k: string) => summary.get(k);
  const notes: string[] = [];
  // Goal 1: ASHA's utilisation with 16 workers.
  const u16 = g('ASHA/16')!.util;
  notes.push(
    `Goal "ASHA utilisation ≥ 97% with 16 workers": **${u16 >= 0.97 ? 'met' : 'missed'}**, ${pct(u16)} (the simulator charges no time for decisions, so this measures workers left idle by the algorithm only). Synchronous SH beside it: ${pct(g('synchronous SH/16')!.util)} (a cohort of 16·27 trials waits at every rung barrier for its slowest member; with 1/4/64 workers ${[1, 4, 64].map((w) => pct(g(`synchronous SH/${w}`)!.util)).join(' / ')}).`,
  );
  // Goal 2: ASHA's time to target against random search at full budget.
  const ratios = WORKERS.map((w) => {
    const a = g(`ASHA/${w}`)!.ttt;
    const r = g(`random, full budget/${w}`)!.ttt;
    let verdict: 'met' | 'missed' | 'undecided';
    let text: string;
    if (!Number.isFinite(a)) {
      verdict = Number.isFinite(r) ? 'missed' : 'undecided';
      text = Number.isFinite(r) ? `ASHA did not reach the target in ${hours(WALL)} h, random did in ${hours(r)} h` : `neither reached the target within ${WALL / 3600} h`;
    } else if (Number.isFinite(r)) {
      verdict = a / r <= 1 / 3 ? 'met' : 'missed';
      text = `ASHA ${hours(a)} h vs random ${hours(r)} h, ratio ${(a / r).toFixed(2)}`;
    } else {
      // Random never got there: the ratio is below a / WALL, which settles it only if that is ≤ 1/3.
      verdict = a / WALL <= 1 / 3 ? 'met' : 'undecided';
      text = `ASHA ${hours(a)} h vs random not within ${WALL / 3600} h, ratio < ${(a / WALL).toFixed(2)}`;
    }
    return { w, verdict, text };
  });
  const decided = ratios.filter((r) => r.verdict !== 'undecided');
  const overall2 = decided.length === 0 ? 'undecided' : decided.every((r) => r.verdict === 'met') ? 'met' : decided.every((r) => r.verdict === 'missed') ? 'missed' : 'met in part';
  notes.push(
    `Goal "ASHA time to target ≤ 1/3 of random full-budget search": **${overall2}** (median over seeds): ${ratios.map((r) => `${r.w} workers ${r.verdict} (${r.text})`).join('; ')}.`,
  );
  // What the time to target is made of: finding a configuration that reaches the target, then
  // training it for 27 epochs, which no scheduler shortens (the best configurations are the big,
  // slow ones). And whether ASHA stopped such configurations early (the simulator's curves cross).
  const trainText = (label: string, w: number) => {
    const x = g(`${label}/${w}`)!.train;
    return Number.isFinite(x) ? `${x.toFixed(2)} h` : 'n/a';
  };
  notes.push(
    `Behind the time to target (per worker count 1/4/16/64): the configuration that first put ASHA's incumbent on target trained for ${WORKERS.map((w) => trainText('ASHA', w)).join(' / ')} of it (median over seeds that reached it; random search: ${WORKERS.map((w) => trainText('random, full budget', w)).join(' / ')}). ASHA sampled ${WORKERS.map((w) => g(`ASHA/${w}`)!.good.toFixed(1)).join(' / ')} configurations per run that reach the target at 27 epochs and stopped ${WORKERS.map((w) => g(`ASHA/${w}`)!.goodStopped.toFixed(1)).join(' / ')} of them at a rung; random search sampled ${WORKERS.map((w) => g(`random, full budget/${w}`)!.good.toFixed(1)).join(' / ')}.`,
  );
  // Goal 3: BOHB's final regret against Optuna's Hyperband with TPE.
  const cmp = WORKERS.flatMap((w) => {
    const o = g(`Optuna HyperbandPruner + TPE/${w}`);
    const b = g(`BOHB/${w}`)!;
    return o ? [{ w, b: b.regret, bse: b.se, o: o.regret, ose: o.se }] : [];
  });
  const met3 = cmp.filter((c) => c.b <= c.o).length;
  notes.push(
    `Goal "BOHB final regret ≤ Optuna HyperbandPruner + TPE": **${met3 === cmp.length ? 'met' : met3 === 0 ? 'missed' : `met at ${met3} of ${cmp.length} worker counts`}** (mean over seeds): ${cmp.map((c) => `${c.w} workers ${c.b.toFixed(4)} ± ${c.bse.toFixed(4)} vs ${c.o.toFixed(4)} ± ${c.ose.toFixed(4)} (${c.b <= c.o ? 'met' : 'missed'})`).join('; ')}.`,
  );
  if (met3 < cmp.length) {
    notes.push(
      `Where BOHB misses: it completes ${cmp.filter((c) => c.b > c.o).map((c) => `${g(`BOHB/${c.w}`)!.complete.toFixed(0)} trials with ${c.w} workers`).join(', ')} (mean per run). BOHB's full-budget model takes min_points = d + 1 = 7 "good" points however few observations there are, so with a few dozen it barely separates good from bad; Optuna's TPE also learns from pruned trials (ordered by the step they reached) and so has more to go on when trials are few.`,
    );
  }
  if (tpeUsed !== 'tpe') notes.push('@segtune/samplers had no `tpe` sampler when this ran: the "TPE, full budget" row is random search.');
  if (nsgaUsed !== 'nsga2') notes.push('@segtune/samplers had no `nsga2` sampler when this ran: the "NSGA-II" column is random search at full budget.');
  notes.push(
    `Problem: libs/benchmarks simulator (6 params: width, depth, lr, batch_size, dropout, weight_decay), budget 1–27 epochs, η = ${ETA}, noise sd 0.01, about 20 simulated seconds per epoch for a mid-size model; best reachable accuracy ${best.toFixed(4)}, target = within 1% (≥ ${target.toFixed(4)}). Wall budget ${WALL / 3600} simulated hours; ${SEEDS} seeds per cell (median time to target, mean regret and utilisation); "reached" counts the seeds that got to the target. The incumbent is the complete trial with the best observed (noisy) accuracy; time to target and regret use its noise-free accuracy at 27 epochs.`,
  );
  notes.push(
    `Peers: Optuna runs the same discrete-event loop in Python (bench/peers/schedulers_peer.py) and gets every configuration's curve and cost from this process over stdin/stdout, so both sides see identical curves; Optuna's TPE is its default (multivariate in Optuna 5). Peers ran with ${PEER_WORKERS.join(', ')} workers${PEER_WORKERS.includes(64) ? '' : ': not 64, where Optuna\'s TPE (O(N) per ask) over ~11,000 SH trials would take most of an hour per run (SCHED_BENCH_PEER_WORKERS=1,4,16,64 to include it)'}.`,
  );
  notes.push(
    `"s/run" is real seconds per simulated run, with ${JOBS} runs at a time on a shared machine (Optuna's include its TPE and the pipe). Whole benchmark: ${((performance.now() - started) / 60000).toFixed(1)} minutes.`,
  );

  const tables: Table[] = [
    {
      title: `Single objective: accuracy after ${WALL / 3600} simulated hours`,
      columns: ['method', 'workers', 'time to target (h, median)', 'reached', 'final regret (mean ± s.e.)', 'utilisation %', 'trials', 'complete', 's/run'],
      rows,
    },
    {
      title: `Two objectives (accuracy, latency_ms) after ${MO_WALL / 3600} simulated hours: hypervolume of complete trials' noise-free (error, latency) points (reference error 0.5, latency 40 ms; mean over seeds)`,
      columns: ['workers', 'seeds', 'MO-ASHA (random sampler)', `${nsgaUsed === 'nsga2' ? 'NSGA-II' : 'random (no NSGA-II yet)'}, full budget`, 'ratio', 'MO-ASHA s/run', 'NSGA-II s/run'],
      rows: moRows,
    },
  ];
  const file = writeReport({ name: 'schedulers', command: 'npm run bench:schedulers', peers: { optuna: optunaVersion(python) }, tables, notes });
  console.log(`wrote ${file}`);
}

/**
 * `npm run bench:schedulers -- --promotion`: promotion-mode ASHA and Hyperband (pausing trials
 * and resuming their checkpoints) against stopping mode, through the same factory as the CLI.
 */
async function promotion(): Promise<void> {
  const variants = [
    { label: 'ASHA, stopping', scheduler: { kind: 'asha', reduction_factor: ETA } },
    { label: 'ASHA, promotion', scheduler: { kind: 'asha', reduction_factor: ETA, mode: 'promotion' } },
    { label: 'Hyperband, stopping', scheduler: { kind: 'hyperband', reduction_factor: ETA } },
    { label: 'Hyperband, promotion', scheduler: { kind: 'hyperband', reduction_factor: ETA, mode: 'promotion' } },
    // Population-based training: a population per worker count, perturbing lr, dropout, weight decay.
    { label: 'PBT', scheduler: { kind: 'pbt', population_size: 16 } },
    // PB2: PBT's exploit, the new params chosen by a GP's upper confidence bound on the improvement.
    { label: 'PB2', scheduler: { kind: 'pb2', population_size: 16 } },
  ];
  const rows: (string | number)[][] = [];
  for (const workers of [4, 16]) {
    for (const v of variants) {
      const runs: (Run & { resumed: number })[] = [];
      for (let seed = 0; seed < SEEDS; seed++) {
        const { scheduler, sampler: s } = strategies(v.scheduler, 'random', problem);
        const t0 = performance.now();
        const r = await simulate({ problem, sampler: s, scheduler, workers, wallSeconds: WALL, seed });
        const comps = r.completions.map((c) => ({ time: c.time, start: c.trial.startedAt ?? 0, value: c.trial.values![0], truth: problem.trueValues(c.trial.params)[0] }));
        const resumed = r.trials.filter((t) => t.attrs.resumed_from_step !== undefined).length;
        if ((v.scheduler.kind === 'pbt' || v.scheduler.kind === 'pb2') && r.trials.some((t) => t.attrs.resumed_from_step !== undefined && t.attrs.pbt_parent === undefined)) throw new Error('PBT resumed a trial without a parent');
        runs.push({ ...score(comps, r.busySeconds, workers, r.trials.length, (performance.now() - t0) / 1000), resumed });
      }
      rows.push([
        v.label,
        workers,
        hours(median(runs.map((r) => r.timeToTarget))),
        `${runs.filter((r) => Number.isFinite(r.timeToTarget)).length}/${runs.length}`,
        mean(runs.map((r) => r.regret)).toFixed(4),
        (mean(runs.map((r) => r.utilisation)) * 100).toFixed(1),
        Math.round(mean(runs.map((r) => r.trials))),
        Math.round(mean(runs.map((r) => r.resumed))),
        Math.round(mean(runs.map((r) => r.complete))),
      ]);
      console.log(`${v.label}, ${workers} workers done`);
    }
  }
  const file = writeReport({
    name: 'schedulers-promotion',
    command: 'npm run bench:schedulers -- --promotion',
    tables: [
      {
        title: `Checkpointing schedulers (promotion-mode ASHA and Hyperband, PBT, PB2) against stopping mode: ${WALL / 3600} simulated hours, η = ${ETA}, random sampler, ${SEEDS} seeds`,
        columns: ['scheduler', 'workers', 'time to target (h, median)', 'reached', 'final regret (mean)', 'utilisation %', 'trials', 'resumed trials', 'complete'],
        rows,
      },
    ],
    notes: [
      'Sampler and scheduler come from createStrategies, the factory `segtune search` and `segtune worker` use; a resumed trial is one the scheduler answered `ask` with (a paused configuration promoted to its next rung), which continues after its checkpoint\'s step (simulated by the simulator driver: no epoch is trained twice).',
      `Problem and target as in schedulers.md: best reachable accuracy ${best.toFixed(4)}, target within 1%.`,
      'PBT (population 16, interval ⌈27/8⌉ = 4 epochs, bottom/top quarter, lr, dropout and weight decay perturbed by ×0.8/×1.2 or resampled with chance 0.25): a replacement continues its parent at the parent\'s step with the perturbed params. The simulator has no memory of the path a trial took, so a replacement\'s curve is that of its new params from the start: this favours PBT over real training, where weights trained with other hyperparameters carry over imperfectly.',
      'PB2 (the same population, interval and quantiles; the float params chosen by the upper confidence bound of a GP fitted to the last 64 intervals\' improvements, against time and params): the explore step is the only difference from the PBT row.',
    ],
  });
  console.log(`wrote ${file}`);
}

if (process.argv.includes('--cell-worker')) cellWorker();
else if (process.argv.includes('--promotion')) await promotion();
else await main();
