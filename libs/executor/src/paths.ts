import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const PACKAGE = '@segtune/executor';

/**
 * The folder holding the bundled `worker.mjs` and `process-child.mjs`. Found from this package's
 * root, so it works from the TypeScript sources (vitest, tsx), from this package's own bundles
 * (a trial process), from another package's bundle (the CLI in apps/cli/dist) and from an installed
 * `segtune` package (dist/executor, copied there by its prepack step).
 */
export function executorDistDir(): string {
  const override = process.env.SEGTUNE_EXECUTOR_DIST;
  if (override) return resolve(override);
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && readName(pkg) === PACKAGE) return join(dir, 'dist');
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  try {
    return join(dirname(createRequire(import.meta.url).resolve(`${PACKAGE}/package.json`)), 'dist');
  } catch {
    // An installed `segtune` package: its bundle carries these entries in dist/executor.
    const here = dirname(fileURLToPath(import.meta.url));
    for (const packed of [join(here, 'executor'), here]) if (existsSync(join(packed, 'worker.mjs'))) return packed;
    throw new Error(`cannot find the ${PACKAGE} package from ${fileURLToPath(import.meta.url)}; is it installed?`);
  }
}

function readName(file: string): string | undefined {
  try {
    return (JSON.parse(readFileSync(file, 'utf8')) as { name?: string }).name;
  } catch {
    return undefined;
  }
}

/** A bundled entry of this package, checked to exist. */
export function bundledEntry(name: 'worker.mjs' | 'process-child.mjs'): string {
  const file = join(executorDistDir(), name);
  if (!existsSync(file)) throw new Error(`${file} is missing: run \`npm run build\` (node scripts/build.mjs) to bundle the executor`);
  return file;
}
