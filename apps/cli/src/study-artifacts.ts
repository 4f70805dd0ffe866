import { mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { studyOutputDir, type Storage, type StudyRecord } from '@segtune/core';
import { maskUrl } from '@segtune/storage';
import { chooseTrial, exportDocument, formatExport } from './commands/export';
import { computeFronts, writeParetoPlot } from './commands/pareto';
import type { RunResources } from './run-resources';

/**
 * What a finished search leaves in results/<study>/: the exported best configuration (the knee
 * for several objectives) and, for several objectives, the Pareto plot as SVG and PNG.
 */
export async function writeStudyArtifacts(storage: Storage, record: StudyRecord): Promise<string[]> {
  const dir = studyOutputDir(record.name);
  mkdirSync(dir, { recursive: true });
  const files: string[] = [];
  if (record.objectives.length >= 2) {
    const { fronts } = await computeFronts(storage, [record.name]);
    const plot = await writeParetoPlot(fronts, resolve(dir, 'pareto.svg'));
    files.push(plot.svg, plot.png);
  }
  const trials = await storage.getTrials(record.id);
  const { trial, rule, reason } = chooseTrial(record, trials);
  const file = resolve(dir, `export-${rule}.yaml`);
  writeFileSync(file, formatExport(exportDocument(record, trial, rule, reason), 'yaml'));
  files.push(file);
  return files;
}

/** One line per tracker: where its run is, or that the server is not answering yet. */
export async function printRunUrls(res: RunResources, say: (line: string) => void): Promise<void> {
  for (const t of res.trackers) {
    const url = await t.runUrl?.(15_000).catch(() => undefined);
    say(url ? `mlflow: ${url}` : `mlflow: ${maskUrl(res.mlflowUri ?? '')} is not answering yet; tracking events wait in the outbox`);
  }
}
