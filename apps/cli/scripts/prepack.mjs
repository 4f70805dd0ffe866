#!/usr/bin/env node
// `npm pack` / `npm publish` of the segtune package: everything the installed package needs at
// run time, next to the bundles in dist/ (no TypeScript sources, no workspace packages):
//   dist/segtune.mjs, workloads.mjs, index.mjs   the CLI, the workload resolver, the library
//   dist/executor/worker.mjs, process-child.mjs      executor thread and trial-process entries
//   dist/dashboard/page.json                     the dashboard page, prebuilt for the browser
//   dist/index.d.ts                              the library's types in one file
import { build } from 'esbuild';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const pkgDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const root = resolve(pkgDir, '..', '..');
const dist = join(pkgDir, 'dist');

const step = (what) => process.stderr.write(`prepack: ${what}\n`);

// Bundle only when a bundle is missing or older than a source: the test suite packs while other
// test files run the CLI from these same bundles, which must not be rewritten under them.
const newest = (dir) => {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) t = Math.max(t, newest(p));
    else if (e.name.endsWith('.ts') && !e.name.endsWith('.test.ts')) t = Math.max(t, statSync(p).mtimeMs);
  }
  return t;
};
const mtime = (f) => (existsSync(f) ? statSync(f).mtimeMs : 0);
const sources = Math.max(...['libs', 'apps'].flatMap((g) => readdirSync(join(root, g)).map((n) => join(root, g, n, 'src')).filter(existsSync).map(newest)));
const bundles = ['segtune.mjs', 'workloads.mjs', 'index.mjs'].map((f) => join(dist, f)).concat(['worker.mjs', 'process-child.mjs'].map((f) => join(root, 'libs', 'executor', 'dist', f)));
if (Math.min(...bundles.map(mtime)) < sources) {
  step('bundling (scripts/build.mjs)');
  const r = spawnSync(process.execPath, [join(root, 'scripts', 'build.mjs')], { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
} else {
  step('bundles are up to date');
}

step('executor entries');
mkdirSync(join(dist, 'executor'), { recursive: true });
for (const f of ['worker.mjs', 'process-child.mjs']) copyFileSync(join(root, 'libs', 'executor', 'dist', f), join(dist, 'executor', f));

step('dashboard page');
// Bundle page-bundle.ts for Node once, and let it build the page exactly as the server would.
const tmp = join(dist, `.page-bundle-${process.pid}.mjs`);
await build({ entryPoints: [join(root, 'apps', 'dashboard', 'src', 'page-bundle.ts')], outfile: tmp, bundle: true, platform: 'node', format: 'esm', target: 'node20', packages: 'external', logLevel: 'warning' });
try {
  const { pageDocument } = await import(pathToFileURL(tmp).href);
  mkdirSync(join(dist, 'dashboard'), { recursive: true });
  writeFileSync(join(dist, 'dashboard', 'page.json'), JSON.stringify(await pageDocument()));
} finally {
  rmSync(tmp, { force: true });
}

step('types (tsc, then rollup-plugin-dts over the declarations)');
// Declarations are emitted once by tsc for this package and every workspace package it reaches
// (paths map @segtune/* to their sources), then bundled as plain .d.ts files. Letting
// rollup-plugin-dts compile the TypeScript itself ran it out of a 4 GB heap on this workspace.
const dtsDir = join(dist, '.dts');
rmSync(dtsDir, { recursive: true, force: true });
const paths = {};
for (const name of readdirSync(join(root, 'libs'))) {
  const pkgFile = join(root, 'libs', name, 'package.json');
  if (!existsSync(pkgFile)) continue;
  const pkg = JSON.parse(readFileSync(pkgFile, 'utf8'));
  for (const [sub, target] of Object.entries(pkg.exports ?? {})) {
    if (typeof target !== 'string' || !target.endsWith('.ts')) continue;
    paths[sub === '.' ? pkg.name : `${pkg.name}/${sub.replace(/^\.\//, '')}`] = [join(root, 'libs', name, target)];
  }
}
const tsconfig = join(dist, '.tsconfig.types.json');
writeFileSync(
  tsconfig,
  JSON.stringify({
    extends: join(root, 'tsconfig.base.json'),
    compilerOptions: { noEmit: false, declaration: true, emitDeclarationOnly: true, outDir: dtsDir, rootDir: root, paths, typeRoots: [join(root, 'node_modules', '@types')] },
    files: [join(pkgDir, 'src', 'index.ts')],
  }),
);
const tsc = spawnSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', tsconfig], { stdio: 'inherit' });
if (tsc.status !== 0) process.exit(tsc.status ?? 1);
const { rollup } = await import('rollup');
const { dts } = await import('rollup-plugin-dts');
const declarationOf = (id) => {
  const src = paths[id]?.[0];
  return src ? join(dtsDir, src.slice(root.length + 1).replace(/\.ts$/, '.d.ts')) : undefined;
};
// Workspace packages (@segtune/*) are inlined from their emitted declarations; npm packages stay
// imports, resolved from the installed dependencies.
const bundle = await rollup({
  input: join(dtsDir, 'apps', 'cli', 'src', 'index.d.ts'),
  external: (id) => !id.startsWith('.') && !id.startsWith('/') && !id.startsWith('@segtune/'),
  plugins: [{ name: 'segtune-workspace', resolveId: (id) => declarationOf(id) ?? null }, dts({ respectExternal: true })],
  onwarn: (w, warn) => (w.code === 'CIRCULAR_DEPENDENCY' ? undefined : warn(w)),
});
await bundle.write({ file: join(dist, 'index.d.ts'), format: 'es' });
await bundle.close();
rmSync(dtsDir, { recursive: true, force: true });
rmSync(tsconfig, { force: true });
const types = readFileSync(join(dist, 'index.d.ts'), 'utf8');
const leaked = types.match(/['"]@segtune\/[^'"]+['"]/);
if (leaked) throw new Error(`dist/index.d.ts still refers to the unpublished ${leaked[0]}`);
step('done');
