import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
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

/**
 * Makes the folder of an output file, level by level. Node's recursive mkdirSync spins forever
 * where a folder cannot be made under an existing one that refuses it (/proc/x/y.yaml), so the
 * missing levels are made one at a time; a failure is one line naming the flag and the folder.
 */
export function makeFolderFor(flag: string, file: string): void {
  const missing: string[] = [];
  let dir = dirname(file);
  while (!existsSync(dir)) {
    missing.push(dir);
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  if (existsSync(dir) && !statSync(dir).isDirectory()) throw new UserError(`${flag}: cannot write ${file}: ${dir} is not a folder`);
  for (const d of missing.reverse()) {
    try {
      mkdirSync(d);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? '';
      if (code === 'EEXIST') continue;
      throw new UserError(`${flag}: cannot write ${file}: cannot make the folder ${d}: ${WHY[code] ?? (e as Error).message}${code ? ` (${code})` : ''}`);
    }
  }
}
