// Small SVG-as-text helpers for the charts: scales, "nice" ticks, axes. Charts are built as
// strings and set with innerHTML once, which stays quick with 10,000 points (one parse, no
// per-node DOM calls); many lines of one colour share a single <path>.

export function esc(v: unknown): string {
  return String(v).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

export interface Scale {
  (v: number): number;
  ticks(count?: number): number[];
  domain: [number, number];
  range: [number, number];
  log: boolean;
}

/** Tick values for [lo, hi] at 1, 2 or 5 times a power of ten (the d3 convention). */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) return Number.isFinite(lo) ? [lo] : [];
  const raw = (hi - lo) / Math.max(1, count);
  const p = Math.pow(10, Math.floor(Math.log10(raw)));
  const f = raw / p;
  const step = (f >= 5 ? 10 : f >= 2 ? 5 : f >= 1 ? 2 : 1) * p;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Math.abs(v) < step * 1e-9 ? 0 : Number(v.toPrecision(12)));
  return out;
}

export function linearScale(domain: [number, number], range: [number, number]): Scale {
  let [d0, d1] = domain;
  if (!(d1 > d0)) {
    // A single value: centre it.
    const pad = d0 === 0 ? 1 : Math.abs(d0) * 0.1;
    d0 -= pad;
    d1 += pad;
  }
  const [r0, r1] = range;
  const s = ((v: number) => r0 + ((v - d0) / (d1 - d0)) * (r1 - r0)) as Scale;
  s.ticks = (count = 5) => niceTicks(d0, d1, count);
  s.domain = [d0, d1];
  s.range = range;
  s.log = false;
  return s;
}

export function logScale(domain: [number, number], range: [number, number]): Scale {
  let [d0, d1] = domain;
  if (!(d1 > d0)) {
    d0 /= 2;
    d1 *= 2;
  }
  const l0 = Math.log10(d0);
  const l1 = Math.log10(d1);
  const [r0, r1] = range;
  const s = ((v: number) => r0 + ((Math.log10(v) - l0) / (l1 - l0)) * (r1 - r0)) as Scale;
  s.ticks = () => {
    const out: number[] = [];
    for (let e = Math.floor(l0); e <= Math.ceil(l1); e++) {
      for (const m of l1 - l0 < 2 ? [1, 2, 5] : [1]) {
        const v = m * Math.pow(10, e);
        if (v >= d0 * (1 - 1e-9) && v <= d1 * (1 + 1e-9)) out.push(v);
      }
    }
    return out;
  };
  s.domain = [d0, d1];
  s.range = range;
  s.log = true;
  return s;
}

/** [min, max] of finite values, padded by a fraction of the span. */
export function extent(values: Iterable<number>, pad = 0.04): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (!Number.isFinite(v)) continue;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (lo > hi) return [0, 1];
  const span = hi - lo || Math.abs(hi) || 1;
  return [lo - span * pad, hi + span * pad];
}

export function fmt(v: number | null | undefined): string {
  if (v === null || v === undefined) return '';
  if (!Number.isFinite(v)) return String(v);
  if (Number.isInteger(v)) return String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e6)) return v.toExponential(2).replace(/\.?0+e/, 'e');
  return String(Number(v.toPrecision(4)));
}

export interface Frame {
  width: number;
  height: number;
  left: number;
  right: number;
  top: number;
  bottom: number;
}

export const frame = (width = 560, height = 300): Frame => ({ width, height, left: 58, right: 16, top: 26, bottom: 42 });

/** Gridlines, tick labels and axis titles for an x and a y scale. */
export function axes(f: Frame, x: Scale, y: Scale, xTitle: string, yTitle: string): string {
  const parts: string[] = [];
  const x0 = f.left;
  const x1 = f.width - f.right;
  const y0 = f.height - f.bottom;
  const y1 = f.top;
  for (const t of y.ticks(5)) {
    const py = y(t).toFixed(1);
    parts.push(`<line class="grid" x1="${x0}" x2="${x1}" y1="${py}" y2="${py}"/><text class="tick" x="${x0 - 6}" y="${py}" dy="0.32em" text-anchor="end">${esc(fmt(t))}</text>`);
  }
  for (const t of x.ticks(6)) {
    const px = x(t).toFixed(1);
    parts.push(`<line class="grid" x1="${px}" x2="${px}" y1="${y1}" y2="${y0}"/><text class="tick" x="${px}" y="${y0 + 16}" text-anchor="middle">${esc(fmt(t))}</text>`);
  }
  parts.push(`<rect class="plot-frame" x="${x0}" y="${y1}" width="${x1 - x0}" height="${y0 - y1}"/>`);
  parts.push(`<text class="axis-title" x="${(x0 + x1) / 2}" y="${f.height - 6}" text-anchor="middle">${esc(xTitle)}</text>`);
  parts.push(`<text class="axis-title" transform="translate(14 ${(y0 + y1) / 2}) rotate(-90)" text-anchor="middle">${esc(yTitle)}</text>`);
  return parts.join('');
}

export function svg(f: Frame, body: string, testid: string, label: string): string {
  return `<svg data-testid="${testid}" viewBox="0 0 ${f.width} ${f.height}" width="100%" role="img" aria-label="${esc(label)}" preserveAspectRatio="xMidYMid meet">${body}</svg>`;
}

/** Sequential colours (light → dark blue-violet), for colouring lines by an objective. */
export const RAMP = ['#e8c620', '#a0da39', '#4ac16d', '#1fa187', '#277f8e', '#365c8d', '#46327e', '#440154'];

export const STATE_COLOURS: Record<string, string> = {
  complete: '#2563eb',
  pruned: '#f59e0b',
  running: '#10b981',
  failed: '#ef4444',
  waiting: '#9ca3af',
};
