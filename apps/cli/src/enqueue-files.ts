import { UserError } from '@segtune/core';
import type { Params, Space } from '@segtune/space';
import { readExportParams } from './commands/export';

/**
 * Reads and checks every `--enqueue` file up front, before any storage is opened. A file may
 * give only some params (an export from a smaller space, or a hand-written `params:` mapping):
 * the sampler fills the rest when the trial starts.
 */
export function readEnqueueFiles(files: readonly string[], space: Space): { file: string; params: Params }[] {
  return files.map((file) => {
    const params = readExportParams(file);
    const problems = space.validatePartial(params);
    if (problems.length) throw new UserError(`--enqueue: ${file} does not fit the space: ${problems[0]}`);
    return { file, params };
  });
}
