import { setTimeout as sleep } from 'node:timers/promises';
import type { Trial } from './trial';
import type { StaleRecovery, StudyHandle } from './stale-recovery';

export interface SettleOptions {
  /** The stale-trial grace period: a dead worker's trial is recovered within it. */
  graceMs: number;
  /** One recovery pass (the worker's sweeper, so that it counts what it recovers). */
  sweep(): Promise<StaleRecovery>;
  /** How often to look again; default a quarter of the grace, at most 500 ms. */
  pollMs?: number;
  /** Stop waiting (Ctrl-C). */
  signal?: AbortSignal;
}

/**
 * Called by a worker that reached the study's limit, before it exits: it may be the last one,
 * and then nobody else would recover a dead worker's trial. It sweeps until no trial runs, or
 * for at most the grace period (plus a poll) — by then a dead worker's trial has gone stale and
 * is failed; one still heartbeating after that belongs to a live worker that will finish it.
 * Returns the trials still running when it stopped waiting.
 */
export async function settleRunningTrials(study: StudyHandle, options: SettleOptions): Promise<Trial[]> {
  const poll = options.pollMs ?? Math.max(20, Math.min(500, Math.floor(options.graceMs / 4)));
  const until = Date.now() + options.graceMs + poll;
  for (;;) {
    await options.sweep().catch(() => undefined);
    const running = await study.storage.getTrials(study.id, { states: ['running'] });
    if (running.length === 0 || Date.now() >= until || options.signal?.aborted) return running;
    await sleep(poll, undefined, { signal: options.signal }).catch(() => undefined);
  }
}
