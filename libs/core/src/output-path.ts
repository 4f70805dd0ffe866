import { isAbsolute, relative, resolve } from 'node:path';
import { UserError } from './user-error';

/**
 * A path segtune writes, built from names (a study's, a trial's) under an output folder, and
 * checked to stay inside it: a name can never make segtune write elsewhere, whatever a study
 * stored before names were checked holds.
 */
export function pathInside(root: string, ...segments: string[]): string {
  const base = resolve(root);
  const full = resolve(base, ...segments);
  const rel = relative(base, full);
  if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) {
    throw new UserError(`refusing to write ${JSON.stringify(segments.join('/'))}: it is not inside the output folder ${base}`);
  }
  return full;
}

/** results/<study>: where a study's exports, plots, models and trial artifacts go. */
export function studyOutputDir(studyName: string, root = 'results'): string {
  return pathInside(root, studyName);
}
