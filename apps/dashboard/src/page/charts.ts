// The study page's four charts, each a pure function from the page data to SVG text.
import type { HistoryData, IntermediateData, ParallelData, ParetoData, PickDocument } from '../page-data';
import { RAMP, STATE_COLOURS, axes, esc, extent, fmt, frame, linearScale, logScale, svg, type Scale } from './svg';

const empty = (testid: string, text: string) => `<p class="empty" data-testid="${testid}">${esc(text)}</p>`;

export function historyChart(h: HistoryData, objective: string, direction: 'minimize' | 'maximize', selected: number | null): string {
  const values = h.values[objective] ?? [];
  if (values.length === 0) return empty('history-empty', 'No complete trial yet.');
  const f = frame();
  const x = linearScale(extent(h.numbers, 0.02), [f.left, f.width - f.right]);
  const y = linearScale(extent(values), [f.height - f.bottom, f.top]);
  const dots: string[] = [];
  let sel = '';
  for (let i = 0; i < values.length; i++) {
    const cx = x(h.numbers[i]).toFixed(1);
    const cy = y(values[i]).toFixed(1);
    dots.push(`<circle class="dot" data-trial="${h.numbers[i]}" cx="${cx}" cy="${cy}" r="3"><title>trial ${h.numbers[i]}: ${esc(objective)} ${esc(fmt(values[i]))}</title></circle>`);
    if (h.numbers[i] === selected) sel = `<circle class="selected-ring" cx="${cx}" cy="${cy}" r="7"/>`;
  }
  const best = h.best[objective];
  let d = '';
  for (let i = 0; i < best.length; i++) {
    const px = x(h.numbers[i]).toFixed(1);
    const py = y(best[i]).toFixed(1);
    d += i === 0 ? `M${px},${py}` : `H${px}V${py}`;
  }
  d += `H${(f.width - f.right).toFixed(1)}`;
  const legend = `<g class="legend" transform="translate(${f.width - f.right - 170} 11)"><circle class="dot" cx="4" cy="0" r="3"/><text x="12" y="0" dy="0.32em">trial</text><line class="best-line" x1="48" x2="66" y1="0" y2="0"/><text x="70" y="0" dy="0.32em">best so far (${direction === 'maximize' ? 'max' : 'min'})</text></g>`;
  return svg(f, `${axes(f, x, y, 'trial', objective)}<path class="best-line" data-testid="history-best" d="${d}"/>${dots.join('')}${sel}${legend}`, 'history-chart', `optimisation history of ${objective}`);
}

/**
 * Objective space with every plotted trial as a dot, the Pareto-optimal ones marked, and (for two
 * objectives) the front's attainment staircase. xi and yi choose which objectives are the axes.
 */
export function paretoChart(p: ParetoData, xi: number, yi: number, selected: number | null, picks: readonly PickDocument[]): string {
  if (p.objectives.length < 2) return empty('pareto-empty', 'A Pareto front needs two or more objectives; this study has one (see "best" below).');
  if (p.points.length === 0) return empty('pareto-empty', 'No complete trial yet.');
  const f = frame(560, 340);
  const xo = p.objectives[xi];
  const yo = p.objectives[yi];
  const x = linearScale(extent(p.points.map((r) => r[1 + xi])), [f.left, f.width - f.right]);
  const y = linearScale(extent(p.points.map((r) => r[1 + yi])), [f.height - f.bottom, f.top]);
  const onFront = new Set(p.front);
  const byNumber = new Map(p.points.map((r) => [r[0], r]));
  const dominated: string[] = [];
  const front: string[] = [];
  const title = (r: number[]) => `<title>trial ${r[0]}: ${p.objectives.map((o, k) => `${esc(o.name)} ${esc(fmt(r[1 + k]))}`).join(', ')}</title>`;
  for (const r of p.points) {
    const cx = x(r[1 + xi]).toFixed(1);
    const cy = y(r[1 + yi]).toFixed(1);
    if (onFront.has(r[0])) front.push(`<circle class="front-point" data-testid="pareto-front-point" data-trial="${r[0]}" cx="${cx}" cy="${cy}" r="5.5">${title(r)}</circle>`);
    else dominated.push(`<circle class="point" data-testid="pareto-point" data-trial="${r[0]}" cx="${cx}" cy="${cy}" r="3.5">${title(r)}</circle>`);
  }
  let stair = '';
  if (p.objectives.length === 2 && p.front.length > 0) {
    // Sorted from best to worst on x, the staircase steps along x at the current y, then to the
    // next point's y: every step corner is weakly dominated by the point before it.
    const pts = p.front.map((n) => byNumber.get(n)!).filter(Boolean);
    const sign = xo.direction === 'maximize' ? -1 : 1;
    pts.sort((a, b) => sign * (a[1 + xi] - b[1 + xi]));
    let d = '';
    pts.forEach((r, i) => {
      const px = x(r[1 + xi]).toFixed(1);
      const py = y(r[1 + yi]).toFixed(1);
      d += i === 0 ? `M${px},${py}` : `H${px}V${py}`;
    });
    stair = `<path class="front-line" data-testid="pareto-front-line" d="${d}"/>`;
  }
  // Rule marks: one ring per picked trial, its rules merged into one label; labels that would
  // overlap an earlier one move down a line.
  const marks: string[] = [];
  const labels = new Map<number, { rules: string[]; knee: boolean }>();
  if (p.knee !== null) labels.set(p.knee, { rules: ['knee'], knee: true });
  for (const pk of picks) {
    if (!('trial' in pk) || pk.rule === 'knee') continue;
    const l = labels.get(pk.trial) ?? { rules: [], knee: false };
    if (!l.rules.includes(pk.rule)) l.rules.push(pk.rule);
    labels.set(pk.trial, l);
  }
  const placed: { x0: number; x1: number; y: number }[] = [];
  for (const [n, l] of labels) {
    const r = byNumber.get(n);
    if (!r) continue;
    const cx = x(r[1 + xi]);
    const cy = y(r[1 + yi]);
    const text = `${l.rules.join(', ')} (#${n})`;
    const width = text.length * 6.2;
    const right = cx + 12 + width < f.width - f.right;
    const x0 = right ? cx + 12 : cx - 12 - width;
    let ty = cy - 10;
    while (placed.some((b) => b.x0 < x0 + width && x0 < b.x1 && Math.abs(b.y - ty) < 13)) ty += 13;
    placed.push({ x0, x1: x0 + width, y: ty });
    const cls = l.knee ? 'knee-mark' : 'pick-mark';
    marks.push(
      `<g class="${cls}" data-testid="${l.knee ? 'pareto-knee' : 'pareto-pick'}" data-trial="${n}"><circle cx="${cx.toFixed(1)}" cy="${cy.toFixed(1)}" r="9"/><text x="${(right ? cx + 12 : cx - 12).toFixed(1)}" y="${ty.toFixed(1)}" text-anchor="${right ? 'start' : 'end'}">${esc(text)}</text></g>`,
    );
  }
  if (selected !== null && byNumber.has(selected)) {
    const r = byNumber.get(selected)!;
    marks.push(`<circle class="selected-ring" cx="${x(r[1 + xi]).toFixed(1)}" cy="${y(r[1 + yi]).toFixed(1)}" r="8"/>`);
  }
  const arrow = (o: { direction: string }) => (o.direction === 'maximize' ? ' ↑' : ' ↓');
  const legend = `<g class="legend" transform="translate(${f.left + 2} 11)"><circle class="point" cx="4" cy="0" r="3.5"/><text x="12" y="0" dy="0.32em">dominated</text><circle class="front-point" cx="90" cy="0" r="5"/><text x="98" y="0" dy="0.32em">Pareto front (${p.front.length})</text></g>`;
  return svg(f, `${axes(f, x, y, xo.name + arrow(xo), yo.name + arrow(yo))}${stair}<g class="dominated">${dominated.join('')}</g><g class="front">${front.join('')}</g>${marks.join('')}${legend}`, 'pareto-chart', 'Pareto front');
}

export function intermediateChart(data: IntermediateData, metric: string, selected: number | null): string {
  const curves = data.curves.filter((c) => c.values[metric]);
  if (curves.length === 0) return empty('intermediate-empty', 'No trial reported intermediate values yet.');
  const f = frame();
  const steps: number[] = [];
  const vals: number[] = [];
  for (const c of curves) {
    steps.push(c.steps[0], c.steps[c.steps.length - 1]);
    for (const v of c.values[metric]) if (v !== null) vals.push(v);
  }
  const x = linearScale(extent(steps, 0.02), [f.left, f.width - f.right]);
  const y = linearScale(extent(vals), [f.height - f.bottom, f.top]);
  const byState = new Map<string, string[]>();
  let sel = '';
  for (const c of curves) {
    const vs = c.values[metric];
    let d = '';
    let pen = false;
    for (let i = 0; i < c.steps.length; i++) {
      const v = vs[i];
      if (v === null) {
        pen = false;
        continue;
      }
      d += `${pen ? 'L' : 'M'}${x(c.steps[i]).toFixed(1)},${y(v).toFixed(1)}`;
      pen = true;
    }
    if (c.steps.length === 1 && vs[0] !== null) d += 'h0.01';
    if (c.number === selected) sel = `<path class="selected-curve" data-testid="intermediate-selected" d="${d}"/>`;
    let list = byState.get(c.state);
    if (!list) byState.set(c.state, (list = []));
    list.push(d);
  }
  const paths = [...byState].map(([state, ds]) => `<path class="curves" data-state="${esc(state)}" stroke="${STATE_COLOURS[state] ?? '#888'}" d="${ds.join('')}"/>`).join('');
  const legend = [...byState.keys()].map((s, i) => `<g transform="translate(${f.left + 2 + i * 80} 11)"><line x1="0" x2="16" y1="0" y2="0" stroke="${STATE_COLOURS[s] ?? '#888'}" stroke-width="2"/><text x="20" y="0" dy="0.32em">${esc(s)}</text></g>`).join('');
  return svg(f, `${axes(f, x, y, 'step', metric)}${paths}${sel}<g class="legend">${legend}</g>`, 'intermediate-chart', `intermediate values of ${metric}`);
}

/** Parallel coordinates: one vertical axis per param and objective, one line per complete trial, coloured by `colourBy`. */
export function parallelChart(p: ParallelData, colourBy: number, selected: number | null): string {
  if (p.rows.length === 0 || p.axes.length === 0) return empty('parallel-empty', 'No complete trial yet.');
  const gap = 96;
  const f = { width: Math.max(560, 40 + gap * (p.axes.length - 1) + 80), height: 320, left: 50, right: 60, top: 34, bottom: 28 };
  const xs = p.axes.map((_, i) => f.left + (p.axes.length === 1 ? 0 : (i * (f.width - f.left - f.right)) / (p.axes.length - 1)));
  const y0 = f.height - f.bottom;
  const y1 = f.top;
  type Pos = (v: number | string | boolean | null) => number | null;
  const positions: Pos[] = [];
  const axisParts: string[] = [];
  p.axes.forEach((a, i) => {
    const ax = xs[i].toFixed(1);
    const ticks: string[] = [];
    let pos: Pos;
    if (a.scale === 'categorical') {
      const cats = a.categories ?? [];
      const idx = new Map(cats.map((c, k) => [c, k]));
      const at = (k: number) => (cats.length === 1 ? (y0 + y1) / 2 : y0 + (k * (y1 - y0)) / (cats.length - 1));
      pos = (v) => {
        if (v === null) return null;
        const k = idx.get(String(v));
        return k === undefined ? null : at(k);
      };
      cats.forEach((c, k) => ticks.push(`<text class="tick" x="${(xs[i] - 5).toFixed(1)}" y="${at(k).toFixed(1)}" dy="0.32em" text-anchor="end">${esc(c.length > 10 ? `${c.slice(0, 9)}…` : c)}</text>`));
    } else {
      const s: Scale = a.scale === 'log' ? logScale([a.min!, a.max!], [y0, y1]) : linearScale([a.min!, a.max!], [y0, y1]);
      pos = (v) => (typeof v === 'number' && Number.isFinite(v) && (!s.log || v > 0) ? s(v) : null);
      const t = s.ticks(4);
      for (const v of t.length > 6 ? t.filter((_, k) => k % 2 === 0) : t) ticks.push(`<text class="tick" x="${(xs[i] - 5).toFixed(1)}" y="${s(v).toFixed(1)}" dy="0.32em" text-anchor="end">${esc(fmt(v))}</text>`);
    }
    positions.push(pos);
    const title = a.kind === 'objective' ? `${a.name} ${a.direction === 'maximize' ? '↑' : '↓'}` : a.name;
    axisParts.push(`<g class="pc-axis${a.kind === 'objective' ? ' objective' : ''}" data-testid="parallel-axis" data-name="${esc(a.name)}"><line x1="${ax}" x2="${ax}" y1="${y1}" y2="${y0}"/>${ticks.join('')}<text class="axis-title" x="${ax}" y="${y1 - 12}" text-anchor="middle">${esc(title)}</text></g>`);
  });
  // Colour bins over the colouring axis, better = darker.
  const ca = p.axes[colourBy];
  const cvals = p.rows.map((r) => r[1 + colourBy]).filter((v): v is number => typeof v === 'number');
  const [lo, hi] = extent(cvals, 0);
  const bins: string[][] = RAMP.map(() => []);
  let sel = '';
  for (const r of p.rows) {
    let d = '';
    let pen = false;
    for (let i = 0; i < p.axes.length; i++) {
      const py = positions[i](r[1 + i]);
      if (py === null) {
        pen = false;
        continue;
      }
      d += `${pen ? 'L' : 'M'}${xs[i].toFixed(1)},${py.toFixed(1)}`;
      pen = true;
    }
    const v = r[1 + colourBy];
    let q = typeof v === 'number' && hi > lo ? (v - lo) / (hi - lo) : 0.5;
    if (ca?.direction === 'minimize') q = 1 - q;
    bins[Math.min(RAMP.length - 1, Math.max(0, Math.floor(q * RAMP.length)))].push(d);
    if (r[0] === selected) sel = `<path class="selected-curve" data-testid="parallel-selected" d="${d}"/>`;
  }
  const lines = bins.map((ds, k) => (ds.length ? `<path class="pc-lines" stroke="${RAMP[k]}" d="${ds.join('')}"/>` : '')).join('');
  return `<div class="scroll-x">${`<svg data-testid="parallel-chart" viewBox="0 0 ${f.width} ${f.height}" width="100%" style="min-width:${f.width}px" preserveAspectRatio="xMinYMid meet" role="img" aria-label="parallel coordinates">${lines}${sel}${axisParts.join('')}</svg>`}</div>`;
}
