import { isPruned } from '@segtune/core';

/** Why the executor stopped a trial from outside: the per-trial time limit or the user. */
export type AbortReason = 'timeout' | 'interrupted';

/** The reason an aborted trial's `ctx.signal` carries; its `reason` becomes the failure code. */
export class TrialAbort extends Error {
  constructor(
    readonly reason: AbortReason,
    message: string,
  ) {
    super(message);
    this.name = 'TrialAbort';
  }
}

/**
 * A workload's failure with its own reason code (`no-result`, `non-finite`), kept as the
 * trial's reason instead of the generic `error`.
 */
export class TrialFailure extends Error {
  constructor(
    readonly reason: string,
    message: string,
  ) {
    super(message);
    this.name = 'TrialFailure';
  }
}

function isTrialFailure(e: unknown): e is TrialFailure {
  return e instanceof Error && e.name === 'TrialFailure' && typeof (e as { reason?: unknown }).reason === 'string';
}

// Messages by which V8, tfjs (CPU, wasm, WebGL, CUDA), TensorFlow and PyTorch say memory ran out.
const OOM = /out of memory|\bOOM\b|CUDA_ERROR_OUT_OF_MEMORY|failed to allocate|ResourceExhausted|Array buffer allocation failed|heap limit|allocation failed/i;

export function isOomMessage(text: string): boolean {
  return OOM.test(text);
}

/** One line (the first non-blank one), at most 500 characters. */
export function oneLine(text: string): string {
  const line = text.split('\n').find((l) => l.trim()) ?? text;
  return line.length > 500 ? `${line.slice(0, 497)}...` : line;
}

/** `Name: message` for errors, `String(x)` for anything else thrown. */
export function describeError(e: unknown): string {
  if (e instanceof Error) {
    const prefix = e.name && e.name !== 'Error' ? `${e.name}: ` : '';
    return `${prefix}${e.message}`;
  }
  if (typeof e === 'object' && e !== null && 'message' in e) return String((e as { message: unknown }).message);
  return String(e);
}

export type Failure = { state: 'pruned'; step?: number } | { state: 'failed'; reason: string; error: string };

/**
 * Classifies what a workload threw. An abort wins over the error itself, since workloads
 * usually surface an abort as some AbortError of their own.
 */
export function classifyFailure(e: unknown, state: { stopped: boolean; stopStep?: number; signal: AbortSignal }): Failure {
  if (state.stopped) return { state: 'pruned', step: state.stopStep };
  if (isPruned(e)) return { state: 'pruned', step: (e as { step?: number }).step };
  if (state.signal.aborted) {
    const why = state.signal.reason;
    if (why instanceof TrialAbort) return { state: 'failed', reason: why.reason, error: why.message };
    return { state: 'failed', reason: 'interrupted', error: describeError(why) };
  }
  if (isTrialFailure(e)) return { state: 'failed', reason: e.reason, error: oneLine(e.message) };
  const text = describeError(e);
  if (isOomMessage(text)) return { state: 'failed', reason: 'oom', error: oneLine(text) };
  return { state: 'failed', reason: 'error', error: oneLine(text) };
}

export function formatMs(ms: number): string {
  return ms >= 1000 && ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}
