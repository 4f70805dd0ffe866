import { UserError, type Objective } from '@segtune/core';
import { didYouMean, type ParamSpec, type Params } from '@segtune/space';

// Analytic benchmark functions with known optima, for testing samplers and schedulers.
// Definitions follow the Virtual Library of Simulation Experiments (Surjanovic & Bingham, SFU)
// for the single-objective ones, Zitzler, Deb & Thiele (2000) for ZDT and Deb et al. (2002) for
// DTLZ. bench/peers/functions.py holds the same definitions in numpy, and a test checks that the
// two agree.
//
// Every function minimises. Params are named x1..xd (the mixed function: x1, x2, c).

export interface SingleOptimum {
  /** The global minimum. */
  value: number;
  /** Every known global minimiser (Branin has three). */
  locations: Params[];
}

export interface ParetoFront {
  /** A recommended hypervolume reference point (loss space) for benchmark reports. */
  referencePoint: number[];
  /** Hypervolume of the true front for `referencePoint`. */
  hypervolume: number;
  /** Hypervolume of the true front for another reference point, or undefined where no closed form is known here. */
  hypervolumeAt(reference: readonly number[]): number | undefined;
  /** `n` points spread along the true front (objective space). */
  sample(n: number): number[][];
  /** The ideal point (best value of each objective on the front) and the nadir (worst on the front). */
  ideal: number[];
  nadir: number[];
  /** Pareto-optimal params for front coordinate(s) `t` in [0,1]^(m-1). */
  solutionAt(t: readonly number[]): Params;
}

interface BenchmarkBase {
  /** Registry key, lower case (`branin`, `dtlz2`). */
  name: string;
  /** One line for help texts. */
  title: string;
  dimension: number;
  /** A space file's `params` block: ordered, with bounds. */
  params: Record<string, ParamSpec>;
  objectives: Objective[];
  /** Objective values in `objectives` order. Throws UserError when a param is missing or not a number. */
  evaluate(params: Params): number[];
  /** Options this function was built with (`d`, `m`), for messages and for rebuilding. */
  options: Record<string, number>;
}

export interface SingleObjectiveFunction extends BenchmarkBase {
  kind: 'single';
  optimum: SingleOptimum;
}

export interface MultiObjectiveFunction extends BenchmarkBase {
  kind: 'multi';
  optimum: ParetoFront;
}

export type BenchmarkFunction = SingleObjectiveFunction | MultiObjectiveFunction;

const VALUE: Objective[] = [{ name: 'value', direction: 'minimize' }];

function xNames(d: number): string[] {
  return Array.from({ length: d }, (_, i) => `x${i + 1}`);
}

function boxParams(bounds: readonly [number, number][]): Record<string, ParamSpec> {
  const out: Record<string, ParamSpec> = {};
  bounds.forEach(([low, high], i) => {
    out[`x${i + 1}`] = { type: 'float', low, high };
  });
  return out;
}

function vectorOf(name: string, params: Params, names: readonly string[]): number[] {
  return names.map((n) => numberParam(name, params, n, names));
}

function numberParam(fn: string, params: Params, key: string, names: readonly string[]): number {
  const v = params[key];
  if (v === undefined) {
    throw new UserError(`benchmark "${fn}": missing param "${key}"; it needs ${names.join(', ')} (benchmarkSpaceParams("${fn}") gives the block)`);
  }
  if (typeof v !== 'number') throw new UserError(`benchmark "${fn}": param "${key}" must be a number, got ${JSON.stringify(v)}`);
  return v;
}

function requireInt(fn: string, key: string, v: number, min: number): number {
  if (!Number.isInteger(v) || v < min) throw new UserError(`benchmark "${fn}": ${key} must be an integer >= ${min}, got ${v}`);
  return v;
}

/** Builds a function of a plain vector into a single-objective benchmark. */
function single(
  name: string,
  title: string,
  bounds: [number, number][],
  f: (x: readonly number[]) => number,
  optimum: SingleOptimum,
  options: Record<string, number> = {},
): SingleObjectiveFunction {
  const names = xNames(bounds.length);
  return {
    kind: 'single',
    name,
    title,
    dimension: bounds.length,
    params: boxParams(bounds),
    objectives: VALUE,
    evaluate: (p) => [f(vectorOf(name, p, names))],
    optimum,
    options,
  };
}

function point(x: readonly number[]): Params {
  return Object.fromEntries(x.map((v, i) => [`x${i + 1}`, v]));
}

const repeat = (d: number, v: [number, number]): [number, number][] => Array.from({ length: d }, () => [v[0], v[1]]);

// ---------------------------------------------------------------- single objective

export function braninValue(x1: number, x2: number): number {
  const b = 5.1 / (4 * Math.PI ** 2);
  const c = 5 / Math.PI;
  const t = 1 / (8 * Math.PI);
  return (x2 - b * x1 * x1 + c * x1 - 6) ** 2 + 10 * (1 - t) * Math.cos(x1) + 10;
}

/** Branin-Hoo on [-5,10]×[0,15]; minimum 5/(4π) ≈ 0.397887 at three points. */
export function branin(): SingleObjectiveFunction {
  return single(
    'branin',
    'Branin-Hoo, 2-D, three global minima',
    [
      [-5, 10],
      [0, 15],
    ],
    (x) => braninValue(x[0], x[1]),
    {
      // At x1 = ±π and 3π the quadratic term vanishes and cos(x1) = -1: 10 - 10(1 - 1/(8π)) = 5/(4π).
      value: 5 / (4 * Math.PI),
      locations: [point([-Math.PI, 12.275]), point([Math.PI, 2.275]), point([3 * Math.PI, 2.475])],
    },
  );
}

const H6_ALPHA = [1.0, 1.2, 3.0, 3.2];
const H6_A = [
  [10, 3, 17, 3.5, 1.7, 8],
  [0.05, 10, 17, 0.1, 8, 14],
  [3, 3.5, 1.7, 10, 17, 8],
  [17, 8, 0.05, 10, 0.1, 14],
];
const H6_P = [
  [1312, 1696, 5569, 124, 8283, 5886],
  [2329, 4135, 8307, 3736, 1004, 9991],
  [2348, 1451, 3522, 2883, 3047, 6650],
  [4047, 8828, 8732, 5743, 1091, 381],
].map((row) => row.map((v) => v * 1e-4));

export function hartmann6Value(x: readonly number[]): number {
  let s = 0;
  for (let i = 0; i < 4; i++) {
    let inner = 0;
    for (let j = 0; j < 6; j++) inner += H6_A[i][j] * (x[j] - H6_P[i][j]) ** 2;
    s += H6_ALPHA[i] * Math.exp(-inner);
  }
  return -s;
}

function hartmann6Gradient(x: readonly number[]): number[] {
  const g = new Array(6).fill(0);
  for (let i = 0; i < 4; i++) {
    let inner = 0;
    for (let j = 0; j < 6; j++) inner += H6_A[i][j] * (x[j] - H6_P[i][j]) ** 2;
    const e = H6_ALPHA[i] * Math.exp(-inner);
    for (let j = 0; j < 6; j++) g[j] += e * 2 * H6_A[i][j] * (x[j] - H6_P[i][j]);
  }
  return g;
}

/**
 * The published minimiser is given to about six digits; regret measured against a rounded
 * value can come out negative. Refine it once by gradient descent with a backtracking line search
 * (the minimum is interior and smooth, so this converges to machine precision).
 */
function refineHartmann6(): SingleOptimum {
  let x = [0.20169, 0.150011, 0.476874, 0.275332, 0.311652, 0.6573];
  let fx = hartmann6Value(x);
  for (let it = 0; it < 500; it++) {
    const g = hartmann6Gradient(x);
    const gg = g.reduce((s, v) => s + v * v, 0);
    if (gg < 1e-30) break;
    let step = 0.05;
    let moved = false;
    while (step > 1e-14) {
      const y = x.map((v, j) => v - step * g[j]);
      const fy = hartmann6Value(y);
      if (fy < fx) {
        x = y;
        fx = fy;
        moved = true;
        break;
      }
      step /= 2;
    }
    if (!moved) break;
  }
  return { value: fx, locations: [point(x)] };
}

let hartmannOptimum: SingleOptimum | undefined;

/** Hartmann 6-D on [0,1]^6; minimum ≈ -3.32237. */
export function hartmann6(): SingleObjectiveFunction {
  hartmannOptimum ??= refineHartmann6();
  return single('hartmann6', 'Hartmann, 6-D, one global minimum among six local ones', repeat(6, [0, 1]), hartmann6Value, hartmannOptimum);
}

export function rosenbrockValue(x: readonly number[]): number {
  let s = 0;
  for (let i = 0; i < x.length - 1; i++) s += 100 * (x[i + 1] - x[i] * x[i]) ** 2 + (x[i] - 1) ** 2;
  return s;
}

/** Rosenbrock on [-5,10]^d (d ≥ 2, default 4); minimum 0 at (1, …, 1). */
export function rosenbrock(d = 4): SingleObjectiveFunction {
  requireInt('rosenbrock', 'd', d, 2);
  return single('rosenbrock', `Rosenbrock, ${d}-D, a curved valley`, repeat(d, [-5, 10]), rosenbrockValue, { value: 0, locations: [point(new Array(d).fill(1))] }, { d });
}

export function levyValue(x: readonly number[]): number {
  const w = x.map((v) => 1 + (v - 1) / 4);
  const d = w.length;
  let s = Math.sin(Math.PI * w[0]) ** 2;
  for (let i = 0; i < d - 1; i++) s += (w[i] - 1) ** 2 * (1 + 10 * Math.sin(Math.PI * w[i] + 1) ** 2);
  s += (w[d - 1] - 1) ** 2 * (1 + Math.sin(2 * Math.PI * w[d - 1]) ** 2);
  return s;
}

/** Levy on [-10,10]^d (default 6); minimum 0 at (1, …, 1). */
export function levy(d = 6): SingleObjectiveFunction {
  requireInt('levy', 'd', d, 1);
  return single('levy', `Levy, ${d}-D, many local minima`, repeat(d, [-10, 10]), levyValue, { value: 0, locations: [point(new Array(d).fill(1))] }, { d });
}

export function ackleyValue(x: readonly number[]): number {
  const d = x.length;
  let sq = 0;
  let cs = 0;
  for (const v of x) {
    sq += v * v;
    cs += Math.cos(2 * Math.PI * v);
  }
  return -20 * Math.exp(-0.2 * Math.sqrt(sq / d)) - Math.exp(cs / d) + 20 + Math.E;
}

/** Ackley on [-32.768,32.768]^d (default 4); minimum 0 at the origin. */
export function ackley(d = 4): SingleObjectiveFunction {
  requireInt('ackley', 'd', d, 1);
  const origin = new Array(d).fill(0);
  // f(0) is 0 up to rounding (-20 - e + 20 + e); use the computed value so regret is never negative.
  return single('ackley', `Ackley, ${d}-D, a needle in a bumpy plate`, repeat(d, [-32.768, 32.768]), ackleyValue, { value: Math.min(0, ackleyValue(origin)), locations: [point(origin)] }, { d });
}

export function styblinskiTangValue(x: readonly number[]): number {
  let s = 0;
  for (const v of x) s += v ** 4 - 16 * v * v + 5 * v;
  return s / 2;
}

/** The minimiser of t⁴ - 16t² + 5t on [-5,5]: Newton on the derivative 4t³ - 32t + 5 from -2.9. */
function styblinskiTangArgmin(): number {
  let t = -2.9;
  for (let i = 0; i < 50; i++) {
    const step = (4 * t ** 3 - 32 * t + 5) / (12 * t * t - 32);
    t -= step;
    if (Math.abs(step) < 1e-16) break;
  }
  return t;
}

/** Styblinski-Tang on [-5,5]^d (default 4); minimum ≈ -39.16617·d at (-2.903534, …). */
export function styblinskiTang(d = 4): SingleObjectiveFunction {
  requireInt('styblinski_tang', 'd', d, 1);
  const t = styblinskiTangArgmin();
  const loc = new Array(d).fill(t);
  return single('styblinski_tang', `Styblinski-Tang, ${d}-D`, repeat(d, [-5, 5]), styblinskiTangValue, { value: styblinskiTangValue(loc), locations: [point(loc)] }, { d });
}

// ---------------------------------------------------------------- mixed

/** Per category: x1 is shifted by `shift` before Branin sees it, and `offset` is added. */
export const MIXED_CATEGORIES: Record<string, { shift: number; offset: number }> = {
  a: { shift: 0, offset: 0.6 },
  b: { shift: 1.5, offset: 0 },
  c: { shift: -2, offset: 0.3 },
  d: { shift: 3, offset: 1.0 },
};

export function mixedValue(x1: number, x2: number, c: string): number {
  const cat = MIXED_CATEGORIES[c];
  return braninValue(x1 - cat.shift, x2) + cat.offset;
}

/** Minimum over x1 in [lo, hi] of a smooth 1-D function: a dense grid, then golden section around the best cell. */
function minimise1d(f: (x: number) => number, lo: number, hi: number): { x: number; value: number } {
  const n = 4000;
  let bi = 0;
  let bv = Infinity;
  for (let i = 0; i <= n; i++) {
    const v = f(lo + ((hi - lo) * i) / n);
    if (v < bv) {
      bv = v;
      bi = i;
    }
  }
  let a = lo + ((hi - lo) * Math.max(0, bi - 1)) / n;
  let b = lo + ((hi - lo) * Math.min(n, bi + 1)) / n;
  const g = (Math.sqrt(5) - 1) / 2;
  for (let i = 0; i < 200 && b - a > 1e-15; i++) {
    const c = b - g * (b - a);
    const d = a + g * (b - a);
    if (f(c) < f(d)) b = d;
    else a = c;
  }
  const x = (a + b) / 2;
  const candidates = [x, lo + ((hi - lo) * bi) / n];
  const best = candidates.reduce((p, q) => (f(q) < f(p) ? q : p));
  return { x: best, value: f(best) };
}

function mixedOptimum(): SingleOptimum {
  let best: SingleOptimum = { value: Infinity, locations: [] };
  for (const c of Object.keys(MIXED_CATEGORIES)) {
    for (let x2 = 0; x2 <= 15; x2++) {
      const m = minimise1d((x1) => mixedValue(x1, x2, c), -5, 10);
      if (m.value < best.value - 1e-12) best = { value: m.value, locations: [{ x1: m.x, x2, c }] };
      else if (Math.abs(m.value - best.value) <= 1e-12) best.locations.push({ x1: m.x, x2, c });
    }
  }
  return best;
}

let mixedOpt: SingleOptimum | undefined;

/**
 * A mixed-type function for sampler benchmarks: x1 float in [-5,10], x2 integer in [0,15], c a
 * categorical in {a,b,c,d}. f = Branin(x1 - shift(c), x2) + offset(c) (see MIXED_CATEGORIES):
 * the categories move the Branin valleys sideways and lift them, so the best x1 depends on c,
 * and x2's integer grid misses Branin's exact minima (the optimum, ≈ 0.43234 at c = b, x2 = 12,
 * x1 ≈ -1.5792, lies above Branin's 0.39789).
 * The optimum is found once by an exhaustive search over (c, x2) and a 1-D minimisation in x1.
 */
export function mixed(): SingleObjectiveFunction {
  mixedOpt ??= mixedOptimum();
  const names = ['x1', 'x2', 'c'];
  const cats = Object.keys(MIXED_CATEGORIES);
  return {
    kind: 'single',
    name: 'mixed',
    title: 'Mixed: Branin with an integer x2 and a categorical c that shifts and lifts it',
    dimension: 3,
    params: {
      x1: { type: 'float', low: -5, high: 10 },
      x2: { type: 'int', low: 0, high: 15 },
      c: { type: 'categorical', choices: cats },
    },
    objectives: VALUE,
    evaluate: (p) => {
      const x1 = numberParam('mixed', p, 'x1', names);
      const x2 = numberParam('mixed', p, 'x2', names);
      const c = p.c;
      if (c === undefined) throw new UserError(`benchmark "mixed": missing param "c"; it needs ${names.join(', ')}`);
      if (typeof c !== 'string' || !(c in MIXED_CATEGORIES)) {
        throw new UserError(`benchmark "mixed": param "c" must be one of ${cats.join(', ')}, got ${JSON.stringify(c)}`);
      }
      return [mixedValue(x1, x2, c)];
    },
    optimum: mixedOpt,
    options: {},
  };
}

// ---------------------------------------------------------------- multi-objective

function objectivesF(m: number): Objective[] {
  return Array.from({ length: m }, (_, i) => ({ name: `f${i + 1}`, direction: 'minimize' as const }));
}

/** The area of {a ≤ r1, b ≤ r2} dominated by the curve b = h(a), a in [0,1], h decreasing from 1 to 0. */
function zdtHypervolume(r: readonly number[], integralAbove: (a0: number, a1: number) => number, inverse: (b: number) => number): number | undefined {
  if (r.length !== 2) return undefined;
  const [r1, r2] = r;
  if (r1 <= 0 || r2 <= 0) return 0;
  const A = Math.min(r1, 1);
  // The front lies below r2 only where a > a0 (h(a0) = r2).
  const a0 = r2 >= 1 ? 0 : Math.min(A, inverse(r2));
  // ∫_{a0}^{A} (r2 - h(a)) da, plus the strip beyond a = 1 where h = 0.
  const inside = r2 * (A - a0) - integralAbove(a0, A);
  return inside + Math.max(0, r1 - 1) * r2;
}

function zdt(name: 'zdt1' | 'zdt2', d: number): MultiObjectiveFunction {
  requireInt(name, 'd', d, 2);
  const names = xNames(d);
  const shape = name === 'zdt1' ? (u: number) => 1 - Math.sqrt(u) : (u: number) => 1 - u * u;
  const f = (x: readonly number[]): number[] => {
    let s = 0;
    for (let i = 1; i < d; i++) s += x[i];
    const g = 1 + (9 * s) / (d - 1);
    const f1 = x[0];
    return [f1, g * shape(f1 / g)];
  };
  // ∫ h(a) da in closed form, and h⁻¹.
  const integral =
    name === 'zdt1'
      ? (a0: number, a1: number) => a1 - a0 - (2 / 3) * (a1 ** 1.5 - a0 ** 1.5)
      : (a0: number, a1: number) => a1 - a0 - (a1 ** 3 - a0 ** 3) / 3;
  const inverse = name === 'zdt1' ? (b: number) => (1 - b) ** 2 : (b: number) => Math.sqrt(1 - b);
  const hypervolumeAt = (r: readonly number[]) => zdtHypervolume(r, integral, inverse);
  const referencePoint = [11, 11];
  return {
    kind: 'multi',
    name,
    title: `${name.toUpperCase()}, ${d}-D, 2 objectives, ${name === 'zdt1' ? 'convex' : 'concave'} front`,
    dimension: d,
    params: boxParams(repeat(d, [0, 1])),
    objectives: objectivesF(2),
    evaluate: (p) => f(vectorOf(name, p, names)),
    options: { d },
    optimum: {
      referencePoint,
      hypervolume: hypervolumeAt(referencePoint)!,
      hypervolumeAt,
      ideal: [0, 0],
      nadir: [1, 1],
      sample: (n) => Array.from({ length: n }, (_, i) => (n === 1 ? 0 : i / (n - 1))).map((a) => [a, shape(a)]),
      solutionAt: (t) => point([t[0], ...new Array(d - 1).fill(0)]),
    },
  };
}

/** ZDT1 on [0,1]^d (d ≥ 2, default 30 as in the original paper); front f2 = 1 - √f1. */
export function zdt1(d = 30): MultiObjectiveFunction {
  return zdt('zdt1', d);
}

/** ZDT2 on [0,1]^d (d ≥ 2, default 30); front f2 = 1 - f1². */
export function zdt2(d = 30): MultiObjectiveFunction {
  return zdt('zdt2', d);
}

export function dtlz2Value(x: readonly number[], m: number): number[] {
  const d = x.length;
  let g = 0;
  for (let i = m - 1; i < d; i++) g += (x[i] - 0.5) ** 2;
  const out: number[] = [];
  for (let j = 0; j < m; j++) {
    let v = 1 + g;
    for (let i = 0; i < m - 1 - j; i++) v *= Math.cos((x[i] * Math.PI) / 2);
    if (j > 0) v *= Math.sin((x[m - 1 - j] * Math.PI) / 2);
    out.push(v);
  }
  return out;
}

/** Volume of the unit ball in m dimensions: π^(m/2) / Γ(m/2 + 1), Γ by its recurrence at integers and half-integers. */
function unitBallVolume(m: number): number {
  let gamma = m % 2 === 0 ? 1 : Math.sqrt(Math.PI); // Γ(1) or Γ(1/2)
  for (let z = m % 2 === 0 ? 1 : 0.5; z < m / 2 + 1 - 1e-9; z++) gamma *= z;
  return Math.PI ** (m / 2) / gamma;
}

/**
 * DTLZ2 on [0,1]^d with m objectives (d ≥ m; default d = 12, m = 3, i.e. k = 10 distance
 * variables as Deb et al. suggest). The front is the unit sphere in the positive orthant.
 */
export function dtlz2(d = 12, m = 3): MultiObjectiveFunction {
  requireInt('dtlz2', 'm', m, 2);
  requireInt('dtlz2', 'd', d, m);
  const names = xNames(d);
  // A point y ≥ 0 is dominated by the front exactly when |y| ≥ 1, so for a reference point with
  // every coordinate ≥ 1 the dominated volume is the box minus the orthant of the unit ball.
  const hypervolumeAt = (r: readonly number[]): number | undefined => {
    if (r.length !== m || r.some((v) => v < 1)) return undefined;
    return r.reduce((p, v) => p * v, 1) - unitBallVolume(m) / 2 ** m;
  };
  const referencePoint = new Array(m).fill(1.1);
  const solutionAt = (t: readonly number[]): Params => point([...t.slice(0, m - 1), ...new Array(d - m + 1).fill(0.5)]);
  return {
    kind: 'multi',
    name: 'dtlz2',
    title: `DTLZ2, ${d}-D, ${m} objectives, spherical front`,
    dimension: d,
    params: boxParams(repeat(d, [0, 1])),
    objectives: objectivesF(m),
    evaluate: (p) => dtlz2Value(vectorOf('dtlz2', p, names), m),
    options: { d, m },
    optimum: {
      referencePoint,
      hypervolume: hypervolumeAt(referencePoint)!,
      hypervolumeAt,
      ideal: new Array(m).fill(0),
      nadir: new Array(m).fill(1),
      sample: (n) => sampleSphere(n, m).map((t) => dtlz2Value([...t, ...new Array(d - m + 1).fill(0.5)], m)),
      solutionAt,
    },
  };
}

/**
 * `n` front coordinates in [0,1]^(m-1): evenly spaced for m = 2, otherwise a deterministic
 * low-discrepancy (Kronecker / R-sequence) set, so sampling needs no random source.
 */
function sampleSphere(n: number, m: number): number[][] {
  const k = m - 1;
  if (k === 1) return Array.from({ length: n }, (_, i) => [n === 1 ? 0 : i / (n - 1)]);
  // Generalised golden ratio: the root of x^(k+1) = x + 1.
  let phi = 2;
  for (let i = 0; i < 60; i++) phi = (1 + phi) ** (1 / (k + 1));
  const alpha = Array.from({ length: k }, (_, j) => (1 / phi) ** (j + 1) % 1);
  return Array.from({ length: n }, (_, i) => alpha.map((a) => (0.5 + a * (i + 1)) % 1));
}

// ---------------------------------------------------------------- registry

interface Entry {
  /** Options this function accepts, e.g. ['d'] or ['d', 'm']. */
  options: string[];
  build: (o: Record<string, number>) => BenchmarkFunction;
}

const FACTORIES: Record<string, Entry> = {
  branin: { options: [], build: () => branin() },
  hartmann6: { options: [], build: () => hartmann6() },
  rosenbrock: { options: ['d'], build: (o) => rosenbrock(o.d) },
  levy: { options: ['d'], build: (o) => levy(o.d) },
  ackley: { options: ['d'], build: (o) => ackley(o.d) },
  styblinski_tang: { options: ['d'], build: (o) => styblinskiTang(o.d) },
  zdt1: { options: ['d'], build: (o) => zdt1(o.d) },
  zdt2: { options: ['d'], build: (o) => zdt2(o.d) },
  dtlz2: { options: ['d', 'm'], build: (o) => dtlz2(o.d, o.m) },
  mixed: { options: [], build: () => mixed() },
};

export const BENCHMARK_NAMES: readonly string[] = Object.keys(FACTORIES);

/** Every function at its default size, keyed by lower-case name. */
export const BENCHMARK_FUNCTIONS: Record<string, BenchmarkFunction> = Object.fromEntries(BENCHMARK_NAMES.map((n) => [n, FACTORIES[n].build({})]));

/**
 * A benchmark by its space-file name: `branin`, `rosenbrock`, or with options
 * `rosenbrock(d=8)`, `dtlz2(d=7, m=4)`. Throws UserError naming the allowed names or options.
 */
export function getBenchmark(spec: string): BenchmarkFunction {
  const m = /^\s*([A-Za-z0-9_\-]+)\s*(?:\(([^()]*)\))?\s*$/.exec(spec);
  const allowed = `allowed: ${BENCHMARK_NAMES.join(', ')}`;
  if (!m) throw new UserError(`benchmark function ${JSON.stringify(spec)} is malformed; write a name, optionally with options like "rosenbrock(d=8)"; ${allowed}`);
  const name = m[1].toLowerCase().replace(/-/g, '_');
  const entry = FACTORIES[name];
  if (!entry) throw new UserError(`unknown benchmark function ${JSON.stringify(m[1])}${didYouMean(name, BENCHMARK_NAMES)}; ${allowed}`);
  const options: Record<string, number> = {};
  const optText = m[2]?.trim();
  if (optText) {
    for (const part of optText.split(',')) {
      const kv = /^\s*([A-Za-z_]+)\s*=\s*(-?\d+)\s*$/.exec(part);
      if (!kv) throw new UserError(`benchmark ${JSON.stringify(spec)}: option ${JSON.stringify(part.trim())} is malformed; write key=integer, e.g. d=8`);
      if (!entry.options.includes(kv[1])) {
        throw new UserError(
          `benchmark "${name}" has no option "${kv[1]}"${didYouMean(kv[1], entry.options)}; ${entry.options.length ? `allowed: ${entry.options.join(', ')}` : 'it takes no options'}`,
        );
      }
      options[kv[1]] = Number(kv[2]);
    }
  }
  return Object.keys(options).length === 0 ? BENCHMARK_FUNCTIONS[name] : entry.build(options);
}

/** log10 of the simple regret (best value found minus the optimum), floored at 1e-12 to stay finite. */
export function log10Regret(fn: SingleObjectiveFunction, best: number): number {
  return Math.log10(Math.max(best - fn.optimum.value, 1e-12));
}
