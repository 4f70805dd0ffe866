import { resolve } from 'node:path';
import { UserError, parseWarmStartSource, type WarmStartSource } from '@segtune/core';

/** `--warm-start STUDY[@STORAGE]` flags, checked before anything is opened. */
export function parseWarmStartFlags(values: readonly string[]): WarmStartSource[] {
  return values.map((v) => {
    const src = parseWarmStartSource(v);
    if (!src) throw new UserError(`--warm-start: "${v}" is not STUDY or STUDY@STORAGE (e.g. --warm-start small-run or --warm-start small-run@results/old.db)`);
    // A file path is stored absolute, so that a resume or a worker started elsewhere finds it.
    if (src.storage && !/^[a-z][a-z0-9+.-]*:/i.test(src.storage)) return { ...src, storage: resolve(src.storage) };
    return src;
  });
}
