import { bestTrials, constraintsOf, studyHeaderDocument, trialDocument, type StudyRecord, type Trial } from '@segtune/core';
import { formatDuration } from './duration';
import { formatCell, textTable } from './table';



/** The whole study as one JSON document (`--json`). */
export function studyDocument(record: StudyRecord, trials: Trial[]) {
  const best = bestTrials(record.objectives, trials, constraintsOf(record));
  const single = record.objectives.length === 1;
  return {
    ...studyHeaderDocument(record),
    counts: countStates(trials),
    best_trial: single ? (best[0] ? trialDocument(record, best[0]) : null) : undefined,
    pareto_front: single ? undefined : best.map((t) => trialDocument(record, t)),
    trials: trials.map((t) => trialDocument(record, t)),
  };
}

export function countStates(trials: readonly Trial[]): Record<Trial['state'], number> {
  const c = { waiting: 0, running: 0, complete: 0, pruned: 0, failed: 0 };
  for (const t of trials) c[t.state]++;
  return c;
}

/** The summary printed at the end of a search and by `segtune status --study`. */
export function summaryText(record: StudyRecord, trials: Trial[], elapsedMs?: number): string {
  const counts = countStates(trials);
  const lines: string[] = [];
  const head = `study "${record.name}": ${trials.length} trials (${counts.complete} complete, ${counts.pruned} pruned, ${counts.failed} failed${counts.running ? `, ${counts.running} running` : ''}${counts.waiting ? `, ${counts.waiting} waiting` : ''})`;
  lines.push(elapsedMs === undefined ? head : `${head} in ${formatDuration(elapsedMs)}`);
  const best = bestTrials(record.objectives, trials, constraintsOf(record));
  if (best.length === 0) {
    lines.push('no complete trial yet');
    return lines.join('\n');
  }
  const objectives = record.objectives;
  if (objectives.length === 1) {
    const t = best[0];
    const o = objectives[0];
    lines.push(`best: trial ${t.number}, ${o.name} = ${formatCell(t.values![0])} (${o.direction})`);
    lines.push(textTable(['param', 'value'], Object.entries(t.params).map(([k, v]) => [k, typeof v === 'number' ? v : String(v)])));
  } else {
    lines.push(`Pareto front: ${best.length} trial${best.length === 1 ? '' : 's'} (${objectives.map((o) => `${o.name} ${o.direction === 'maximize' ? '↑' : '↓'}`).join(', ')})`);
    const paramNames = [...new Set(best.flatMap((t) => Object.keys(t.params)))];
    const sorted = [...best].sort((a, b) => a.values![0] - b.values![0]);
    lines.push(
      textTable(
        ['trial', ...objectives.map((o) => o.name), ...paramNames],
        sorted.map((t) => [t.number, ...t.values!, ...paramNames.map((p) => (t.params[p] === undefined ? '' : typeof t.params[p] === 'number' ? (t.params[p] as number) : String(t.params[p])))]),
      ),
    );
  }
  const reasons = new Map<string, number>();
  for (const t of trials) if (t.state === 'failed') reasons.set(String(t.attrs.reason ?? 'error'), (reasons.get(String(t.attrs.reason ?? 'error')) ?? 0) + 1);
  if (reasons.size) lines.push(`failures: ${[...reasons].map(([r, n]) => `${n} ${r}`).join(', ')}`);
  return lines.join('\n');
}
