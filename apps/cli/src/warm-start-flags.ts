import { UserError, parseWarmStartSource, type WarmStartSource } from '@segtune/core';
import { absoluteStorageUrl } from '@segtune/storage';

/** `--warm-start STUDY[@STORAGE]` flags, checked before anything is opened. */
export function parseWarmStartFlags(values: readonly string[]): WarmStartSource[] {
  return values.map((v) => {
    const src = parseWarmStartSource(v);
    if (!src) throw new UserError(`--warm-start: "${v}" is not STUDY or STUDY@STORAGE (e.g. --warm-start small-run or --warm-start small-run@results/old.db)`);
    // A SQLite file is stored absolute, so that a resume or a worker started elsewhere finds it.
    return src.storage ? { ...src, storage: absoluteStorageUrl(src.storage, process.cwd(), '--warm-start') } : src;
  });
}
