import type { Objective } from '@segtune/core';

export interface PlotPoint {
  study: string;
  trial: number;
  x: number;
  y: number;
  front: boolean;
}

/**
 * A vega spec: every trial as a dot, each study's Pareto front as a step line in the study's
 * colour, axes titled with the direction that is better, so two searches compare at a glance.
 */
export function paretoPlotSpec(points: PlotPoint[], objectives: [Objective, Objective], title: string): Record<string, unknown> {
  const [ox, oy] = objectives;
  const arrow = (o: Objective) => `${o.name} (${o.direction === 'maximize' ? 'higher' : 'lower'} is better)`;
  // The front's staircase: between two front points the attainable region steps in the
  // direction that keeps it dominated; with x sorted ascending, step-after when y improves
  // downwards while x worsens, step-before otherwise.
  const interpolate = (ox.direction === 'minimize') === (oy.direction === 'minimize') ? 'step-after' : 'step-before';
  return {
    $schema: 'https://vega.github.io/schema/vega/v5.json',
    width: 560,
    height: 360,
    padding: 12,
    background: 'white',
    title: { text: title, fontSize: 14 },
    data: [
      { name: 'points', values: points },
      { name: 'front', source: 'points', transform: [{ type: 'filter', expr: 'datum.front' }, { type: 'collect', sort: { field: ['study', 'x'] } }] },
    ],
    scales: [
      { name: 'x', type: 'linear', domain: { data: 'points', field: 'x' }, range: 'width', nice: true, zero: false },
      { name: 'y', type: 'linear', domain: { data: 'points', field: 'y' }, range: 'height', nice: true, zero: false },
      { name: 'colour', type: 'ordinal', domain: { data: 'points', field: 'study' }, range: 'category' },
    ],
    axes: [
      { orient: 'bottom', scale: 'x', title: arrow(ox), grid: true, gridOpacity: 0.25 },
      { orient: 'left', scale: 'y', title: arrow(oy), grid: true, gridOpacity: 0.25 },
    ],
    legends: [{ fill: 'colour', stroke: 'colour', title: 'study', orient: 'top-right', symbolType: 'circle' }],
    marks: [
      {
        type: 'group',
        from: { facet: { name: 'study_front', data: 'front', groupby: 'study' } },
        marks: [
          {
            type: 'line',
            from: { data: 'study_front' },
            encode: {
              enter: {
                x: { scale: 'x', field: 'x' },
                y: { scale: 'y', field: 'y' },
                stroke: { scale: 'colour', field: 'study' },
                strokeWidth: { value: 2 },
                interpolate: { value: interpolate },
              },
            },
          },
        ],
      },
      {
        type: 'symbol',
        from: { data: 'points' },
        encode: {
          enter: {
            x: { scale: 'x', field: 'x' },
            y: { scale: 'y', field: 'y' },
            fill: { scale: 'colour', field: 'study' },
            fillOpacity: { signal: 'datum.front ? 1 : 0.3' },
            stroke: { signal: "datum.front ? 'black' : null" },
            strokeWidth: { value: 0.8 },
            size: { signal: 'datum.front ? 70 : 35' },
            tooltip: { signal: "datum.study + ' trial ' + datum.trial" },
          },
        },
      },
    ],
  };
}

/** Renders a vega spec to SVG and PNG (PNG through resvg, with the system fonts). */
export async function renderPlot(spec: Record<string, unknown>): Promise<{ svg: string; png: Buffer }> {
  const vega = await import('vega');
  const view = new vega.View(vega.parse(spec as never), { renderer: 'none' });
  const svg = await view.toSVG();
  view.finalize();
  const { Resvg } = await import('@resvg/resvg-js');
  const png = new Resvg(svg, { fitTo: { mode: 'zoom', value: 2 }, font: { loadSystemFonts: true } }).render().asPng();
  return { svg, png };
}
