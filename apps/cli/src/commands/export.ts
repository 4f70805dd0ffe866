import { readFileSync } from 'node:fs';
import { writeOutput } from '../write-output';
import { dirname, join, resolve } from 'node:path';
import { stringify, parse } from 'yaml';
import { UserError, pathInside, type StudyRecord, type Trial } from '@segtune/core';
import { parseSpace, type Params } from '@segtune/space';
import { openStorage } from '@segtune/storage';
import { pick } from '@segtune/pareto';
import { studyPoints } from '../study-points';
import { loadStudy, outputPath } from './pareto';
import { VERSION } from '../version';

export interface ExportOptions {
  study: string;
  storage?: string;
  pick?: string;
  /** `--trial N`: this complete trial instead of a pick rule (e.g. one chosen from `pareto`). */
  trial?: number;
  format?: 'yaml' | 'json';
  out?: string;
  withModel?: boolean;
  /** With withModel: train the configuration again instead of exporting the trial's own weights. */
  retrain?: boolean;
  backend?: string;
}

/** What an export file holds: the configuration in the space's own param names, and its origin. */
export interface ExportDocument {
  segtune_version: string;
  study: string;
  trial: number;
  pick: string;
  reason: string;
  objectives: Record<string, number>;
  metrics: Record<string, number>;
  params: Params;
  exported_at: string;
  model?: string;
}

export function chooseTrial(record: StudyRecord, trials: Trial[], rule?: string): { trial: Trial; rule: string; reason: string } {
  const points = studyPoints(record, trials, []);
  const text = rule ?? (record.objectives.length === 1 ? 'best' : 'knee');
  if (points.length === 0) throw new UserError(`study "${record.name}" has no complete trial to export`);
  const r = pick(points, record.objectives, text);
  return { trial: r.point.trial, rule: text, reason: r.reason };
}

/** The trial `--trial N` names; it must be complete, with every objective's value. */
function namedTrial(record: StudyRecord, trials: Trial[], n: number): { trial: Trial; rule: string; reason: string } {
  const trial = trials.find((t) => t.number === n);
  if (!trial) throw new UserError(`--trial: study "${record.name}" has no trial ${n}${trials.length ? ` (trials 0 to ${Math.max(...trials.map((t) => t.number))})` : ''}`);
  if (trial.state !== 'complete' || !trial.values || trial.values.length !== record.objectives.length) throw new UserError(`--trial: trial ${n} of study "${record.name}" is ${trial.state}, not complete; only complete trials are exported`);
  return { trial, rule: `trial:${n}`, reason: `trial ${n}, chosen with --trial` };
}

export function exportDocument(record: StudyRecord, trial: Trial, rule: string, reason: string): ExportDocument {
  return {
    segtune_version: VERSION,
    study: record.name,
    trial: trial.number,
    pick: rule,
    reason,
    objectives: Object.fromEntries(record.objectives.map((o, i) => [o.name, trial.values![i]])),
    metrics: trial.metrics ?? {},
    params: trial.params,
    exported_at: new Date().toISOString(),
  };
}

export function formatExport(doc: ExportDocument, format: 'yaml' | 'json'): string {
  return format === 'json' ? `${JSON.stringify(doc, null, 2)}\n` : `# segtune export: study ${doc.study}, trial ${doc.trial} (${doc.pick})\n${stringify(doc)}`;
}

/** Reads an export file (YAML or JSON) back into its params, e.g. to enqueue them. */
export function readExportParams(file: string): Params {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new UserError(`--enqueue: cannot read ${file}`);
  }
  const doc = parse(text) as { params?: Params } | null;
  if (!doc || typeof doc !== 'object' || !doc.params || typeof doc.params !== 'object') throw new UserError(`--enqueue: ${file} has no "params" mapping (expected a segtune export)`);
  return doc.params;
}

export async function runExport(options: ExportOptions, stdout: NodeJS.WritableStream = process.stdout): Promise<number> {
  const format = options.format ?? (options.out?.endsWith('.json') ? 'json' : 'yaml');
  if (format !== 'yaml' && format !== 'json') throw new UserError(`--format: "${format}" is not allowed; allowed: yaml, json`);
  const storage = await openStorage(options.storage, { readonly: true });
  try {
    const record = await loadStudy(storage, options.study);
    const trials = await storage.getTrials(record.id);
    if (options.trial !== undefined && options.pick !== undefined) throw new UserError('export: give --trial N or --pick RULE, not both');
    const { trial, rule, reason } = options.trial !== undefined ? namedTrial(record, trials, options.trial) : chooseTrial(record, trials, options.pick);
    const doc = exportDocument(record, trial, rule, reason);
    const out = outputPath(options.out, pathInside('results', record.name, `export-trial-${trial.number}.${format}`));
    if (options.withModel) {
      if (!record.spaceSource) throw new UserError(`study "${record.name}" has no stored space file; --with-model needs it`);
      const { spec } = parseSpace(record.spaceSource, `${record.name} (stored space)`);
      if (spec.workload.kind !== 'segmentation') throw new UserError(`--with-model needs a segmentation workload; study "${record.name}" runs "${spec.workload.kind}"`);
      const seg = await import('@segtune/seg');
      const modelDir = join(dirname(out), `model-trial-${trial.number}`);
      const spaceFile = typeof record.attrs.space_file === 'string' ? record.attrs.space_file : undefined;
      const spaceDir = spaceFile ? dirname(resolve(spaceFile)) : undefined;
      if (options.retrain) {
        stdout.write(`training trial ${trial.number}'s configuration again at full budget (${spec.budget?.max ?? 'default'} ${spec.budget?.name ?? 'epochs'})…\n`);
        const trained = await seg.trainFinal({
          params: trial.params,
          spec: spec.workload,
          outDir: modelDir,
          epochs: spec.budget?.max,
          backend: options.backend,
          seed: record.seed,
          spaceDir,
          onEpoch: (e) => stdout.write(`  epoch ${e.epoch}: ${Object.entries(e).filter(([k, v]) => k !== 'epoch' && typeof v === 'number').map(([k, v]) => `${k} ${(v as number).toFixed(4)}`).join(', ')}\n`),
        });
        doc.metrics = { ...doc.metrics, ...Object.fromEntries(Object.entries(trained.metrics ?? {}).map(([k, v]) => [`final_${k}`, v as number])) };
      } else {
        const steps = Object.keys(trial.intermediate).map(Number);
        const epoch = steps.length ? Math.max(...steps) : (spec.budget?.max ?? 0);
        const dir = typeof trial.attrs.checkpoint_dir === 'string' ? trial.attrs.checkpoint_dir : resolve('results', record.name, `trial-${trial.number}`);
        const exported = await seg.exportTrialModel({
          params: trial.params,
          spec: spec.workload,
          checkpointDir: dir,
          epoch,
          outDir: modelDir,
          backend: options.backend,
          spaceDir,
          expectMiou: typeof trial.metrics?.miou === 'number' ? trial.metrics.miou : undefined,
          extra: { study: record.name, trial: trial.number },
        });
        stdout.write(`exported the weights trial ${trial.number} trained (epoch ${epoch}, from ${dir}): mIoU ${exported.metrics.miou.toFixed(6)}, as in the study\n`);
        doc.metrics = { ...doc.metrics, model_miou: exported.metrics.miou };
      }
      doc.model = modelDir;
    }
    writeOutput('--out', out, formatExport(doc, format));
    stdout.write(`exported trial ${trial.number} of "${record.name}" (${reason}) to ${resolve(out)}${doc.model ? `\nmodel: ${doc.model}/model.json` : ''}\n`);
    return 0;
  } finally {
    await storage.close();
  }
}
