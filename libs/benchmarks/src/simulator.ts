import { checkpointDirAt, isPruned, Rng, type MetricValues, type Workload, type WorkloadContext, type Objective, type Sampler, type Scheduler, type SchedulerContext, type Suggestion, type Trial } from '@segtune/core';
import { Space, type Budget, type ParamSpec, type Params } from '@segtune/space';
import { sleep } from './functions-workload';

// A learning-curve simulator with a virtual clock. Configurations of a U-Net-like model map
// deterministically to saturating, noisy accuracy curves and to a cost per epoch, so schedulers
// and samplers can be compared in seconds with any number of simulated workers.

export type CurveFamily = 'exp' | 'power';

/** The simulator's search space: the params its curves read (others are ignored). */
export const SIMULATOR_PARAMS: Record<string, ParamSpec> = {
  width: { type: 'int', low: 8, high: 128, log: true },
  depth: { type: 'int', low: 2, high: 6 },
  lr: { type: 'float', low: 1e-4, high: 1, log: true },
  batch_size: { type: 'categorical', choices: [8, 16, 32, 64, 128] },
  dropout: { type: 'float', low: 0, high: 0.5 },
  weight_decay: { type: 'float', low: 1e-6, high: 1e-1, log: true },
};

/** Values used for params a space leaves out. */
export const SIMULATOR_DEFAULTS = { width: 32, depth: 4, lr: 0.01, batch_size: 32, dropout: 0.1, weight_decay: 1e-4 } as const;

export const SIMULATOR_BUDGET: Budget = { name: 'epochs', min: 1, max: 27 };

const INITIAL_ACCURACY = 0.1;

interface Shape {
  /** Accuracy the curve saturates at. */
  asymptote: number;
  /** Epochs scale of convergence. */
  tau: number;
  /** Simulated seconds per epoch. */
  cost: number;
  /** Inference latency (ms), the second objective of the multi-objective variant. */
  latency: number;
}

function num(params: Params, name: keyof typeof SIMULATOR_DEFAULTS): number {
  const v = params[name] ?? (params as Record<string, unknown>)[name === 'lr' ? 'learning_rate' : name];
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
  return Number.isFinite(n) ? n : SIMULATOR_DEFAULTS[name];
}

/**
 * The noise-free shape of a configuration's curve:
 *  - capacity c = ½·log2(width/8)/4 + ½·(depth−2)/4, in [0, 1];
 *  - best learning rate lr* = 0.02·√(batch/32); u = log10(lr/lr*);
 *  - best weight decay wd* = 3·10⁻⁴·(1+c); v = log10(weight_decay/wd*);
 *  - asymptote A = 0.70 + 0.22·(1−e^(−5c))/(1−e^(−5)) − 0.08·u² − 0.02·v² − (dropout − 0.3c)², within [0.1, 0.97];
 *  - convergence scale τ = 0.5·10^(−u/6)·(batch/32)^0.2·(1+0.5c) epochs, within [0.1, 60]
 *    (bigger models and smaller learning rates converge later: curves cross, as real ones do);
 *  - cost per epoch 20·(width/32)^1.2·1.35^(depth−4)·(32/batch)^0.15 s; latency 2·(width/32)^1.5·1.5^(depth−4) ms.
 */
export function curveShape(params: Params): Shape {
  const width = num(params, 'width');
  const depth = num(params, 'depth');
  const lr = Math.max(1e-12, num(params, 'lr'));
  const batch = Math.max(1, num(params, 'batch_size'));
  const dropout = num(params, 'dropout');
  const wd = Math.max(1e-12, num(params, 'weight_decay'));
  const c = Math.min(1, Math.max(0, (0.5 * Math.log2(Math.max(1, width / 8))) / 4 + (0.5 * (depth - 2)) / 4));
  const u = Math.log10(lr / (0.02 * Math.sqrt(batch / 32)));
  const v = Math.log10(wd / (3e-4 * (1 + c)));
  const raw = 0.7 + (0.22 * (1 - Math.exp(-5 * c))) / (1 - Math.exp(-5)) - 0.08 * u * u - 0.02 * v * v - (dropout - 0.3 * c) ** 2;
  const asymptote = Math.min(0.97, Math.max(0.1, raw));
  const tau = Math.min(60, Math.max(0.1, 0.5 * 10 ** (-u / 6) * (batch / 32) ** 0.2 * (1 + 0.5 * c)));
  const cost = 20 * (width / 32) ** 1.2 * 1.35 ** (depth - 4) * (32 / batch) ** 0.15;
  const latency = 2 * (width / 32) ** 1.5 * 1.5 ** (depth - 4);
  return { asymptote, tau, cost, latency };
}

/** Noise-free accuracy after `step` epochs. */
export function trueAccuracy(params: Params, step: number, curve: CurveFamily = 'exp'): number {
  const { asymptote, tau } = curveShape(params);
  const decay = curve === 'power' ? (1 + step / tau) ** -1.5 : Math.exp(-step / tau);
  return asymptote - (asymptote - INITIAL_ACCURACY) * decay;
}

/** A stable text for params (sorted keys), so noise depends on the values, not on key order. */
export function simulatorConfigKey(params: Params): string {
  return Object.keys(params)
    .sort()
    .map((k) => `${k}=${String(params[k])}`)
    .join('&');
}

export interface SimulatorProblemOptions {
  /** Two objectives (accuracy, latency_ms) instead of one (accuracy). */
  multiObjective?: boolean;
  /** Standard deviation of the Gaussian noise on reported accuracy. Default 0.01. */
  noise?: number;
  /** Seeds the noise; a configuration's noisy curve is fixed for a seed. Default 0. */
  seed?: number;
  curve?: CurveFamily;
  budget?: Budget;
}

export interface SimulatorProblem {
  space: Space;
  objectives: Objective[];
  budget: Budget;
  curve: CurveFamily;
  /** What a trial reports after `step` epochs: accuracy, error, latency_ms (noisy, deterministic). */
  metrics(params: Params, step: number): MetricValues;
  /** Simulated seconds one epoch takes. */
  stepCost(params: Params): number;
  /** Noise-free objective values at the full budget, in objective order. */
  trueValues(params: Params): number[];
}

export function simulatorProblem(options: SimulatorProblemOptions = {}): SimulatorProblem {
  const noise = options.noise ?? 0.01;
  const seed = options.seed ?? 0;
  const curve = options.curve ?? 'exp';
  const budget = options.budget ?? SIMULATOR_BUDGET;
  const objectives: Objective[] = options.multiObjective
    ? [
        { name: 'accuracy', direction: 'maximize' },
        { name: 'latency_ms', direction: 'minimize' },
      ]
    : [{ name: 'accuracy', direction: 'maximize' }];
  return {
    space: simulatorSpace(),
    objectives,
    budget,
    curve,
    metrics: (params, step) => simulatorMetrics(params, step, { noise, seed, curve }),
    stepCost: (params) => curveShape(params).cost,
    trueValues: (params) => {
      const acc = trueAccuracy(params, budget.max, curve);
      return options.multiObjective ? [acc, curveShape(params).latency] : [acc];
    },
  };
}

/** Noisy metrics after `step` epochs, a pure function of (params, step, seed). */
export function simulatorMetrics(params: Params, step: number, o: { noise?: number; seed?: number; curve?: CurveFamily } = {}): MetricValues {
  const rng = new Rng(`${o.seed ?? 0}/simulator/${simulatorConfigKey(params)}/${step}`);
  const accuracy = Math.min(1, Math.max(0, trueAccuracy(params, step, o.curve) + (o.noise ?? 0.01) * rng.normal()));
  const latency = curveShape(params).latency * (1 + 0.01 * rng.normal());
  return { accuracy, error: 1 - accuracy, latency_ms: latency };
}

export function simulatorSpace(params: Record<string, ParamSpec> = SIMULATOR_PARAMS): Space {
  return new Space(Object.entries(params).map(([name, p]) => ({ ...p, name })));
}

let bestCache: Map<string, number> | undefined;

/**
 * The best noise-free accuracy any configuration of SIMULATOR_PARAMS reaches at `max` epochs:
 * every width, depth and batch size, the dropout and weight decay that maximise the asymptote
 * (0.3c and 3·10⁻⁴(1+c), inside their ranges), and the learning rate on a fine log grid refined
 * by golden search.
 */
export function bestReachableAccuracy(max: number = SIMULATOR_BUDGET.max, curve: CurveFamily = 'exp'): number {
  bestCache ??= new Map();
  const key = `${max}/${curve}`;
  const hit = bestCache.get(key);
  if (hit !== undefined) return hit;
  let best = -Infinity;
  const choices = (SIMULATOR_PARAMS.batch_size as { choices: number[] }).choices;
  for (let width = 8; width <= 128; width++) {
    for (let depth = 2; depth <= 6; depth++) {
      const c = Math.min(1, (0.5 * Math.log2(width / 8)) / 4 + (0.5 * (depth - 2)) / 4);
      for (const batch_size of choices) {
        const at = (logLr: number) => trueAccuracy({ width, depth, batch_size, dropout: 0.3 * c, weight_decay: 3e-4 * (1 + c), lr: 10 ** logLr }, max, curve);
        let bestLog = -4;
        let bestV = -Infinity;
        for (let i = 0; i <= 80; i++) {
          const l = -4 + (4 * i) / 80;
          const v = at(l);
          if (v > bestV) [bestV, bestLog] = [v, l];
        }
        let lo = Math.max(-4, bestLog - 0.05);
        let hi = Math.min(0, bestLog + 0.05);
        for (let i = 0; i < 40; i++) {
          const m1 = lo + (hi - lo) * 0.382;
          const m2 = lo + (hi - lo) * 0.618;
          if (at(m1) < at(m2)) lo = m1;
          else hi = m2;
        }
        best = Math.max(best, bestV, at((lo + hi) / 2));
      }
    }
  }
  bestCache.set(key, best);
  return best;
}

export interface SimulateOptions {
  problem: SimulatorProblem;
  sampler: Sampler;
  scheduler?: Scheduler;
  workers: number;
  /** Simulated wall-clock budget (seconds); nothing runs after it. */
  wallSeconds: number;
  /** Seeds the samplers' generators and the failure draws. Default 0. */
  seed?: number;
  maxTrials?: number;
  /** Fault injection: each trial fails at a random step, or hangs (stops reporting), with these chances. */
  failures?: { failProbability?: number; hangProbability?: number; staleSeconds?: number };
}

export interface SimulationResult {
  trials: Trial[];
  /** Complete trials in the (virtual) order they finished. */
  completions: { time: number; trial: Trial }[];
  /** Worker-seconds spent training, within the wall budget. */
  busySeconds: number;
  wallSeconds: number;
  workers: number;
  /** busySeconds / (workers · wallSeconds). */
  utilisation: number;
  stepsRun: number;
}

interface Job {
  trial: Trial;
  step: number;
  /** Step at which the trial fails or hangs, when fault injection picked it. */
  failAt?: number;
  hangAt?: number;
}

interface Event {
  time: number;
  seq: number;
  job: Job;
  kind: 'step' | 'stale';
  /** Seconds of this event's work that count as busy. */
  busy: number;
}

/**
 * A discrete-event run of a sampler and a scheduler with N simulated workers against the
 * scheduler and sampler contracts directly: trials are Trial records held here (what a storage
 * would return), every decision sees the whole history with running trials' reports, a free
 * worker takes a released (promoted) trial first, then a new one. Deterministic for a seed.
 */
export async function simulate(options: SimulateOptions): Promise<SimulationResult> {
  const { problem, sampler, workers, wallSeconds } = options;
  const scheduler = options.scheduler;
  const seed = options.seed ?? 0;
  const max = Math.floor(problem.budget.max);
  const firstStep = 1;
  const faultRng = new Rng(`${seed}/simulator/faults`);
  const staleSeconds = options.failures?.staleSeconds ?? 600;
  const trials: Trial[] = [];
  const completions: SimulationResult['completions'] = [];
  const heap: Event[] = [];
  const held = new Set<Job>();
  const ready: Job[] = [];
  let now = 0;
  let free = workers;
  let seq = 0;
  let change = 0;
  let busySeconds = 0;
  let stepsRun = 0;

  const push = (e: Omit<Event, 'seq'>) => heapPush(heap, { ...e, seq: seq++ });
  const schedule = (job: Job) => {
    const cost = problem.stepCost(job.trial.params);
    if (job.hangAt !== undefined && job.step >= job.hangAt) {
      // Hung: holds its worker, reports nothing, until a stale sweep fails it.
      push({ time: now + staleSeconds, job, kind: 'stale', busy: 0 });
      return;
    }
    push({ time: now + cost, job, kind: 'step', busy: cost });
  };
  const finish = (t: Trial, state: 'complete' | 'pruned' | 'failed', attrs: Trial['attrs'] = {}) => {
    t.state = state;
    t.finishedAt = now;
    t.attrs = { ...t.attrs, ...attrs };
    t.seq = ++change;
  };
  const ctxFor = (job: Job, step: number): SchedulerContext => ({
    trial: job.trial,
    step,
    values: job.trial.intermediate[step] ?? {},
    history: trials,
    objectives: problem.objectives,
    budget: problem.budget,
  });

  const startNew = async (): Promise<Job | undefined> => {
    const number = trials.length;
    if (options.maxTrials !== undefined && number >= options.maxTrials) return undefined;
    if (scheduler?.canStart && !scheduler.canStart(number, trials)) return undefined;
    const running = trials.filter((t) => t.state === 'running');
    const history = trials.filter((t) => t.state !== 'running' && t.state !== 'waiting');
    const ctx = {
      space: problem.space,
      objectives: problem.objectives,
      constraints: [],
      history,
      running,
      rng: Rng.derive(seed, 'sample', number),
      trialNumber: number,
      budget: problem.budget,
      seed,
    };
    // As Study.ask: a scheduler that resumes a paused configuration answers before the sampler.
    const suggestion: Suggestion = (await scheduler?.suggest?.(ctx)) ?? { params: await sampler.suggest(ctx) };
    const params = problem.space.ordered(suggestion.params);
    const trial: Trial = { id: number + 1, studyId: 1, number, state: 'running', params, intermediate: {}, attrs: {}, createdAt: now, startedAt: now, seq: ++change };
    const { resume } = suggestion;
    const bracket = scheduler?.bracketFor?.(resume?.rootTrialNumber ?? number);
    if (bracket !== undefined) trial.attrs.bracket = bracket;
    if (resume) Object.assign(trial.attrs, { resumed_from_trial: resume.trialNumber, resumed_from_step: resume.step, config_root: resume.rootTrialNumber }, resume.transfer ? { resume_transfer: true } : {});
    Object.assign(trial.attrs, suggestion.attrs);
    trials.push(trial);
    // A resumed configuration continues after its checkpoint's step.
    const step = resume ? resume.step + 1 : firstStep;
    const job: Job = { trial, step };
    const f = options.failures;
    if (f?.failProbability && faultRng.random() < f.failProbability) job.failAt = step + faultRng.int(Math.max(1, max - step + 1));
    else if (f?.hangProbability && faultRng.random() < f.hangProbability) job.hangAt = step + faultRng.int(Math.max(1, max - step + 1));
    return job;
  };

  const fill = async () => {
    while (free > 0 && now < wallSeconds) {
      const job = ready.shift() ?? (await startNew());
      if (!job) return;
      free--;
      schedule(job);
    }
  };

  const release = () => {
    if (!scheduler?.hold) return;
    for (const job of [...held]) {
      const last = job.step - 1;
      const ctx = ctxFor(job, last);
      if (scheduler.hold(ctx)) continue;
      held.delete(job);
      if (scheduler.decide(ctx) === 'stop') finish(job.trial, 'pruned');
      else ready.push(job);
    }
  };

  await fill();
  while (heap.length) {
    const e = heapPop(heap);
    if (e.time > wallSeconds) {
      // Work still under way at the end of the budget counts up to the end.
      busySeconds += Math.max(0, e.busy - (e.time - wallSeconds));
      continue;
    }
    now = e.time;
    busySeconds += e.busy;
    const job = e.job;
    const t = job.trial;
    if (e.kind === 'stale') {
      finish(t, 'failed', { reason: 'stale', error: 'no report or heartbeat' });
      free++;
    } else if (job.failAt !== undefined && job.step >= job.failAt) {
      stepsRun++;
      finish(t, 'failed', { reason: 'error', error: 'simulated failure' });
      free++;
    } else {
      stepsRun++;
      const step = job.step;
      const values = problem.metrics(t.params, step);
      t.intermediate = { ...t.intermediate, [step]: values };
      t.seq = ++change;
      job.step = step + 1;
      if (step >= max) {
        finish(t, 'complete');
        t.values = problem.objectives.map((o) => values[o.name]);
        t.metrics = values;
        completions.push({ time: now, trial: t });
        free++;
      } else if (scheduler) {
        const ctx = ctxFor(job, step);
        if (scheduler.hold?.(ctx)) {
          held.add(job);
          free++;
          // A trial parked at an undecided rung cannot complete a rung: nothing to release.
          await fill();
          continue;
        } else if (scheduler.decide(ctx) === 'stop') {
          finish(t, 'pruned');
          free++;
        } else schedule(job);
      } else schedule(job);
    }
    release();
    await fill();
  }
  return { trials, completions, busySeconds, wallSeconds, workers, utilisation: busySeconds / (workers * wallSeconds), stepsRun };
}

function heapPush(h: Event[], e: Event): void {
  h.push(e);
  let i = h.length - 1;
  while (i > 0) {
    const p = (i - 1) >> 1;
    if (less(h[p], h[i])) break;
    [h[p], h[i]] = [h[i], h[p]];
    i = p;
  }
}

function heapPop(h: Event[]): Event {
  const top = h[0];
  const last = h.pop()!;
  if (h.length) {
    h[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && less(h[l], h[m])) m = l;
      if (r < h.length && less(h[r], h[m])) m = r;
      if (m === i) break;
      [h[m], h[i]] = [h[i], h[m]];
      i = m;
    }
  }
  return top;
}

function less(a: Event, b: Event): boolean {
  return a.time < b.time || (a.time === b.time && a.seq < b.seq);
}

export interface SimulatorWorkloadSpec {
  kind: 'simulator';
  /** Curve family: `exp` (default) or `power`. */
  curve?: string;
  /** Standard deviation of the noise on reported accuracy; 0.01 by default. */
  noise?: number;
  /** Real seconds each epoch sleeps; 0 by default. */
  step_seconds?: number;
}

/**
 * `workload: { kind: simulator }`: trains nothing, reports the simulated curve of its params
 * (width, depth, lr, batch_size, dropout; defaults for missing ones) at every epoch of the budget
 * (27 epochs without one) as { accuracy, error, latency_ms }, sleeping `step_seconds` real seconds
 * per epoch. With `ctx.artifactDir`, a trial that is stopped keeps a checkpoint (the last epoch
 * reported) in `<artifactDir>/state.json`; a trial the scheduler resumes (`ctx.resumeFrom`, in
 * promotion mode) loads the paused trial's checkpoint and goes on after its epoch. At the steps
 * in `ctx.checkpointSteps` (PBT's intervals) it keeps the state in `<artifactDir>/step-<n>`, and
 * a resumed trial reads the one at its step first.
 */
export function simulatorWorkload(spec: SimulatorWorkloadSpec): Workload {
  const curve = spec.curve ?? 'exp';
  if (curve !== 'exp' && curve !== 'power') throw new Error(`simulator workload: curve must be exp or power, got "${curve}"`);
  const noise = spec.noise ?? 0.01;
  const stepSeconds = spec.step_seconds ?? 0;
  return async (params: Params, ctx: WorkloadContext): Promise<MetricValues> => {
    const max = Math.max(1, Math.floor(ctx.budget?.max ?? SIMULATOR_BUDGET.max));
    const { join } = await import('node:path');
    const checkpoint = ctx.artifactDir ? join(ctx.artifactDir, 'state.json') : undefined;
    let step = 1;
    if (ctx.resumeFrom?.artifactDir) {
      // The state kept at the step resumed at (population-based training's interval steps), else the latest.
      const kept = await readCheckpoint(join(checkpointDirAt(ctx.resumeFrom.artifactDir, ctx.resumeFrom.step), 'state.json'));
      const saved = kept ?? (await readCheckpoint(join(ctx.resumeFrom.artifactDir, 'state.json')));
      if (saved !== undefined && saved < max) step = saved + 1;
      // No checkpoint where the scheduler said: say so, and train from the start.
      else if (saved === undefined) ctx.setAttrs({ resumed_from_step: 0, resume_error: `no checkpoint in ${ctx.resumeFrom.artifactDir}` });
    }
    let last: MetricValues = simulatorMetrics(params, step, { noise, curve });
    for (; step <= max; step++) {
      if (ctx.signal.aborted) throw ctx.signal.reason ?? new Error('aborted');
      await sleep(stepSeconds, ctx.signal);
      last = simulatorMetrics(params, step, { noise, curve });
      if (ctx.artifactDir && ctx.checkpointSteps?.includes(step)) await writeCheckpoint(join(checkpointDirAt(ctx.artifactDir, step), 'state.json'), step);
      try {
        await ctx.report(step, last);
      } catch (e) {
        if (checkpoint && isPruned(e)) await writeCheckpoint(checkpoint, step);
        throw e;
      }
    }
    return last;
  };
}

async function readCheckpoint(file: string): Promise<number | undefined> {
  const { readFile } = await import('node:fs/promises');
  try {
    const step = (JSON.parse(await readFile(file, 'utf8')) as { step?: unknown }).step;
    return typeof step === 'number' && Number.isInteger(step) && step >= 1 ? step : undefined;
  } catch {
    return undefined;
  }
}

async function writeCheckpoint(file: string, step: number): Promise<void> {
  const { mkdir, writeFile, rename } = await import('node:fs/promises');
  const { dirname } = await import('node:path');
  await mkdir(dirname(file), { recursive: true });
  // Write then rename, so a reader never sees half a file.
  await writeFile(`${file}.tmp`, JSON.stringify({ step }));
  await rename(`${file}.tmp`, file);
}
