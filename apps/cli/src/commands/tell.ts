// `segtune tell`: finishes a trial that `segtune ask` (or any worker) started, with its objective
// values or a state (Optuna's `optuna tell`). Intermediate values given with --step-values are
// stored first, so schedulers and plots see the learning curve.
import { Study as CoreStudy, UserError, type MetricValues, type TellOutcome } from '@segtune/core';
import { Space } from '@segtune/space';
import { openStorage } from '@segtune/storage';
import { parsePythonJson } from '@segtune/executor';
import { checkStudyName } from '../check-study-name';

export interface TellOptions {
  study: string;
  trial: number;
  storage?: string;
  values?: string;
  state?: string;
  stepValues?: string;
  error?: string;
}

export async function runTell(options: TellOptions, out: NodeJS.WritableStream = process.stdout): Promise<number> {
  checkStudyName(options.study);
  if ((options.values === undefined) === (options.state === undefined)) throw new UserError('tell: give exactly one of --values JSON and --state failed|pruned');
  if (options.state !== undefined && options.state !== 'failed' && options.state !== 'pruned') throw new UserError(`--state: expected failed or pruned, got "${options.state}"; a complete trial is told with --values`);
  const values = options.values === undefined ? undefined : parseJson(options.values, '--values', '{"miou": 0.8}');
  const steps = options.stepValues === undefined ? undefined : parseSteps(options.stepValues);
  const storage = await openStorage(options.storage ?? 'results/segtune.db');
  try {
    const record = await storage.getStudy(options.study);
    if (!record) throw new UserError(`--study: no study named "${options.study}" in ${storage.description}`);
    const objectives = record.objectives.map((o) => o.name);
    const metrics = values === undefined ? undefined : toMetrics(values, objectives);
    const [trial] = (await storage.getTrials(record.id)).filter((t) => t.number === options.trial);
    if (!trial) throw new UserError(`--trial: study "${record.name}" has no trial ${options.trial}`);
    if (trial.state !== 'running') throw new UserError(`--trial: trial ${options.trial} of study "${record.name}" is ${trial.state}, not running; it was told already`);
    for (const [step, v] of steps ?? []) await storage.reportIntermediate(trial.id, step, typeof v === 'number' ? { [objectives[0]]: v } : v);
    // Only tell() is used: it needs neither a space nor a sampler.
    const study = new CoreStudy({ storage, record, space: new Space([]), sampler: { name: 'none', suggest: () => ({}) } });
    const outcome: TellOutcome = metrics ? { state: 'complete', metrics } : options.state === 'pruned' ? { state: 'pruned' } : { state: 'failed', reason: 'error', error: options.error ?? 'told failed by segtune tell' };
    let done;
    try {
      done = await study.tell(trial, outcome);
    } catch (e) {
      // Two callers told the same trial at once: the storage let exactly one of them finish it.
      const now = await storage.getTrial(trial.id).catch(() => undefined);
      if (now && now.state !== 'running') throw new UserError(`--trial: trial ${options.trial} of study "${record.name}" is ${now.state}, not running; it was told already`);
      throw e;
    }
    out.write(`${JSON.stringify({ study: record.name, trial: done.number, state: done.state, values: done.values ?? null, ...(done.attrs.error ? { error: done.attrs.error } : {}) })}\n`);
    return done.state === 'failed' && metrics ? 1 : 0;
  } finally {
    await storage.close();
  }
}

/**
 * JSON, plus the `NaN`, `Infinity` and `-Infinity` that Python's json.dumps writes for
 * non-finite floats (read as in command results): a NaN told as a value fails the trial as
 * non-finite, as Optuna's tell does, instead of leaving it running behind a parse error.
 */
function parseJson(text: string, flag: string, example: string): unknown {
  try {
    return parsePythonJson(text);
  } catch (e) {
    throw new UserError(`${flag}: not JSON (${(e as Error).message.split('\n')[0]}); e.g. '${example}'`);
  }
}

function toMetrics(v: unknown, objectives: string[]): MetricValues {
  if (typeof v === 'number') {
    if (objectives.length !== 1) throw new UserError(`--values: the study has ${objectives.length} objectives (${objectives.join(', ')}); give them by name, e.g. '{"${objectives[0]}": 0.8}'`);
    return { [objectives[0]]: v };
  }
  if (Array.isArray(v)) {
    if (v.length !== objectives.length || !v.every((x) => typeof x === 'number')) throw new UserError(`--values: expected ${objectives.length} numbers (${objectives.join(', ')}), got ${JSON.stringify(v)}`);
    return Object.fromEntries(objectives.map((n, i) => [n, v[i] as number]));
  }
  if (!v || typeof v !== 'object') throw new UserError(`--values: expected a JSON object of metrics such as '{"${objectives[0]}": 0.8}', got ${JSON.stringify(v)}`);
  for (const [k, x] of Object.entries(v)) if (typeof x !== 'number') throw new UserError(`--values: "${k}" must be a number, got ${JSON.stringify(x)}`);
  const missing = objectives.filter((n) => !(n in (v as object)));
  if (missing.length) throw new UserError(`--values: missing objective ${missing.map((m) => `"${m}"`).join(', ')}; the study's objectives: ${objectives.join(', ')}`);
  return v as MetricValues;
}

/** `'{"1": 0.5, "2": {"miou": 0.6}}'` → [[1, 0.5], [2, { miou: 0.6 }]], steps in order. */
function parseSteps(text: string): [number, number | MetricValues][] {
  const v = parseJson(text, '--step-values', '{"1": 0.5, "2": 0.6}');
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new UserError(`--step-values: expected a JSON object of step → value, e.g. '{"1": 0.5, "2": 0.6}'`);
  const out: [number, number | MetricValues][] = [];
  for (const [k, x] of Object.entries(v)) {
    const step = Number(k);
    if (!Number.isFinite(step)) throw new UserError(`--step-values: step "${k}" is not a number`);
    const ok = typeof x === 'number' || (x && typeof x === 'object' && !Array.isArray(x) && Object.values(x).every((y) => typeof y === 'number'));
    if (!ok) throw new UserError(`--step-values: step ${k}: expected a number or an object of numbers, got ${JSON.stringify(x)}`);
    out.push([step, x as number | MetricValues]);
  }
  return out.sort((a, b) => a[0] - b[0]);
}
