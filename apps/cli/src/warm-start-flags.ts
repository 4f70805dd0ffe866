import { UserError, parseWarmStartSource, type WarmStartSource } from '@segtune/core';

/** `--warm-start STUDY[@STORAGE]` flags, checked before anything is opened. */
export function parseWarmStartFlags(values: readonly string[]): WarmStartSource[] {
  return values.map((v) => {
    const src = parseWarmStartSource(v);
    if (!src) throw new UserError(`--warm-start: "${v}" is not STUDY or STUDY@STORAGE (e.g. --warm-start small-run or --warm-start small-run@results/old.db)`);
    return src;
  });
}
