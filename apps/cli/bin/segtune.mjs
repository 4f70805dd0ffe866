#!/usr/bin/env node
// The `segtune` command: runs the bundled CLI, building it first when the bundle is missing
// (a checkout where `npm ci` ran without its prepare step).
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const bundle = new URL('../dist/segtune.mjs', import.meta.url);
if (!existsSync(fileURLToPath(bundle))) {
  const build = fileURLToPath(new URL('../../../scripts/build.mjs', import.meta.url));
  const r = spawnSync(process.execPath, [build], { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
await import(bundle.href);
