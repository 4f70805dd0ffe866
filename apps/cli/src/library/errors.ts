// The library's typed errors. Each keeps the CLI's one-line message; `instanceof` tells a
// program what went wrong without parsing text.
import { UserError } from '@segtune/core';

export { UserError, Pruned, isPruned, isUserError } from '@segtune/core';
export { SpaceError } from '@segtune/space';

/** The storage could not be opened or refused a study (bad URL, unknown study, existing name). */
export class StorageError extends UserError {
  constructor(message: string) {
    super(message);
    this.name = 'StorageError';
  }
}

/** A library call was used wrongly (a finished trial told again, a bad option). */
export class UsageError extends UserError {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}
