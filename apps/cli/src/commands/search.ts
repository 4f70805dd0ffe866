// `segtune search`: flags to a session (core's openSession + runSession), then the summary and
// the study's artifacts.
import { cpus } from 'node:os';
import { dirname, resolve } from 'node:path';
import { UserError, currentLimits, openSession, type StudyRecord } from '@segtune/core';
import { loadSpaceFile } from '@segtune/space';
import { createStrategies } from '@segtune/schedulers';
import { parseStopRules } from '@segtune/samplers';
import { maskUrl, openStorage } from '@segtune/storage';
import { parseWarmStartFlags } from '../warm-start-flags';
import { checkBackendFlag, validateCliWorkload } from '../executor';
import { checkStudyName } from '../check-study-name';
import { parseDuration } from '../duration';
import type { Progress } from '../progress';
import { runCliSession } from '../cli-session';
import { studyDocument, summaryText } from '../study-report';
import { readEnqueueFiles } from '../enqueue-files';
import { openRunResources } from '../run-resources';
import { printRunUrls, writeStudyArtifacts } from '../study-artifacts';

export interface SearchOptions {
  trials?: number;
  timeout?: string;
  workers?: number;
  gpus?: string;
  trialsPerGpu?: number;
  /** Heap limit of each trial's worker thread, MB. */
  heapLimitMb?: number;
  storage?: string;
  mlflow?: string;
  study?: string;
  resume?: boolean;
  seed?: number;
  sampler?: string;
  scheduler?: string;
  backend?: string;
  trialTimeout?: string;
  executor?: 'inline' | 'pool' | 'process' | 'gpu' | 'auto';
  json?: boolean;
  quiet?: boolean;
  /** Export files whose params are enqueued first. */
  enqueue?: string[];
  /** False: no plot and no export at the end. */
  export?: boolean;
  /** `--max-failures N`: stop after N failed trials in a row. */
  maxFailures?: number;
  /** `--warm-start STUDY[@STORAGE]`, repeatable. */
  warmStart?: string[];
  /** `--stop-when RULE`, repeatable. */
  stopWhen?: string[];
}

export interface SearchResult {
  record: StudyRecord;
  exitCode: number;
}

export async function runSearch(spaceFile: string, options: SearchOptions, io: { stdout: NodeJS.WritableStream; stderr: NodeJS.WriteStream } = { stdout: process.stdout, stderr: process.stderr }): Promise<SearchResult> {
  checkStudyName(options.study);
  const loaded = loadSpaceFile(spaceFile);
  const { spec } = loaded;
  const trials = options.trials ?? spec.trials;
  if (trials !== undefined && (!Number.isInteger(trials) || trials < 1)) throw new UserError(`--trials: expected a positive integer, got ${trials}`);
  const timeoutMs = options.timeout ? parseDuration(options.timeout) : spec.timeout ? parseDuration(spec.timeout, 'timeout') : undefined;
  const trialTimeoutMs = options.trialTimeout ? parseDuration(options.trialTimeout, '--trial-timeout') : undefined;
  const workers = options.workers ?? spec.workers ?? Math.max(1, cpus().length);
  if (!Number.isInteger(workers) || workers < 1) throw new UserError(`--workers: expected a positive integer, got ${workers}`);
  // Everything is checked before the storage is opened: bad input never leaves a database file
  // or an empty study behind.
  const strategies = createStrategies(spec, options);
  await validateCliWorkload(spec.workload, dirname(resolve(spaceFile)), loaded.space.names, spec.objectives.map((o) => o.name));
  await checkBackendFlag(options.backend);
  const warmStart = parseWarmStartFlags(options.warmStart ?? []);
  const stopRules = parseStopRules(options.stopWhen ?? [], spec.objectives);
  const enqueue = readEnqueueFiles(options.enqueue ?? [], loaded.space).map(({ file, params }) => ({ params, attrs: { enqueued_from: file } }));
  const say = (line: string) => !options.json && io.stderr.write(`${line}\n`);
  let progress: Progress | undefined;
  const res = await openRunResources({
    executor: { kind: options.executor, workers, gpus: options.gpus, trialsPerGpu: options.trialsPerGpu, heapLimitMb: options.heapLimitMb, trialTimeoutMs, workload: { spec: spec.workload, backend: options.backend } },
    storage: options.storage,
    mlflow: options.mlflow,
    onWarning: (m) => progress?.message(`warning: ${m}`),
  });
  try {
    // Resuming, only the flags given set new limits (a timeout alone lifts the trial limit).
    const limits = options.resume ? { trials: options.trials, timeoutMs: options.timeout ? timeoutMs : undefined } : { trials, timeoutMs };
    const session = await openSession({ storage: res.storage, strategies: () => strategies, mode: options.resume ? 'resume' : 'create', name: options.study, space: loaded, overrides: options, seed: options.seed, limits, warmStart, openStorage: (url) => openStorage(url, { readonly: true, flag: '--warm-start' }) });
    const { record } = session;
    for (const w of session.warnings) say(`warning: ${w}`);
    for (const c of session.spaceChanges) say(`space change: ${c}`);
    if (session.warmStart) say(session.warmStart);
    if (session.recovered.length) say(`resume: ${session.recovered.length} trial(s) that were running are now failed (${session.recovered.map((t) => `#${t.number} ${t.attrs.reason}`).join(', ')})`);
    const maxTrials = options.resume ? currentLimits(record).trials : trials;
    const result = await runCliSession(session, {
      stderr: io.stderr,
      show: !options.json && !options.quiet,
      before: await res.storage.getTrials(record.id),
      onProgress: (p) => (progress = p),
      executor: res.executor,
      trackers: res.trackers,
      maxTrials,
      deadline: timeoutMs === undefined ? undefined : Date.now() + timeoutMs,
      trialTimeoutMs,
      backend: options.backend,
      maxConsecutiveFailures: options.maxFailures,
      maxFailures: options.maxFailures,
      stopRules,
      enqueue,
      onReady: async () => {
        say(`segtune: study "${record.name}" in ${maskUrl(res.storage.description)}; sampler ${session.sampler.name}, scheduler ${session.scheduler.name}, ${workers} worker${workers === 1 ? '' : 's'}${maxTrials ? `, ${maxTrials} trials` : ''}${timeoutMs ? `, timeout ${options.timeout ?? spec.timeout}` : ''}`);
        if (!options.json) await printRunUrls(res, say);
      },
    });
    const all = result.trials;
    io.stdout.write(options.json ? `${JSON.stringify(studyDocument(record, all), null, 2)}\n` : `${summaryText(record, all, result.elapsedMs)}\n`);
    if (options.export !== false && result.interrupted === 0 && all.some((t) => t.state === 'complete')) {
      const files = await writeStudyArtifacts(res.storage, record);
      if (!options.json) io.stdout.write(`${files.map((f) => `wrote ${f}`).join('\n')}\n`);
    }
    if (result.stopDetail) say(`stopped by ${result.stopDetail.rule}: ${result.stopDetail.reason}`);
    return { record, exitCode: result.exitCode };
  } finally {
    await res.close();
  }
}
