// Runs a session the way both `search` and `worker` do on a terminal: a progress line, Ctrl-C
// handling (first stops starting trials, second stops running ones: exit 130), and the exit
// code and one-line reason of a run that failed.
import { runSession, type RunSessionOptions, type Session, type SessionResult } from '@segtune/core';
import { Progress } from './progress';
import { handleInterrupts } from './interrupts';
import { runOutcome } from './run-outcome';

export interface CliSessionOptions extends Omit<RunSessionOptions, 'onTrialFinished' | 'onError' | 'onNote'> {
  /** Where the progress line and messages go. */
  stderr: NodeJS.WriteStream;
  /** Show the progress line (not with --json or --quiet). */
  show: boolean;
  /** Listen for SIGINT/SIGTERM (default true). */
  listen?: boolean;
  /** `--max-failures`, for the failure message. */
  maxFailures?: number;
  /** Trials of the study before this run, so the progress line counts from them. */
  before?: Parameters<Progress['preload']>[0];
  /** Handed the progress line once it exists (trackers' warnings go through it). */
  onProgress?(progress: Progress): void;
}

export interface CliSessionResult extends SessionResult {
  exitCode: number;
  /** Ctrl-C signals received. */
  interrupted: number;
  /** Where the caller may add a message to the progress output. */
  progress: Progress;
}

export async function runCliSession(session: Session, o: CliSessionOptions): Promise<CliSessionResult> {
  const progress = new Progress(session.record.objectives, o.maxTrials, o.stderr, o.show);
  if (o.before) progress.preload(o.before);
  o.onProgress?.(progress);
  const interrupts = handleInterrupts((m) => progress.message(m), { listen: o.listen ?? true });
  let result: SessionResult;
  try {
    result = await runSession(session, {
      ...o,
      stopSignal: o.stopSignal ? AbortSignal.any([interrupts.stop, o.stopSignal]) : interrupts.stop,
      abortSignal: o.abortSignal ? AbortSignal.any([interrupts.abort, o.abortSignal]) : interrupts.abort,
      shared: o.shared && { ...o.shared, onRecovered: (r) => progress.message(`recovered ${r.failed.map((t) => `#${t.number}`).join(', ')} (stale)${r.requeued.length ? `; rerun as ${r.requeued.map((t) => `#${t.number}`).join(', ')}` : ''}`) },
      onTrialFinished: (t) => progress.finished(t),
      onError: (e) => progress.message(`error: ${e.message}`),
      onNote: (m) => progress.message(m.startsWith('warning:') ? m : `note: ${m}`),
    });
  } finally {
    interrupts.dispose();
    progress.stop();
  }
  const outcome = runOutcome(result.finished, result.stoppedBy, o.maxFailures);
  if (outcome.message && interrupts.count === 0) o.stderr.write(`segtune: ${outcome.message}\n`);
  return { ...result, exitCode: interrupts.count > 0 ? 130 : outcome.exitCode, interrupted: interrupts.count, progress };
}
