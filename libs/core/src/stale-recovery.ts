import { endLeftoverCommands, failDeadLocalTrials } from './recovery';
import type { Storage } from './storage';
import type { Trial } from './trial';

export interface StaleRecoveryOptions {
  /** A running trial whose heartbeat is older than this is failed (reason `stale`). */
  graceMs: number;
  /** Enqueue a stale trial's configuration again, at most this many times per lineage (0: never). */
  retryFailed?: number;
}

export interface StaleRecovery {
  /** Trials this call failed as stale. */
  failed: Trial[];
  /** The waiting trials it enqueued to rerun them (`retry_of`, `retries` in attrs). */
  requeued: Trial[];
}

/** What the sweep needs: a Study (`study.storage`, `study.id`) or `{ storage, id }`. */
export interface StudyHandle {
  readonly storage: Storage;
  readonly id: number;
}

/**
 * Fails the study's running trials whose process died on this machine, and those whose worker
 * stopped sending heartbeats (for `graceMs`), and, with
 * `retryFailed`, enqueues each one's configuration again. Works for ask-and-tell users as well as
 * for the controller: call it from any process, at any time, as often as you like. The storage
 * fails each stale trial for exactly one caller (the one that gets it back), so concurrent
 * sweepers never enqueue the same retry twice.
 */
export async function recoverStaleTrials(study: StudyHandle, options: StaleRecoveryOptions): Promise<StaleRecovery> {
  const seconds = options.graceMs >= 1000 ? `${Math.round(options.graceMs / 1000)} s` : `${Math.round(options.graceMs)} ms`;
  // On this machine a dead pid says at once what a missing heartbeat says only after the grace.
  const dead = await failDeadLocalTrials(study.storage, study.id);
  const stale = await study.storage.failStaleTrials(study.id, options.graceMs, 'stale', `no heartbeat for ${seconds}: its worker stopped or lost the storage`);
  // A command that outlived its worker on this host would hold its GPU while the rerun starts.
  endLeftoverCommands(stale);
  const failed = [...dead, ...stale];
  const requeued: Trial[] = [];
  const limit = options.retryFailed ?? 0;
  for (const t of failed) {
    const retries = (typeof t.attrs.retries === 'number' ? t.attrs.retries : 0) + 1;
    // A trial that went stale before its sampler chose params has nothing to rerun.
    if (retries > limit || Object.keys(t.params).length === 0) continue;
    const again = await study.storage.createTrial(study.id, { state: 'waiting', params: t.params, attrs: { enqueued: true, retry_of: t.number, retries } });
    if (!again) continue;
    requeued.push(again);
    await study.storage.updateTrialAttrs(t.id, { retried_as: again.number }).catch(() => undefined);
  }
  return { failed, requeued };
}

/** Trials that are reruns (`retry_of` set): they do not count against a study's trial limit. */
export function countRetries(trials: readonly Trial[]): number {
  return trials.filter((t) => t.attrs.retry_of !== undefined).length;
}

/**
 * Runs `recoverStaleTrials` every `intervalMs` (default a quarter of the grace period, at most
 * 1 s, so that a dead local process is noticed at once) until
 * stopped; errors (a storage hiccup) are reported and the sweeping goes on.
 */
export function startStaleSweeper(
  study: StudyHandle,
  options: StaleRecoveryOptions & { intervalMs?: number; onRecovered?: (r: StaleRecovery) => void; onError?: (e: Error) => void },
): { stop(): Promise<void>; sweep(): Promise<StaleRecovery> } {
  let running: Promise<StaleRecovery> | undefined;
  const sweep = (): Promise<StaleRecovery> => {
    running ??= recoverStaleTrials(study, options)
      .then((r) => {
        if (r.failed.length) options.onRecovered?.(r);
        return r;
      })
      .finally(() => {
        running = undefined;
      });
    return running;
  };
  const timer = setInterval(() => {
    sweep().catch((e: Error) => options.onError?.(e));
  }, options.intervalMs ?? Math.max(100, Math.min(1_000, Math.floor(options.graceMs / 4))));
  timer.unref?.();
  return {
    sweep,
    async stop() {
      clearInterval(timer);
      await running?.catch(() => undefined);
    },
  };
}
