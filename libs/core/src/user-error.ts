/**
 * Bad input from the user (a flag, a file, a storage URL): printed as one line, exit code 2,
 * no stack trace. Anything else that escapes is a failed run (exit 1).
 */
export class UserError extends Error {
  readonly exitCode = 2;
  constructor(message: string) {
    super(message);
    this.name = 'UserError';
  }
}

export function isUserError(e: unknown): e is Error & { exitCode: number } {
  // Subclasses (the library's StorageError, UsageError) keep UserError's exit code 2.
  return e instanceof Error && (e.name === 'UserError' || e.name === 'SpaceError' || (e as { exitCode?: unknown }).exitCode === 2);
}
