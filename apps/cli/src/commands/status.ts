import { UserError } from '@segtune/core';
import { didYouMean } from '@segtune/space';
import { openStorage } from '@segtune/storage';
import { countStates, studyDocument, summaryText } from '../study-report';
import { textTable } from '../table';
import { bestTrials, constraintsOf } from '@segtune/core';

export interface StatusOptions {
  storage?: string;
  study?: string;
  json?: boolean;
}

/** `segtune status`: every study in a storage, or one study's summary. */
export async function runStatus(options: StatusOptions, out: NodeJS.WritableStream = process.stdout): Promise<number> {
  const storage = await openStorage(options.storage, { readonly: true });
  try {
    const studies = await storage.listStudies();
    if (options.study) {
      const record = studies.find((s) => s.name === options.study);
      if (!record) {
        const names = studies.map((s) => s.name);
        throw new UserError(`--study: no study named "${options.study}" in ${storage.description}${didYouMean(options.study, names)}${names.length ? `; known: ${names.slice(0, 10).join(', ')}` : ''}`);
      }
      const trials = await storage.getTrials(record.id);
      const stopped = stoppedByLine(record.attrs.stopped_by);
      out.write(options.json ? `${JSON.stringify({ ...studyDocument(record, trials), ...(record.attrs.stopped_by ? { stopped_by: record.attrs.stopped_by } : {}) }, null, 2)}\n` : `${summaryText(record, trials)}\n${stopped ? `${stopped}\n` : ''}`);
      return 0;
    }
    const rows = [];
    const docs = [];
    for (const s of studies) {
      const trials = await storage.getTrials(s.id);
      const c = countStates(trials);
      const best = bestTrials(s.objectives, trials, constraintsOf(s));
      if (options.json) docs.push({ name: s.name, objectives: s.objectives, counts: c, created_at: new Date(s.createdAt).toISOString() });
      rows.push([
        s.name,
        trials.length,
        c.complete,
        c.pruned,
        c.failed,
        c.running,
        s.objectives.map((o) => `${o.name} ${o.direction === 'maximize' ? 'max' : 'min'}`).join(', '),
        s.objectives.length === 1 ? (best[0] ? best[0].values![0] : '') : `${best.length} on front`,
        new Date(s.createdAt).toISOString().slice(0, 19).replace('T', ' '),
      ]);
    }
    if (options.json) out.write(`${JSON.stringify({ studies: docs }, null, 2)}\n`);
    else if (rows.length === 0) out.write(`no studies in ${storage.description}\n`);
    else out.write(`${textTable(['study', 'trials', 'complete', 'pruned', 'failed', 'running', 'objectives', 'best', 'created'], rows)}\n`);
    return 0;
  } finally {
    await storage.close();
  }
}

/** `stopped by patience:50 after trial #83: no improvement …`, from the study's `stopped_by` attr. */
function stoppedByLine(v: unknown): string | undefined {
  if (!v || typeof v !== 'object') return undefined;
  const s = v as { reason?: string; rule?: string; detail?: string; trial?: number; at?: string };
  const what = s.rule ? `${s.rule}${s.trial !== undefined ? ` after trial #${s.trial}` : ''}: ${s.detail}` : s.reason === 'trials' ? 'its trial limit' : s.reason;
  return `stopped by ${what}${s.at ? ` (${s.at.slice(0, 19).replace('T', ' ')})` : ''}`;
}
