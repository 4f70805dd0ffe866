import { UserError, type StudyRecord, type Trial } from '@segtune/core';
import { parseSpace, type Space } from '@segtune/space';
import { openStorage } from '@segtune/storage';
import { IMPORTANCE_METHODS, paramImportance, resolveTarget, spaceFromTrials, studyTargets, type ImportanceMethod, type ImportanceResult } from '@segtune/importance';
import { loadStudy, outputPath } from './pareto';
import { renderPlot } from '../pareto-plot';
import { writeOutput } from '../write-output';
import { textTable } from '../table';

export interface ImportanceCommandOptions {
  study: string;
  storage?: string;
  objective?: string;
  method?: string;
  seed?: number;
  json?: boolean;
  out?: string;
}

/** The study's space: the stored space file, or (a study driven by ask/tell) one read off its trials. */
export function studySpace(record: StudyRecord, trials: readonly Trial[]): Space {
  if (record.spaceSource) return parseSpace(record.spaceSource, `${record.name} (stored space)`).space;
  return spaceFromTrials(trials.map((t) => t.params));
}

export async function runImportance(options: ImportanceCommandOptions, stdout: NodeJS.WritableStream = process.stdout): Promise<number> {
  const method = (options.method ?? 'ped-anova') as ImportanceMethod;
  if (!IMPORTANCE_METHODS.includes(method)) throw new UserError(`--method: "${options.method}" is not allowed; allowed: ${IMPORTANCE_METHODS.join(', ')}`);
  const storage = await openStorage(options.storage, { readonly: true });
  let results: ImportanceResult[];
  let record: StudyRecord;
  try {
    record = await loadStudy(storage, options.study);
    const trials = await storage.getTrials(record.id);
    // Only complete trials count: a pruned trial's last report is at a lower budget, not comparable.
    const complete = trials.filter((t) => t.state === 'complete' && t.values);
    const targets = options.objective !== undefined ? [resolveTarget(record.objectives, options.objective)] : studyTargets(record.objectives);
    const space = studySpace(record, complete);
    const input = complete.map((t) => ({ params: t.params, values: t.values! }));
    results = targets.map((target) => paramImportance(space, record.objectives, input, target, { method, seed: options.seed ?? record.seed }));
  } finally {
    await storage.close();
  }
  const plot = options.out !== undefined ? await writeImportancePlot(record.name, results, outputPath(options.out, options.out)) : undefined;
  if (options.json) {
    stdout.write(`${JSON.stringify({ study: record.name, method, plot: plot ?? null, targets: results }, null, 2)}\n`);
    return 0;
  }
  for (const r of results) {
    stdout.write(`\nstudy "${record.name}", ${r.target === 'pareto' ? 'Pareto front (non-dominated rank)' : `objective ${r.target}`}: ${method}, ${r.trials} complete trials, ${Math.round(r.coverage * 100)}% intervals from ${r.resamples} ${method === 'fanova' ? 'tree resamples' : 'bootstrap resamples'}\n`);
    const pct = (v: number) => `${(100 * v).toFixed(1)}%`;
    stdout.write(`${textTable(['rank', 'param', 'importance', 'interval'], r.params.map((p, i) => [i + 1, p.name, pct(p.importance), `${pct(p.low)} – ${pct(p.high)}`]))}\n`);
  }
  if (plot) stdout.write(`\nplot: ${plot.svg}\n      ${plot.png}\n`);
  return 0;
}

/** Bars of importance with their intervals as error bars, one panel per target; SVG and PNG. */
async function writeImportancePlot(study: string, results: ImportanceResult[], out: string): Promise<{ svg: string; png: string }> {
  const rows = results.flatMap((r) => r.params.map((p) => ({ target: r.target, param: p.name, importance: p.importance, low: p.low, high: p.high })));
  const spec = {
    $schema: 'https://vega.github.io/schema/vega/v5.json',
    padding: 12,
    background: 'white',
    title: { text: `Parameter importance (${results[0].method}): ${study}`, fontSize: 14 },
    data: [{ name: 'rows', values: rows }],
    layout: { columns: 1, padding: 24 },
    marks: results.map((r, k) => ({
      type: 'group',
      title: { text: r.target === 'pareto' ? 'Pareto front' : r.target },
      encode: { enter: { width: { value: 480 }, height: { value: 22 * r.params.length } } },
      data: [{ name: `t${k}`, source: 'rows', transform: [{ type: 'filter', expr: `datum.target === ${JSON.stringify(r.target)}` }] }],
      scales: [
        { name: 'y', type: 'band', domain: r.params.map((p) => p.name), range: [0, 22 * r.params.length], padding: 0.2 },
        { name: 'x', type: 'linear', domain: [0, 1], range: [0, 480] },
      ],
      axes: [
        { orient: 'left', scale: 'y' },
        { orient: 'bottom', scale: 'x', format: '.0%', grid: true, gridOpacity: 0.25, title: 'importance (90% interval)' },
      ],
      marks: [
        { type: 'rect', from: { data: `t${k}` }, encode: { enter: { y: { scale: 'y', field: 'param' }, height: { scale: 'y', band: 1 }, x: { scale: 'x', value: 0 }, x2: { scale: 'x', field: 'importance' }, fill: { value: '#4c78a8' } } } },
        { type: 'rule', from: { data: `t${k}` }, encode: { enter: { y: { scale: 'y', field: 'param', band: 0.5 }, x: { scale: 'x', field: 'low' }, x2: { scale: 'x', field: 'high' }, stroke: { value: 'black' }, strokeWidth: { value: 1.5 } } } },
      ],
    })),
  };
  const { svg, png } = await renderPlot(spec);
  const svgPath = out.endsWith('.svg') ? out : `${out.replace(/\.png$/, '')}.svg`;
  const pngPath = svgPath.replace(/\.svg$/, '.png');
  writeOutput('--out', svgPath, svg);
  writeOutput('--out', pngPath, png);
  return { svg: svgPath, png: pngPath };
}
