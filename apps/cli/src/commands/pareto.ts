import { existsSync, mkdirSync, statSync } from 'node:fs';
import { writeOutput } from '../write-output';
import { dirname, resolve } from 'node:path';
import { UserError, pathInside, type StudyRecord, type Storage } from '@segtune/core';
import { didYouMean } from '@segtune/space';
import { openStorage } from '@segtune/storage';
import { defaultReferencePoint, lossVector, paretoSummary } from '@segtune/pareto';
import { paretoPlotSpec, renderPlot, type PlotPoint } from '../pareto-plot';
import { studyPoints, type TrialPoint } from '../study-points';
import { formatCell, textTable } from '../table';

export interface ParetoOptions {
  study: string[];
  storage?: string;
  out?: string;
  json?: boolean;
}

export interface StudyFront {
  record: StudyRecord;
  points: TrialPoint[];
  front: TrialPoint[];
  knee: TrialPoint | undefined;
  hypervolume: number;
}

export async function loadStudy(storage: Storage, name: string): Promise<StudyRecord> {
  const record = await storage.getStudy(name);
  if (record) return record;
  const names = (await storage.listStudies()).map((s) => s.name);
  throw new UserError(`--study: no study named "${name}" in ${storage.description}${didYouMean(name, names)}${names.length ? `; known: ${names.slice(0, 10).join(', ')}` : '; the storage holds no study'}`);
}

/** Each study's front, hypervolumes against one shared reference point so they compare. */
export async function computeFronts(storage: Storage, names: string[]): Promise<{ fronts: StudyFront[]; reference: number[] }> {
  const records = [];
  for (const n of names) records.push(await loadStudy(storage, n));
  const objectives = records[0].objectives;
  for (const r of records.slice(1)) {
    const same = r.objectives.length === objectives.length && r.objectives.every((o, i) => o.name === objectives[i].name && o.direction === objectives[i].direction);
    if (!same) throw new UserError(`--study: "${r.name}" has objectives ${fmtObjectives(r)}, "${records[0].name}" has ${fmtObjectives(records[0])}; fronts can only be compared on the same objectives`);
  }
  const pointsPer: TrialPoint[][] = [];
  for (const r of records) pointsPer.push(studyPoints(r, await storage.getTrials(r.id)));
  const all = pointsPer.flat();
  const reference = all.length ? defaultReferencePoint(all.map((p) => lossVector(objectives, p.values))) : [];
  const fronts = records.map((record, i) => {
    const points = pointsPer[i];
    const s = paretoSummary(points, objectives, { reference });
    return { record, points, front: s.front.map((k) => points[k]), knee: s.knee >= 0 ? points[s.knee] : undefined, hypervolume: s.hypervolume };
  });
  return { fronts, reference };
}

const fmtObjectives = (r: StudyRecord) => r.objectives.map((o) => `${o.name} ${o.direction}`).join(', ');

/** The text table of one study's front, sorted by the first objective. */
export function frontTable(f: StudyFront): string {
  const objectives = f.record.objectives;
  const params = [...new Set(f.front.flatMap((p) => Object.keys(p.trial.params)))];
  const rows = [...f.front]
    .sort((a, b) => a.values[0] - b.values[0])
    .map((p) => [p === f.knee ? `${p.trial.number}*` : p.trial.number, ...p.values, ...params.map((k) => (typeof p.trial.params[k] === 'number' ? (p.trial.params[k] as number) : String(p.trial.params[k] ?? '')))]);
  return textTable(['trial', ...objectives.map((o) => `${o.name} ${o.direction === 'maximize' ? '↑' : '↓'}`), ...params], rows);
}

/** Writes the plot as SVG and PNG; returns the two paths. */
export async function writeParetoPlot(fronts: StudyFront[], out: string): Promise<{ svg: string; png: string }> {
  const objectives = fronts[0].record.objectives;
  if (objectives.length < 2) throw new UserError(`a Pareto plot needs two objectives; "${fronts[0].record.name}" has one (${objectives[0].name})`);
  const points: PlotPoint[] = fronts.flatMap((f) => {
    const onFront = new Set(f.front.map((p) => p.trial.id));
    return f.points.map((p) => ({ study: f.record.name, trial: p.trial.number, x: p.values[0], y: p.values[1], front: onFront.has(p.trial.id) }));
  });
  const title = `Pareto front: ${fronts.map((f) => f.record.name).join(' vs ')}${objectives.length > 2 ? ` (first two of ${objectives.length} objectives)` : ''}`;
  const { svg, png } = await renderPlot(paretoPlotSpec(points, [objectives[0], objectives[1]], title));
  const svgPath = out.endsWith('.svg') ? out : `${out.replace(/\.png$/, '')}.svg`;
  const pngPath = svgPath.replace(/\.svg$/, '.png');
  writeOutput('--out', svgPath, svg);
  writeOutput('--out', pngPath, png);
  return { svg: svgPath, png: pngPath };
}

/** An output path whose folder must exist (a user's choice) or is ours to create (the default). */
export function outputPath(out: string | undefined, fallback: string, flag = '--out'): string {
  if (out === undefined) {
    mkdirSync(dirname(resolve(fallback)), { recursive: true });
    return resolve(fallback);
  }
  const full = resolve(out);
  const dir = dirname(full);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new UserError(`${flag}: folder ${dir} does not exist`);
  return full;
}

export async function runPareto(options: ParetoOptions, stdout: NodeJS.WritableStream = process.stdout): Promise<number> {
  if (!options.study?.length) throw new UserError('--study: name at least one study');
  const storage = await openStorage(options.storage, { readonly: true });
  try {
    const { fronts, reference } = await computeFronts(storage, options.study);
    const folder = fronts.map((f) => f.record.name).join('-vs-');
    const out = outputPath(options.out, pathInside('results', folder, 'pareto.svg'));
    const multi = fronts[0].record.objectives.length >= 2;
    const files = multi && fronts.some((f) => f.points.length) ? await writeParetoPlot(fronts, out) : undefined;
    if (options.json) {
      stdout.write(
        `${JSON.stringify(
          {
            reference_point: reference,
            plot: files ?? null,
            studies: fronts.map((f) => ({
              name: f.record.name,
              objectives: f.record.objectives,
              hypervolume: f.hypervolume,
              knee_trial: f.knee?.trial.number ?? null,
              front: f.front.map((p) => ({ number: p.trial.number, values: Object.fromEntries(f.record.objectives.map((o, i) => [o.name, p.values[i]])), params: p.trial.params })),
            })),
          },
          null,
          2,
        )}\n`,
      );
      return 0;
    }
    for (const f of fronts) {
      stdout.write(`\nstudy "${f.record.name}": ${f.front.length} of ${f.points.length} complete trials on the front; hypervolume ${formatCell(f.hypervolume)} (reference ${reference.map(formatCell).join(', ')} in loss space)${f.knee ? `; knee: trial ${f.knee.trial.number} (*)` : ''}\n`);
      if (f.front.length) stdout.write(`${frontTable(f)}\n`);
    }
    if (files) stdout.write(`\nplot: ${files.svg}\n      ${files.png}\n`);
    return 0;
  } finally {
    await storage.close();
  }
}
