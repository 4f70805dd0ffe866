// `segtune ask`: one new trial of a study as one JSON document, for a program in any language
// (Optuna's `optuna ask`). The trial stays running until `segtune tell` finishes it. Numbers are
// given out by the storage in one transaction each, so many callers at once on PostgreSQL get
// dense, distinct trials and never more than the study's trial limit.
import { UserError } from '@segtune/core';
import { loadStudy, createStudy, type Study } from '../library/study';
import { checkStudyName } from '../check-study-name';

export interface AskOptions {
  study: string;
  storage?: string;
  space?: string;
}

export async function runAsk(options: AskOptions, out: NodeJS.WritableStream = process.stdout): Promise<number> {
  checkStudyName(options.study);
  const study = await openForAsk(options);
  try {
    if (!study.fixedSpace) throw new UserError(`--study: study "${study.name}" was made by a define-by-run program and stores no space file, so ask cannot choose its params; use the library's study.ask(), or a study made from a space file`);
    const limit = study.record.limits?.trials;
    // No pid: the asking process exits at once, and a trial must not be failed as "its process died".
    const trial = await study.tryAsk(limit, { pid: null, worker: 'segtune ask' });
    out.write(`${JSON.stringify(trial ? { study: study.name, trial: trial.number, params: trial.params } : { study: study.name, trial: null, reason: `the study holds its limit of ${limit} trials` })}\n`);
    return 0;
  } finally {
    await study.close();
  }
}

async function openForAsk(options: AskOptions): Promise<Study> {
  const storage = options.storage ?? 'results/segtune.db';
  try {
    return await loadStudy({ name: options.study, storage });
  } catch (e) {
    if ((e as Error).name !== 'StorageError' || !/no study named/.test((e as Error).message)) throw e;
    if (!options.space) throw new UserError(`--study: ${(e as Error).message.replace(/^loadStudy: /, '')}; pass --space FILE to create it`);
  }
  try {
    return await createStudy({ name: options.study, storage, space: options.space });
  } catch (e) {
    // Another caller created it between our look-up and our create: use theirs.
    if (/already exists/.test((e as Error).message)) return loadStudy({ name: options.study, storage });
    throw e;
  }
}
