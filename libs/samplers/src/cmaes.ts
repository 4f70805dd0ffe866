import { EigenvalueDecomposition, Matrix } from 'ml-matrix';
import { Rng, UserError, type Sampler, type SamplerContext } from '@segtune/core';
import type { Params } from '@segtune/space';
import { observe, observePrior, type Observation } from './observations';
import { cellOf, dimInfo, snap, type DimInfo } from './parzen';
import { normCdf } from './normal';

export interface CmaEsOptions {
  /** Initial step size in the unit cube (Optuna: a sixth of the narrowest range). */
  sigma0: number;
  /** Population size λ; default 4 + ⌊3 ln d⌋. */
  popsize?: number;
  /** `ipop`: restart with a doubled population from a random mean when the run stalls. */
  restartStrategy: 'ipop' | 'none';
  /** Population growth factor per IPOP restart. */
  incPopsize: number;
  /** Keep integer and stepped params exploring (CMA-ES with margin); false treats them as continuous, rounded. */
  withMargin: boolean;
  /** Trials drawn at random before the first generation. */
  nStartupTrials: number;
  /** Warm start (WS-CMA-ES): the fraction of the prior's best trials the initial distribution fits, and the spread added to it. */
  warmStartGamma: number;
  warmStartAlpha: number;
}

export const CMAES_DEFAULTS: CmaEsOptions = { sigma0: 1 / 6, restartStrategy: 'ipop', incPopsize: 2, withMargin: true, nStartupTrials: 0, warmStartGamma: 0.1, warmStartAlpha: 0.1 };

/** Tolerances of the stop tests that trigger a restart (those of the `cmaes` package Optuna uses). */
const TOL_X = 1e-12;
const TOL_FUN = 1e-12;
const MAX_CONDITION = 1e14;
/** Resampling attempts for a point inside the unit cube before it is clipped. */
const MAX_RESAMPLING = 100;

/** The distribution and evolution paths of one CMA-ES run (one restart). */
interface CmaState {
  d: number;
  lambda: number;
  mu: number;
  weights: Float64Array;
  muEff: number;
  cSigma: number;
  dSigma: number;
  cc: number;
  c1: number;
  cMu: number;
  chiN: number;
  mean: Float64Array;
  sigma: number;
  /** Covariance, row-major d × d, and its eigenbasis B (columns) and sqrt eigenvalues D. */
  C: Float64Array;
  B: Float64Array;
  D: Float64Array;
  pSigma: Float64Array;
  pc: Float64Array;
  /** Per-dimension margin scaling of the sampling distribution (1 for continuous dims). */
  A: Float64Array;
  generation: number;
  /** The study's seed (restart means derive from it). */
  seed: number;
  /** Best loss of each generation, for the flat-fitness stop test. */
  bests: number[];
  restarts: number;
}

function newState(d: number, lambda: number, mean: Float64Array, sigma: number, restarts: number, seed: number): CmaState {
  const mu = Math.floor(lambda / 2);
  const raw = Float64Array.from({ length: mu }, (_, i) => Math.log((lambda + 1) / 2) - Math.log(i + 1));
  const sum = raw.reduce((a, b) => a + b, 0);
  const weights = raw.map((w) => w / sum);
  const muEff = 1 / weights.reduce((a, w) => a + w * w, 0);
  const cSigma = (muEff + 2) / (d + muEff + 5);
  const c1 = 2 / ((d + 1.3) ** 2 + muEff);
  const C = new Float64Array(d * d);
  const B = new Float64Array(d * d);
  for (let i = 0; i < d; i++) C[i * d + i] = B[i * d + i] = 1;
  return {
    d,
    lambda,
    mu,
    weights,
    muEff,
    cSigma,
    dSigma: 1 + 2 * Math.max(0, Math.sqrt((muEff - 1) / (d + 1)) - 1) + cSigma,
    cc: (4 + muEff / d) / (d + 4 + (2 * muEff) / d),
    c1,
    cMu: Math.min(1 - c1, (2 * (muEff - 2 + 1 / muEff)) / ((d + 2) ** 2 + muEff)),
    chiN: Math.sqrt(d) * (1 - 1 / (4 * d) + 1 / (21 * d * d)),
    mean,
    sigma,
    C,
    B,
    D: new Float64Array(d).fill(1),
    pSigma: new Float64Array(d),
    pc: new Float64Array(d),
    A: new Float64Array(d).fill(1),
    generation: 0,
    seed,
    bests: [],
    restarts,
  };
}

/**
 * CMA-ES (Hansen's tutorial formulation, positive weights) over the space's unconditional
 * numeric params in the unit cube, with margin (Hamano et al., GECCO 2022) for integer and
 * stepped params and IPOP restarts (Auger & Hansen 2005). Categorical and conditional params are
 * sampled independently at random, as Optuna's CmaEsSampler delegates them, with one warning.
 *
 * A pure function of the history: the state is replayed from the complete trials in history
 * order, every λ of them one generation. Each trial's continuous sample is regenerated from the
 * state it was drawn from and its own seeded stream, so the update sees the exact sample
 * whenever the trial came from that state (always, when trials run one at a time); a trial that
 * did not (other workers, start-up trials, another sampler) enters as an injected solution with
 * its step clipped (Hansen 2011). Replays are cached by history prefix, so a running study
 * extends the previous replay instead of redoing it.
 */
export class CmaEsSampler implements Sampler {
  readonly name = 'cmaes';
  readonly needsHistory = true;
  readonly usesPrior = true;
  readonly options: CmaEsOptions;
  onWarning?: (message: string) => void;
  private warned = false;
  /** The replay of the last history seen: its trials (by object) and the state after them. */
  private replay?: { trials: Observation['trial'][]; state: CmaState; pending: Solution[]; key: string };

  constructor(options: Partial<CmaEsOptions> = {}) {
    const given = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined));
    this.options = { ...CMAES_DEFAULTS, ...given };
  }

  suggest(ctx: SamplerContext): Params {
    if (ctx.objectives.length !== 1) throw new UserError(`sampler "cmaes" optimises one objective; this study has ${ctx.objectives.length} (use tpe or nsga2)`);
    const space = ctx.space;
    const dims = space.params.map((p, i) => ({ p, i, info: dimInfo(space, p) })).filter((x) => x.info.kind !== 'cat' && !x.p.when);
    const delegated = space.params.filter((p) => p.type === 'categorical' || p.when);
    if (delegated.length && !this.warned) {
      this.warned = true;
      this.onWarning?.(
        `sampler "cmaes": ${delegated.map((p) => `"${p.name}"`).join(', ')} ${delegated.length === 1 ? 'is' : 'are'} categorical or conditional and sampled independently at random (CMA-ES models the unconditional numeric params only, as Optuna's CmaEsSampler does)`,
      );
    }
    const rng = Rng.derive(ctx.seed, 'cmaes', ctx.trialNumber);
    const point = space.params.map(() => rng.random());
    const finished = observe(ctx, false).filter((x) => x.kind !== 'pruned');
    if (dims.length === 0 || finished.length < this.options.nStartupTrials) return space.decode(point);
    const infos = dims.map((x) => x.info);
    const { state } = this.replayHistory(ctx, finished, dims.map((x) => x.i), infos);
    const x = sampleFrom(state, Rng.derive(ctx.seed, 'cmaes-sample', ctx.trialNumber));
    dims.forEach((dim, k) => (point[dim.i] = snap(dim.info, x[k])));
    return space.decode(point);
  }

  private replayHistory(ctx: SamplerContext, finished: Observation[], idx: number[], infos: DimInfo[]): { state: CmaState } {
    const o = this.options;
    const d = idx.length;
    const prior = (ctx.prior?.length ? observePrior(ctx) : []).filter((x) => x.kind === 'complete' && idx.every((i) => !Number.isNaN(x.point[i])));
    const key = `${ctx.seed}|${idx.join(',')}|${prior.length}`;
    let start = 0;
    let state: CmaState;
    let pending: Solution[];
    const prev = this.replay;
    if (prev && prev.key === key && prev.trials.length <= finished.length && prev.trials.every((t, i) => finished[i].trial === t)) {
      start = prev.trials.length;
      state = cloneState(prev.state);
      pending = [...prev.pending];
    } else {
      state = newState(d, o.popsize ?? 4 + Math.floor(3 * Math.log(d)), new Float64Array(d).fill(0.5), o.sigma0, 0, ctx.seed);
      if (prior.length) warmStart(state, prior.map((x) => ({ u: idx.map((i) => x.point[i]), loss: x.losses![0] })), o);
      if (o.withMargin) applyMargin(state, infos);
      pending = [];
    }
    for (let k = start; k < finished.length; k++) {
      const x = finished[k];
      const u = idx.map((i) => x.point[i]);
      if (u.some(Number.isNaN)) continue;
      // Regenerate the sample this trial would have drawn from the current state.
      const regen = sampleFrom(state, Rng.derive(ctx.seed, 'cmaes-sample', x.trial.number));
      const exact = regen.every((v, j) => snap(infos[j], v) === snap(infos[j], u[j]));
      pending.push({ x: exact ? regen : Float64Array.from(u), injected: !exact, rank: rankKey(x) });
      if (pending.length === state.lambda) {
        state = tell(state, pending, infos, o);
        pending = [];
      }
    }
    this.replay = { trials: finished.map((x) => x.trial), state, pending, key };
    return { state };
  }
}

interface Solution {
  x: Float64Array;
  injected: boolean;
  /** Smaller is better: [0, loss] for feasible trials, [1, violation] for infeasible ones. */
  rank: [number, number];
}

/**
 * The first run's distribution from the prior's best points (Nomura et al., "Warm Starting
 * CMA-ES for Hyperparameter Optimization", AAAI 2021, as Optuna's `source_trials`): the mean of
 * the best γ fraction, and their covariance plus α²I split into step size σ = det(Σ)^(1/2d) and
 * shape C = Σ/σ². IPOP restarts still start afresh at random.
 */
function warmStart(s: CmaState, points: { u: number[]; loss: number }[], o: CmaEsOptions): void {
  const d = s.d;
  const top = [...points].sort((a, b) => a.loss - b.loss).slice(0, Math.max(1, Math.floor(o.warmStartGamma * points.length)));
  const mean = new Float64Array(d);
  for (const p of top) for (let i = 0; i < d; i++) mean[i] += p.u[i] / top.length;
  const sigmaM = new Float64Array(d * d);
  for (let i = 0; i < d; i++) sigmaM[i * d + i] = o.warmStartAlpha ** 2;
  for (const p of top)
    for (let i = 0; i < d; i++)
      for (let j = 0; j < d; j++) sigmaM[i * d + j] += ((p.u[i] - mean[i]) * (p.u[j] - mean[j])) / top.length;
  const rows = Array.from({ length: d }, (_, i) => Array.from(sigmaM.subarray(i * d, i * d + d)));
  const logDet = new EigenvalueDecomposition(new Matrix(rows), { assumeSymmetric: true }).realEigenvalues.reduce((a, l) => a + Math.log(Math.max(l, 1e-300)), 0);
  const sigma = Math.exp(logDet / (2 * d));
  s.mean = mean;
  s.sigma = sigma;
  s.C = Float64Array.from(sigmaM, (v) => v / (sigma * sigma));
  eigen(s);
}

function rankKey(x: Observation): [number, number] {
  return x.kind === 'complete' ? [0, x.losses![0]] : [1, x.violation];
}

function cloneState(s: CmaState): CmaState {
  return { ...s, mean: Float64Array.from(s.mean), C: Float64Array.from(s.C), B: Float64Array.from(s.B), D: Float64Array.from(s.D), pSigma: Float64Array.from(s.pSigma), pc: Float64Array.from(s.pc), A: Float64Array.from(s.A), bests: [...s.bests] };
}

/** x = m + σ A ⊙ (B D z), resampled until inside the unit cube, then clipped. */
function sampleFrom(s: CmaState, rng: Rng): Float64Array {
  const d = s.d;
  const x = new Float64Array(d);
  for (let attempt = 0; attempt < MAX_RESAMPLING; attempt++) {
    const z = Float64Array.from({ length: d }, () => rng.normal(0, 1));
    let inside = true;
    for (let i = 0; i < d; i++) {
      let y = 0;
      for (let j = 0; j < d; j++) y += s.B[i * d + j] * s.D[j] * z[j];
      x[i] = s.mean[i] + s.sigma * s.A[i] * y;
      if (x[i] < 0 || x[i] > 1) inside = false;
    }
    if (inside) return x;
  }
  for (let i = 0; i < d; i++) x[i] = Math.min(1, Math.max(0, x[i]));
  return x;
}

/** One generation's update; returns a fresh state after an IPOP restart. */
function tell(s: CmaState, sols: Solution[], infos: DimInfo[], o: CmaEsOptions): CmaState {
  const d = s.d;
  const sorted = [...sols].sort((a, b) => a.rank[0] - b.rank[0] || a.rank[1] - b.rank[1]);
  // Steps in the standardised frame: y = (x - m) / (σ A); injected ones clipped to a typical length.
  const ys = sorted.slice(0, s.mu).map((sol) => {
    const y = Float64Array.from(sol.x, (v, i) => (v - s.mean[i]) / (s.sigma * s.A[i]));
    if (sol.injected) {
      const norm = Math.hypot(...invSqrtC(s, y));
      const cap = Math.sqrt(d) + (2 * d) / (d + 2);
      if (norm > cap) for (let i = 0; i < d; i++) y[i] *= cap / norm;
    }
    return y;
  });
  const yw = new Float64Array(d);
  ys.forEach((y, k) => y.forEach((v, i) => (yw[i] += s.weights[k] * v)));
  const mean = Float64Array.from(s.mean, (m, i) => m + s.sigma * s.A[i] * yw[i]);
  const cy = invSqrtC(s, yw);
  const a = Math.sqrt(s.cSigma * (2 - s.cSigma) * s.muEff);
  const pSigma = Float64Array.from(s.pSigma, (p, i) => (1 - s.cSigma) * p + a * cy[i]);
  const psNorm = Math.hypot(...pSigma);
  const gen = s.generation + 1;
  const hSigma = psNorm / Math.sqrt(1 - (1 - s.cSigma) ** (2 * gen)) < (1.4 + 2 / (d + 1)) * s.chiN ? 1 : 0;
  const b = hSigma * Math.sqrt(s.cc * (2 - s.cc) * s.muEff);
  const pc = Float64Array.from(s.pc, (p, i) => (1 - s.cc) * p + b * yw[i]);
  const decay = 1 - s.c1 - s.cMu + (1 - hSigma) * s.c1 * s.cc * (2 - s.cc);
  const C = new Float64Array(d * d);
  for (let i = 0; i < d; i++)
    for (let j = 0; j <= i; j++) {
      let rankMu = 0;
      ys.forEach((y, k) => (rankMu += s.weights[k] * y[i] * y[j]));
      const v = decay * s.C[i * d + j] + s.c1 * pc[i] * pc[j] + s.cMu * rankMu;
      C[i * d + j] = C[j * d + i] = v;
    }
  const sigma = Math.min(1e3, s.sigma * Math.exp((s.cSigma / s.dSigma) * (psNorm / s.chiN - 1)));
  const next: CmaState = { ...s, mean, sigma, C, pSigma, pc, generation: gen, bests: [...s.bests, sorted[0].rank[0] === 0 ? sorted[0].rank[1] : Infinity] };
  eigen(next);
  if (o.withMargin) applyMargin(next, infos);
  if (o.restartStrategy === 'ipop' && shouldStop(next, sorted, o)) {
    const restarts = s.restarts + 1;
    const rng = Rng.derive(s.seed, 'cmaes-restart', restarts);
    const fresh = newState(d, Math.round(s.lambda * o.incPopsize), Float64Array.from({ length: d }, () => rng.random()), o.sigma0, restarts, s.seed);
    if (o.withMargin) applyMargin(fresh, infos);
    return fresh;
  }
  return next;
}

/** C^{-1/2} y = B D⁻¹ Bᵀ y. */
function invSqrtC(s: CmaState, y: ArrayLike<number>): Float64Array {
  const d = s.d;
  const t = new Float64Array(d);
  for (let j = 0; j < d; j++) {
    let v = 0;
    for (let i = 0; i < d; i++) v += s.B[i * d + j] * y[i];
    t[j] = v / s.D[j];
  }
  const out = new Float64Array(d);
  for (let i = 0; i < d; i++) {
    let v = 0;
    for (let j = 0; j < d; j++) v += s.B[i * d + j] * t[j];
    out[i] = v;
  }
  return out;
}

function eigen(s: CmaState): void {
  const d = s.d;
  const rows = Array.from({ length: d }, (_, i) => Array.from(s.C.subarray(i * d, i * d + d)));
  const e = new EigenvalueDecomposition(new Matrix(rows), { assumeSymmetric: true });
  const V = e.eigenvectorMatrix;
  e.realEigenvalues.forEach((lam, j) => {
    s.D[j] = Math.sqrt(Math.max(lam, 1e-30));
    for (let i = 0; i < d; i++) s.B[i * d + j] = V.get(i, j);
  });
}

/** The stop tests that trigger an IPOP restart: tolx, flat fitness (tolfun), condition number, no effect of an axis or a coordinate. */
function shouldStop(s: CmaState, sorted: Solution[], o: CmaEsOptions): boolean {
  const d = s.d;
  const window = 10 + Math.ceil((30 * d) / s.lambda);
  const recent = s.bests.slice(-window);
  const feasible = sorted.filter((x) => x.rank[0] === 0).map((x) => x.rank[1]);
  if (recent.length >= window && feasible.length) {
    const all = [...recent.filter(Number.isFinite), ...feasible];
    if (Math.max(...all) - Math.min(...all) < TOL_FUN) return true;
  }
  let small = true;
  for (let i = 0; i < d; i++) if (s.sigma * Math.sqrt(s.C[i * d + i]) >= TOL_X * o.sigma0 || s.sigma * Math.abs(s.pc[i]) >= TOL_X * o.sigma0) small = false;
  if (small) return true;
  const maxD = Math.max(...s.D);
  const minD = Math.min(...s.D);
  if ((maxD / minD) ** 2 > MAX_CONDITION) return true;
  const axis = s.generation % d;
  let noAxis = true;
  for (let i = 0; i < d; i++) if (s.mean[i] !== s.mean[i] + 0.1 * s.sigma * s.A[i] * s.D[axis] * s.B[i * d + axis]) noAxis = false;
  if (noAxis) return true;
  for (let i = 0; i < d; i++) if (s.mean[i] === s.mean[i] + 0.2 * s.sigma * s.A[i] * Math.sqrt(s.C[i * d + i])) return true;
  return false;
}

/**
 * CMA-ES with margin: for each integer or stepped param, the probability of sampling outside the
 * grid cell of the mean is kept at least α = 1/(dλ), so the search never freezes on one value.
 * A mean in an end cell (one inner threshold) is moved to within the α-quantile distance of that
 * threshold; elsewhere the param's margin scaling A grows until the two tails hold α together.
 */
function applyMargin(s: CmaState, infos: DimInfo[]): void {
  const d = s.d;
  const alpha = 1 / (d * s.lambda);
  const q = normalQuantile(1 - alpha);
  for (let i = 0; i < d; i++) {
    const info = infos[i];
    s.A[i] = 1;
    if (info.kind !== 'disc' || info.n < 2) continue;
    const cell = cellOf(info, s.mean[i]);
    const lo = info.lo[cell];
    const hi = info.hi[cell];
    const sd = s.sigma * Math.sqrt(s.C[i * d + i]);
    if (!(sd > 0)) continue;
    if (cell === 0 || cell === info.n - 1) {
      // One inner threshold: keep it within q standard deviations of the mean.
      const t = cell === 0 ? hi : lo;
      const dist = Math.abs(t - s.mean[i]);
      if (dist > q * sd) s.mean[i] = t + Math.sign(s.mean[i] - t) * q * sd;
      continue;
    }
    const outside = (a: number) => normCdf((lo - s.mean[i]) / (a * sd)) + 1 - normCdf((hi - s.mean[i]) / (a * sd));
    if (outside(1) >= alpha) continue;
    // Bisection on the scaling: P(outside) grows with it.
    let a0 = 1;
    let a1 = 2;
    while (outside(a1) < alpha && a1 < 1e12) a1 *= 2;
    for (let k = 0; k < 60; k++) {
      const mid = (a0 + a1) / 2;
      if (outside(mid) < alpha) a0 = mid;
      else a1 = mid;
    }
    s.A[i] = a1;
  }
}

/** Φ⁻¹(p) by Acklam's rational approximation refined by one Newton step. */
function normalQuantile(p: number): number {
  const a = [-39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239];
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
  const c = [-0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const dd = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const lowP = 0.02425;
  let x: number;
  if (p < lowP) {
    const q = Math.sqrt(-2 * Math.log(p));
    x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((dd[0] * q + dd[1]) * q + dd[2]) * q + dd[3]) * q + 1);
  } else if (p <= 1 - lowP) {
    const q = p - 0.5;
    const r = q * q;
    x = ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q) / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
  } else {
    const q = Math.sqrt(-2 * Math.log(1 - p));
    x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((dd[0] * q + dd[1]) * q + dd[2]) * q + dd[3]) * q + 1);
  }
  const e = normCdf(x) - p;
  return x - e * Math.sqrt(2 * Math.PI) * Math.exp((x * x) / 2);
}
