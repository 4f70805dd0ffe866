import type { WorkloadSpec } from '@segtune/space';
import type { Executor, TrialOutcome } from './executor';
import { checkpointReleaser } from './checkpoint-release';
import { Rng } from './rng';
import type { Study } from './study';
import type { Trial, TrialAttrs } from './trial';
import type { ResumePoint } from './scheduler';
import type { StopDetail, StopRule } from './stop-rule';

export interface ControllerOptions {
  study: Study;
  executor: Executor;
  workload: WorkloadSpec;
  spaceDir: string;
  /** Total trials the study may hold (all workers together); unlimited when absent. */
  maxTrials?: number;
  /** Wall-clock limit for starting new trials, from `run()`; running trials finish. */
  timeoutMs?: number;
  /** Most trials at once; defaults to the executor's capacity. */
  concurrency?: number;
  /** Per-trial time limit, enforced by the executor. */
  trialTimeoutMs?: number;
  backend?: string;
  artifactRoot?: string;
  /** Aborted: start no new trials; running ones finish. */
  stopSignal?: AbortSignal;
  /** Aborted: running trials are stopped and marked failed (`interrupted`). */
  abortSignal?: AbortSignal;
  /** Heartbeat period for running trials. */
  heartbeatMs?: number;
  /**
   * Stop starting trials after this many failed trials in a row (Ray Tune's `max_failures`,
   * KerasTuner's `max_consecutive_failed_trials`); running ones finish. Unlimited when absent.
   */
  maxConsecutiveFailures?: number;
  /** Asked after each finished trial (`--stop-when`); the first that answers stops the study (running trials finish). */
  stopRules?: readonly StopRule[];
  onTrialStarted?(trial: Trial): void;
  onTrialFinished?(trial: Trial): void;
  /** A trial the controller could not ask for (sampler error): reported, the study goes on. */
  onError?(error: Error): void;
  /** Defaults to Date.now; tests may pass a virtual clock. */
  now?: () => number;
}

export type StopReason = 'trials' | 'timeout' | 'interrupted' | 'exhausted' | 'failures' | 'stop-rule';

export interface ControllerResult {
  started: number;
  finished: Trial[];
  stoppedBy: StopReason;
  /** With `stop-rule`: which rule, why, and after which trial. */
  stopDetail?: StopDetail;
  elapsedMs: number;
}

/** How long a running trial's start attrs may wait to be written with its finish (see launch). */
export const START_ATTRS_DELAY_MS = 200;

/**
 * The loop every search and every worker runs: keep up to `concurrency` trials in flight, ask
 * the study for the next one when a slot frees, route reports to the scheduler, tell outcomes.
 */
export async function runController(options: ControllerOptions): Promise<ControllerResult> {
  const { study, executor } = options;
  const now = options.now ?? Date.now;
  const start = now();
  const concurrency = Math.max(1, options.concurrency ?? executor.capacity);
  const inFlight = new Map<number, Promise<void>>();
  const finished: Trial[] = [];
  let started = 0;
  let stoppedBy: StopReason | undefined;
  let stopDetail: StopDetail | undefined;
  // Rule checks run one at a time, in finishing order, so each sees the trials before it.
  let checks: Promise<void> = Promise.resolve();
  const checkRules = (done: Trial): Promise<void> =>
    (checks = checks.then(async () => {
      if (stopDetail || !options.stopRules?.length) return;
      const trials = await study.trials();
      for (const rule of options.stopRules) {
        const reason = await rule.check({ space: study.space, objectives: study.objectives, constraints: study.constraints, trials });
        if (reason) {
          stopDetail = { rule: rule.name, reason, trial: done.number };
          stoppedBy ??= 'stop-rule';
          return;
        }
      }
    }).catch((e: Error) => options.onError?.(new Error(`--stop-when: ${e.message}`))));
  let consecutiveAskErrors = 0;
  let consecutiveFailures = 0;

  const heartbeat = setInterval(() => {
    const ids = [...inFlight.keys()];
    if (ids.length) study.storage.heartbeat(ids).catch(() => undefined);
  }, options.heartbeatMs ?? 5_000);
  heartbeat.unref?.();

  const canStart = (): boolean => {
    if (options.stopSignal?.aborted || options.abortSignal?.aborted) {
      stoppedBy ??= 'interrupted';
      return false;
    }
    if (options.maxConsecutiveFailures !== undefined && consecutiveFailures >= options.maxConsecutiveFailures) {
      stoppedBy ??= 'failures';
      return false;
    }
    if (options.timeoutMs !== undefined && now() - start >= options.timeoutMs) {
      stoppedBy ??= 'timeout';
      return false;
    }
    return true;
  };

  const checkpointSteps = study.scheduler.checkpointSteps?.();
  const artifactDirOf = (n: number) => (options.artifactRoot ? `${options.artifactRoot}/trial-${n}` : undefined);
  const releaseCheckpoints = checkpointSteps?.length && options.artifactRoot ? checkpointReleaser({ study, artifactDirOf, maxTrials: options.maxTrials, onError: options.onError }) : undefined;
  const launch = (trial: Trial): void => {
    started++;
    const resume = resumePointOf(trial);
    options.onTrialStarted?.(trial);
    const controller = new AbortController();
    const onAbort = () => controller.abort();
    // The executor's start attrs (its thread or process, GPU, backend) describe the trial and
    // nothing reads them to act on it: they are written once the trial has run for
    // START_ATTRS_DELAY_MS, with the first attrs it sets, or with its finish, whichever comes
    // first. A short trial's finish carries them: one write fewer per trial (a round trip on
    // PostgreSQL). Attrs a trial sets (a command's pid, read by recovery) are written at once.
    let startAttrs: TrialAttrs | undefined;
    let startTimer: NodeJS.Timeout | undefined;
    const writeAttrs = (attrs: TrialAttrs): void => {
      clearTimeout(startTimer);
      const merged = startAttrs ? { ...startAttrs, ...attrs } : attrs;
      startAttrs = undefined;
      if (Object.keys(merged).length) study.storage.updateTrialAttrs(trial.id, merged).catch(() => undefined);
    };
    options.abortSignal?.addEventListener('abort', onAbort, { once: true });
    const run = executor
      .run(
        {
          trialId: trial.id,
          trialNumber: trial.number,
          params: trial.params,
          workload: options.workload,
          spaceDir: options.spaceDir,
          objectiveNames: study.objectiveNames,
          budget: study.budget,
          // A resumed configuration keeps its first trial's seed, so its checkpoint matches.
          seed: Rng.derive(study.record.seed, 'trial', resume?.rootTrialNumber ?? trial.number).next32(),
          timeoutMs: options.trialTimeoutMs,
          backend: options.backend,
          artifactDir: artifactDirOf(trial.number),
          ...(checkpointSteps?.length ? { checkpointSteps } : {}),
          resumeFrom: resume ? { trialNumber: resume.trialNumber, step: resume.step, artifactDir: artifactDirOf(resume.trialNumber), ...(resume.transfer ? { transfer: true } : {}) } : undefined,
        },
        {
          onReport: (step, values) => study.report(trial, step, values),
          signal: controller.signal,
          onStart: (attrs) => {
            startAttrs = attrs;
            startTimer = setTimeout(() => writeAttrs({}), START_ATTRS_DELAY_MS);
            startTimer.unref?.();
          },
          onAttrs: (attrs) => writeAttrs(attrs),
        },
      )
      .catch((e: Error): TrialOutcome => ({ state: 'failed', reason: 'crash', error: `executor error: ${e.message}`, attrs: {} }))
      .then(async (outcome) => {
        options.abortSignal?.removeEventListener('abort', onAbort);
        clearTimeout(startTimer);
        if (startAttrs) outcome = { ...outcome, attrs: { ...startAttrs, ...outcome.attrs } };
        startAttrs = undefined;
        const done = await study.tell(
          trial,
          outcome.state === 'complete'
            ? { state: 'complete', metrics: outcome.metrics, attrs: outcome.attrs }
            : outcome.state === 'pruned'
              ? { state: 'pruned', attrs: outcome.attrs }
              : { state: 'failed', reason: outcome.reason, error: outcome.error, attrs: outcome.attrs },
        );
        finished.push(done);
        consecutiveFailures = done.state === 'failed' ? consecutiveFailures + 1 : 0;
        options.onTrialFinished?.(done);
        await checkRules(done);
        await releaseCheckpoints?.();
      })
      .catch((e: Error) => {
        // The trial was finished elsewhere (a stale-trial sweep, say): recorded, not fatal.
        options.onError?.(e);
      })
      .finally(() => inFlight.delete(trial.id));
    inFlight.set(trial.id, run);
  };

  try {
    while (true) {
      while (inFlight.size < concurrency && stoppedBy === undefined && canStart()) {
        let trial: Trial | undefined;
        try {
          trial = await study.ask({}, options.maxTrials);
          consecutiveAskErrors = 0;
        } catch (e) {
          options.onError?.(e as Error);
          // A sampler that keeps failing would otherwise spin forever.
          if (++consecutiveAskErrors >= 10) {
            stoppedBy = 'exhausted';
            break;
          }
          continue;
        }
        if (!trial) {
          stoppedBy = 'trials';
          break;
        }
        launch(trial);
      }
      if (inFlight.size === 0) break;
      await Promise.race(inFlight.values());
    }
  } finally {
    clearInterval(heartbeat);
  }
  return { started, finished, stoppedBy: stoppedBy ?? 'trials', stopDetail, elapsedMs: now() - start };
}

/** The resume point `Study.ask` stored on a trial that continues an earlier one. */
export function resumePointOf(trial: Trial): ResumePoint | undefined {
  const { resumed_from_trial: from, resumed_from_step: step, config_root: root } = trial.attrs;
  if (typeof from !== 'number' || typeof step !== 'number') return undefined;
  return { trialNumber: from, step, rootTrialNumber: typeof root === 'number' ? root : from, ...(trial.attrs.resume_transfer === true ? { transfer: true } : {}) };
}
