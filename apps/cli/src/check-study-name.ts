import { UserError } from '@segtune/core';
import { nameProblem } from '@segtune/space';

/** `--study NAME` follows the same rule as a space file's `name` (it becomes results/NAME). */
export function checkStudyName(name: string | undefined, flag = '--study'): void {
  if (name === undefined) return;
  const problem = nameProblem(name);
  if (problem) throw new UserError(`${flag}: ${problem}`);
}
