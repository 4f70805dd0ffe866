// The importance panel's charts: bars with their intervals, a slice per most important param,
// and the contour (binned mean) of the target over the two. Pure functions to SVG text.
import type { ImportanceView } from '../page-data';
import { RAMP, axes, esc, extent, fmt, frame, linearScale, svg } from './svg';

const empty = (testid: string, text: string) => `<p class="empty" data-testid="${testid}">${esc(text)}</p>`;

export function importanceBars(v: ImportanceView): string {
  if (!v.result) return empty('importance-empty', v.error ?? 'No importance yet.');
  const rows = v.result.params;
  const left = 120;
  const width = 560;
  const rowH = 22;
  const top = 8;
  const height = top + rows.length * rowH + 34;
  const x = (u: number) => left + Math.max(0, Math.min(1, u)) * (width - left - 20);
  const ticks = [0, 0.25, 0.5, 0.75, 1]
    .map((t) => `<line class="grid" x1="${x(t)}" x2="${x(t)}" y1="${top}" y2="${top + rows.length * rowH}"/><text class="tick" x="${x(t)}" y="${top + rows.length * rowH + 14}" text-anchor="middle">${t * 100}%</text>`)
    .join('');
  const bars = rows
    .map((p, i) => {
      const y = top + i * rowH;
      const pct = (u: number) => `${(100 * u).toFixed(1)}%`;
      return (
        `<g data-testid="importance-row" data-param="${esc(p.name)}"><text class="tick" x="${left - 6}" y="${y + rowH / 2}" dy="0.32em" text-anchor="end">${esc(p.name)}</text>` +
        `<rect class="importance-bar" x="${x(0)}" y="${y + 4}" width="${(x(p.importance) - x(0)).toFixed(1)}" height="${rowH - 8}"><title>${esc(p.name)}: ${pct(p.importance)} (${Math.round(v.result!.coverage * 100)}% interval ${pct(p.low)} – ${pct(p.high)})</title></rect>` +
        `<line class="importance-interval" x1="${x(p.low).toFixed(1)}" x2="${x(p.high).toFixed(1)}" y1="${y + rowH / 2}" y2="${y + rowH / 2}"/></g>`
      );
    })
    .join('');
  const caption = `<text class="axis-title" x="${(left + width) / 2}" y="${height - 6}" text-anchor="middle">importance for ${esc(v.label)} (${esc(v.method)}, ${v.result.trials} trials, bars: ${Math.round(v.result.coverage * 100)}% intervals)</text>`;
  return svg({ width, height, left, right: 20, top, bottom: 34 }, ticks + bars + caption, 'importance-chart', `parameter importance for ${v.label}`);
}

/** The target against one param's value (categories spread over their positions). */
export function sliceChart(v: ImportanceView, k: number): string {
  const s = v.slices[k];
  if (!s) return '';
  const f = frame(280, 220);
  const categorical = s.points.some((p) => typeof p[0] !== 'number');
  const cats = categorical ? [...new Set(s.points.map((p) => String(p[0])))] : [];
  const xv = (p: [number | string | boolean, number]) => (categorical ? cats.indexOf(String(p[0])) : (p[0] as number));
  const x = linearScale(categorical ? [-0.5, cats.length - 0.5] : extent(s.points.map(xv)), [f.left, f.width - f.right]);
  const y = linearScale(extent(s.points.map((p) => p[1])), [f.height - f.bottom, f.top]);
  const dots = s.points.map((p) => `<circle class="dot" cx="${x(xv(p)).toFixed(1)}" cy="${y(p[1]).toFixed(1)}" r="2.5"/>`).join('');
  const catTicks = categorical ? cats.map((c, i) => `<text class="tick" x="${x(i).toFixed(1)}" y="${f.height - f.bottom + 28}" text-anchor="middle">${esc(c)}</text>`).join('') : '';
  return svg(f, `${axes(f, x, y, s.param, v.label)}${catTicks}${dots}`, `importance-slice-${k}`, `slice of ${v.label} over ${s.param}`);
}

/** The binned mean of the target over the two most important params, on their unit-cube coordinates. */
export function contourChart(v: ImportanceView, higherIsBetter: boolean): string {
  const c = v.contour;
  if (!c) return '';
  const f = frame(280, 220);
  const w = (f.width - f.left - f.right) / c.bins;
  const h = (f.height - f.top - f.bottom) / c.bins;
  const all = c.cells.flat().filter((x): x is number => x !== null);
  const [lo, hi] = extent(all, 0);
  const colour = (val: number) => {
    const t = hi > lo ? (val - lo) / (hi - lo) : 0.5;
    // Dark is better whichever way the target goes.
    const u = higherIsBetter ? t : 1 - t;
    return RAMP[Math.min(RAMP.length - 1, Math.floor(u * RAMP.length))];
  };
  const cells: string[] = [];
  c.cells.forEach((row, r) =>
    row.forEach((val, col) => {
      if (val === null) return;
      cells.push(`<rect x="${(f.left + col * w).toFixed(1)}" y="${(f.height - f.bottom - (r + 1) * h).toFixed(1)}" width="${(w + 0.5).toFixed(1)}" height="${(h + 0.5).toFixed(1)}" fill="${colour(val)}"><title>${esc(v.label)} ${esc(fmt(val))}</title></rect>`);
    }),
  );
  const x = linearScale([0, 1], [f.left, f.width - f.right]);
  const y = linearScale([0, 1], [f.height - f.bottom, f.top]);
  return svg(f, `${cells.join('')}${axes(f, x, y, `${c.x} (low → high)`, `${c.y} (low → high)`)}`, 'importance-contour', `${v.label} over ${c.x} and ${c.y}`);
}
