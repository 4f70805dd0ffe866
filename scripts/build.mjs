#!/usr/bin/env node
// Bundles every entry point that must run as plain JavaScript (the CLI, worker-thread and
// child-process entries). Each package lists its own entries in package.json under
// "segtune.bundle" ({ "src/x.ts": "dist/x.mjs" }), so adding one touches no shared file.
// Tests import TypeScript sources directly through vitest; only spawned code needs this.
import { build } from 'esbuild';
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const rootPkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
// Everything installed from npm stays external: native addons, wasm files and optional
// tfjs-node packages must be resolved at run time from node_modules.
const external = [
  ...Object.keys(rootPkg.dependencies ?? {}),
  ...Object.keys(rootPkg.devDependencies ?? {}),
  ...Object.keys(rootPkg.optionalDependencies ?? {}),
  '@tensorflow/*',
];

const jobs = [];
for (const group of ['libs', 'apps']) {
  const dir = join(root, group);
  if (!existsSync(dir)) continue;
  for (const name of readdirSync(dir)) {
    const pkgFile = join(dir, name, 'package.json');
    if (!existsSync(pkgFile)) continue;
    const pkg = JSON.parse(readFileSync(pkgFile, 'utf8'));
    for (const [src, out] of Object.entries(pkg.segtune?.bundle ?? {})) {
      jobs.push(
        build({
          entryPoints: [join(dir, name, src)],
          outfile: join(dir, name, out),
          bundle: true,
          platform: 'node',
          format: 'esm',
          target: 'node20',
          sourcemap: 'linked',
          external,
          logLevel: 'warning',
          // Bundled ESM still needs require() for CommonJS dependencies.
          banner: {
            js: "import { createRequire as __segtuneCreateRequire } from 'node:module'; const require = __segtuneCreateRequire(import.meta.url);",
          },
        }),
      );
    }
  }
}
await Promise.all(jobs);
