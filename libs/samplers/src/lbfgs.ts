// A small projected L-BFGS for box-bounded smooth problems (GP hyperparameters, acquisition
// refinement). No npm package here offers a maintained L-BFGS-B for Node; this is the textbook
// two-loop recursion with a backtracking Armijo search on the projected path.

export interface Objective {
  (x: Float64Array): { f: number; g: Float64Array };
}

export interface LbfgsOptions {
  maxIter?: number;
  memory?: number;
  /** Stop when the projected gradient's largest component falls below this. */
  gtol?: number;
  /** Stop when the relative decrease of f falls below this. */
  ftol?: number;
}

export function minimizeBox(fg: Objective, x0: Float64Array, lower: Float64Array, upper: Float64Array, o: LbfgsOptions = {}): { x: Float64Array; f: number } {
  const n = x0.length;
  const maxIter = o.maxIter ?? 60;
  const mem = o.memory ?? 8;
  const gtol = o.gtol ?? 1e-6;
  const ftol = o.ftol ?? 1e-10;
  const proj = (x: Float64Array) => {
    for (let i = 0; i < n; i++) x[i] = x[i] < lower[i] ? lower[i] : x[i] > upper[i] ? upper[i] : x[i];
    return x;
  };
  let x = proj(Float64Array.from(x0));
  let { f, g } = fg(x);
  if (!Number.isFinite(f)) return { x, f };
  const S: Float64Array[] = [];
  const Y: Float64Array[] = [];
  const rho: number[] = [];
  for (let iter = 0; iter < maxIter; iter++) {
    // Projected gradient norm: ignore components pushing against an active bound.
    let pg = 0;
    for (let i = 0; i < n; i++) {
      const gi = (x[i] <= lower[i] && g[i] > 0) || (x[i] >= upper[i] && g[i] < 0) ? 0 : g[i];
      pg = Math.max(pg, Math.abs(gi));
    }
    if (pg < gtol) break;
    // Two-loop recursion.
    const q = Float64Array.from(g);
    const alpha = new Array<number>(S.length);
    for (let k = S.length - 1; k >= 0; k--) {
      alpha[k] = rho[k] * dot(S[k], q);
      for (let i = 0; i < n; i++) q[i] -= alpha[k] * Y[k][i];
    }
    if (S.length) {
      const last = S.length - 1;
      const gamma = dot(S[last], Y[last]) / dot(Y[last], Y[last]);
      for (let i = 0; i < n; i++) q[i] *= gamma;
    }
    for (let k = 0; k < S.length; k++) {
      const beta = rho[k] * dot(Y[k], q);
      for (let i = 0; i < n; i++) q[i] += S[k][i] * (alpha[k] - beta);
    }
    const d = q.map((v) => -v);
    // Directions pointing out of the box along active bounds are dropped.
    for (let i = 0; i < n; i++) if ((x[i] <= lower[i] && d[i] < 0) || (x[i] >= upper[i] && d[i] > 0)) d[i] = 0;
    if (dot(d, g) >= 0) {
      for (let i = 0; i < n; i++) d[i] = -g[i];
      S.length = 0;
      Y.length = 0;
      rho.length = 0;
    }
    let t = S.length ? 1 : Math.min(1, 1 / Math.max(1e-12, Math.sqrt(dot(g, g))));
    let accepted = false;
    let xNew = x;
    let fNew = f;
    let gNew = g;
    for (let ls = 0; ls < 30; ls++) {
      const cand = proj(x.map((v, i) => v + t * d[i]));
      let dec = 0;
      for (let i = 0; i < n; i++) dec += g[i] * (cand[i] - x[i]);
      const r = fg(cand);
      if (Number.isFinite(r.f) && r.f <= f + 1e-4 * dec) {
        xNew = cand;
        fNew = r.f;
        gNew = r.g;
        accepted = true;
        break;
      }
      t *= 0.5;
    }
    if (!accepted) break;
    const s = xNew.map((v, i) => v - x[i]);
    const y = gNew.map((v, i) => v - g[i]);
    const sy = dot(s, y);
    if (sy > 1e-12) {
      S.push(s);
      Y.push(y);
      rho.push(1 / sy);
      if (S.length > mem) {
        S.shift();
        Y.shift();
        rho.shift();
      }
    }
    const rel = (f - fNew) / Math.max(Math.abs(f), Math.abs(fNew), 1);
    x = xNew;
    f = fNew;
    g = gNew;
    if (rel < ftol) break;
  }
  return { x, f };
}

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}
