// The segtune package as a user gets it (issue 18): `npm pack` in apps/cli, `npm install` of the
// tarball into an empty folder (dependencies from the npm cache), then the installed `segtune`
// command runs a search and a script uses the library. Nothing of the repository is reachable
// from that folder, so a missing bundle, a path that only works in the checkout, or a dependency
// left out of apps/cli/package.json fails here.
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { repoRoot } from './support/cli';

const cliDir = join(repoRoot, 'apps', 'cli');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
let dir: string;
let tarball: string;

function duBytes(path: string): number {
  const st = statSync(path);
  if (!st.isDirectory()) return st.size;
  return readdirSync(path).reduce((n, f) => n + duBytes(join(path, f)), 0);
}

const mb = (n: number) => `${(n / 2 ** 20).toFixed(1)} MiB`;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'segtune-package-'));
  const out = execFileSync(npm, ['pack', '--json', '--pack-destination', dir], { cwd: cliDir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 120_000 });
  const [info] = JSON.parse(out.slice(out.indexOf('['))) as { filename: string; size: number; unpackedSize: number; files: { path: string }[] }[];
  tarball = join(dir, info.filename);
  process.stdout.write(`segtune package: ${info.filename} ${mb(info.size)} packed, ${mb(info.unpackedSize)} unpacked, ${info.files.length} files\n`);
  const app = join(dir, 'app');
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'segtune-package-test', private: true, type: 'module' }));
  // Install scripts are skipped: the only one the dependencies have is better-sqlite3's native
  // build (minutes on two cores without network), so its compiled addon is copied from this
  // checkout when the versions match, and rebuilt otherwise.
  execFileSync(npm, ['install', tarball, '--prefer-offline', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: app, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 180_000 });
  const version = (d: string) => (JSON.parse(readFileSync(join(d, 'node_modules', 'better-sqlite3', 'package.json'), 'utf8')) as { version: string }).version;
  if (version(app) === version(repoRoot)) {
    cpSync(join(repoRoot, 'node_modules', 'better-sqlite3', 'build', 'Release', 'better_sqlite3.node'), join(app, 'node_modules', 'better-sqlite3', 'build', 'Release', 'better_sqlite3.node'));
  } else {
    execFileSync(npm, ['rebuild', 'better-sqlite3'], { cwd: app, stdio: 'ignore', timeout: 600_000 });
  }
  process.stdout.write(`segtune package: installed ${mb(duBytes(join(app, 'node_modules', 'segtune')))} (segtune), ${mb(duBytes(join(app, 'node_modules')))} with its dependencies\n`);
}, 300_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the segtune npm package', () => {
  it('packs bundles, types, the bin and the README, but no TypeScript sources, and is not private', () => {
    const listing = execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8' }).split('\n').filter(Boolean);
    for (const f of ['package/bin/segtune.mjs', 'package/dist/segtune.mjs', 'package/dist/index.mjs', 'package/dist/index.d.ts', 'package/dist/workloads.mjs', 'package/dist/executor/worker.mjs', 'package/dist/executor/process-child.mjs', 'package/dist/dashboard/page.json', 'package/README.md']) expect(listing).toContain(f);
    expect(listing.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))).toEqual([]);
    const pkg = JSON.parse(readFileSync(join(dir, 'app', 'node_modules', 'segtune', 'package.json'), 'utf8'));
    expect(pkg.private).toBeUndefined();
    expect(pkg.engines.node).toBe('>=20.19');
    expect(pkg.exports['.']).toEqual({ types: './dist/index.d.ts', import: './dist/index.mjs' });
    expect(Object.keys(pkg.dependencies).filter((d) => d.startsWith('@segtune/'))).toEqual([]);
    expect(readFileSync(join(dir, 'app', 'node_modules', 'segtune', 'dist', 'index.d.ts'), 'utf8')).not.toMatch(/@segtune\//);
  });

  it('every package the bundles import is a dependency, with the root version', () => {
    const pkg = JSON.parse(readFileSync(join(cliDir, 'package.json'), 'utf8'));
    const root = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8'));
    const imported = new Set<string>();
    for (const f of ['segtune.mjs', 'index.mjs', 'workloads.mjs', 'executor/worker.mjs', 'executor/process-child.mjs']) {
      const text = readFileSync(join(dir, 'app', 'node_modules', 'segtune', 'dist', f), 'utf8');
      for (const m of text.matchAll(/(?:from\s*|import\(\s*|require\(\s*)["']([^"'./][^"']*)["']/g)) {
        const spec = m[1];
        if (spec.startsWith('node:') || !/^[@a-z]/.test(spec)) continue;
        const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0];
        imported.add(name);
      }
    }
    // Builtins imported without the node: prefix by some bundled CommonJS code.
    for (const b of ['fs', 'path', 'os', 'url', 'util', 'crypto', 'child_process', 'worker_threads', 'module', 'events', 'stream', 'zlib', 'http', 'https', 'net', 'tls', 'assert', 'buffer']) imported.delete(b);
    const optional = new Set(Object.keys(pkg.optionalDependencies ?? {}));
    // tfjs-node is installed by `segtune setup tensorflow`; esbuild only builds the dashboard page
    // from its sources in a checkout (the package carries the page prebuilt).
    const missing = [...imported].filter((n) => !(n in pkg.dependencies) && !optional.has(n) && !n.startsWith('@tensorflow/tfjs-node') && n !== 'esbuild');
    expect(missing).toEqual([]);
    for (const [n, v] of Object.entries(pkg.dependencies)) expect([n, v]).toEqual([n, root.dependencies[n]]);
  });

  it('`npx segtune search` runs a module workload from the installed package', () => {
    const app = join(dir, 'app');
    copyFileSync(join(repoRoot, 'tests/fixtures/slow-quadratic.mjs'), join(app, 'quadratic.mjs'));
    writeFileSync(
      join(app, 'quad.yaml'),
      `name: quad
objectives: [{ name: value, direction: minimize }]
params:
  x: { type: float, low: -3, high: 3 }
  y: { type: float, low: -5, high: 5 }
sampler: { kind: random }
workload: { kind: module, path: ./quadratic.mjs }
seed: 4
`,
    );
    const r = spawnSync('npx', ['--no-install', 'segtune', 'search', 'quad.yaml', '--trials', '4', '--workers', '2', '--storage', 'quad.db'], { cwd: app, encoding: 'utf8', timeout: 120_000, env: { ...process.env, SEGTUNE_TEST_DELAY_MS: '1' } });
    expect(r.stderr + r.stdout).not.toMatch(/error/i);
    expect(r.status).toBe(0);
    const status = spawnSync('npx', ['--no-install', 'segtune', 'status', '--storage', 'quad.db', '--study', 'quad', '--json'], { cwd: app, encoding: 'utf8', timeout: 60_000 });
    expect(status.status).toBe(0);
    expect(status.stdout).toMatch(/"complete":\s*4/);
  });

  it('the tfjs wasm backend finds its binaries in the installed dependencies', () => {
    const r = spawnSync('npx', ['--no-install', 'segtune', 'backends', '--json'], { cwd: join(dir, 'app'), encoding: 'utf8', timeout: 120_000 });
    expect(r.status, r.stderr).toBe(0);
    const wasm = (JSON.parse(r.stdout) as { backends: { name: string; usable: boolean; reason?: string }[] }).backends.find((b) => b.name === 'wasm');
    expect(wasm, r.stdout).toMatchObject({ usable: true });
  });

  it('a script imports the library from the installed package', () => {
    const app = join(dir, 'app');
    writeFileSync(
      join(app, 'use.mjs'),
      `import { createStudy, SpaceError } from 'segtune';
const study = await createStudy({ directions: ['minimize'], sampler: 'tpe', seed: 1, storage: 'sqlite:///' + process.cwd() + '/lib.db', name: 'lib' });
await study.optimize((trial) => {
  const x = trial.suggestFloat('x', -5, 5);
  const opt = trial.suggestCategorical('opt', ['a', 'b']);
  return x * x + (opt === 'a' ? 0 : 1);
}, { trials: 12, workers: 2 });
const best = await study.bestTrial;
const trials = await study.trials;
let clash = '';
await study.optimize((trial) => trial.suggestFloat('x', 0, 1), { trials: 1 }).catch((e) => (clash = e instanceof SpaceError ? e.message : 'wrong type'));
console.log(JSON.stringify({ n: trials.length, best: best.values[0], clash }));
await study.close();
`,
    );
    const r = spawnSync(process.execPath, ['use.mjs'], { cwd: app, encoding: 'utf8', timeout: 60_000 });
    expect(r.stderr).toBe('');
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!);
    expect(out.n).toBe(12);
    expect(out.best).toBeLessThan(1);
    expect(out.clash).toMatch(/^params\.x: asked as float \[0, 1\], but the study already has it as float \[-5, 5\]/);
  });

  it('the published types check a TypeScript program against the installed package (and reject a wrong call)', () => {
    const app = join(dir, 'app');
    const program = (extra: string) => `import { createStudy, type Trial } from 'segtune';
const study = await createStudy({ directions: ['maximize'], sampler: 'tpe', scheduler: 'asha', budget: { name: 'epochs', min: 1, max: 9 } });
await study.optimize(async (trial: Trial) => {
  const lr: number = trial.suggestFloat('lr', 1e-4, 1e-1, { log: true });
  const opt: 'adam' | 'sgd' = trial.suggestCategorical('opt', ['adam', 'sgd']);
  await trial.report(1, lr);
  ${extra}
  return opt === 'adam' ? lr : -lr;
}, { trials: 2, workers: 2, timeout: '1m' });
`;
    const tsc = (file: string) =>
      spawnSync(process.execPath, [join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc'), '--noEmit', '--strict', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022', '--types', 'node', '--typeRoots', join(repoRoot, 'node_modules', '@types'), file], { cwd: app, encoding: 'utf8', timeout: 60_000 });
    writeFileSync(join(app, 'good.mts'), program(''));
    const good = tsc('good.mts');
    expect(good.stdout + good.stderr).toBe('');
    expect(good.status).toBe(0);
    writeFileSync(join(app, 'bad.mts'), program("trial.suggestInt('depth', '2', 5);"));
    const bad = tsc('bad.mts');
    expect(bad.status).not.toBe(0);
    expect(bad.stdout).toMatch(/bad\.mts\(7,\d+\): error TS2345: Argument of type 'string' is not assignable to parameter of type 'number'/);
  });
});
