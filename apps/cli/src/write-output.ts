import { writeFileSync } from 'node:fs';
import { UserError } from '@segtune/core';

const WHY: Record<string, string> = {
  ENOENT: 'its folder does not exist or cannot hold files',
  EACCES: 'permission denied',
  EPERM: 'not permitted',
  EROFS: 'the file system is read-only',
  EISDIR: 'it is a folder',
  ENOSPC: 'no space left on the device',
  ENOTDIR: 'a part of the path is not a folder',
};

/** Writes a file the user asked for; a failure is one line naming the flag and the path. */
export function writeOutput(flag: string, file: string, data: string | Uint8Array): void {
  try {
    writeFileSync(file, data);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? '';
    throw new UserError(`${flag}: cannot write ${file}: ${WHY[code] ?? (e as Error).message}${code ? ` (${code})` : ''}`);
  }
}
