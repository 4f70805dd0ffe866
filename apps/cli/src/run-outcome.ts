import type { StopReason, Trial } from '@segtune/core';

/** The most common failure reasons among trials: `error ×5 (first message), oom ×2 (…)`. */
export function failureSummary(trials: readonly Trial[], top = 3): string {
  const byReason = new Map<string, { n: number; example: string }>();
  for (const t of trials) {
    if (t.state !== 'failed') continue;
    const reason = typeof t.attrs.reason === 'string' ? t.attrs.reason : 'unknown';
    const entry = byReason.get(reason) ?? { n: 0, example: typeof t.attrs.error === 'string' ? t.attrs.error : '' };
    entry.n++;
    byReason.set(reason, entry);
  }
  const ranked = [...byReason.entries()].sort((a, b) => b[1].n - a[1].n).slice(0, top);
  if (!ranked.length) return 'none failed';
  return ranked.map(([reason, { n, example }]) => `${reason} ×${n}${example ? ` (${example.length > 120 ? `${example.slice(0, 117)}...` : example})` : ''}`).join(', ');
}

/**
 * How a search or worker run ends: exit 1 when it stopped on `--max-failures`, or when it
 * finished trials and none of them completed (a workload that fails every time must not look
 * like success); 0 otherwise. The message is one line, with the top failure reasons.
 */
export function runOutcome(finished: readonly Trial[], stoppedBy: StopReason, maxFailures?: number): { exitCode: 0 | 1; message?: string } {
  if (stoppedBy === 'failures') {
    return { exitCode: 1, message: `stopped after ${maxFailures ?? 'too many'} failed trials in a row (--max-failures); reasons: ${failureSummary(finished)}` };
  }
  if (finished.length > 0 && !finished.some((t) => t.state === 'complete')) {
    return { exitCode: 1, message: `no trial completed (${finished.length} finished); reasons: ${failureSummary(finished)}` };
  }
  return { exitCode: 0 };
}
