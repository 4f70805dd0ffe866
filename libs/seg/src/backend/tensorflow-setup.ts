// `segtune setup tensorflow [--gpu]`: native TensorFlow for tfjs from PyPI's wheels.
// @tensorflow/tfjs-node(-gpu)'s own install script downloads libtensorflow 2.9 (CUDA 11.2) from
// outside the registries; TensorFlow's current PyPI wheels ship libtensorflow_cc.so.2, which
// exports the same C and eager C API, and the C headers. So: pip downloads the wheel, we extract
// the libraries and the headers the binding includes, npm packs tfjs-node without running its
// install script, and node-gyp builds its binding against the wheel. Everything comes from
// PyPI and npm; the result is a folder of segtune's cache (see tensorflow-cache.ts).
import { execFileSync, spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, renameSync, rmSync, statfsSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { processAlive, UserError } from '@segtune/core';
import {
  DEFAULT_TF_VERSION,
  installDir,
  nodePackageName,
  packageDirOf,
  projectTfjsVersion,
  readInstall,
  segtuneHome,
  type NativeVariant,
  type TensorflowInstall,
} from './tensorflow-cache';
import { hasNvidiaDriver } from './gpu-visible';
import { probeInstall, type ProbeResult } from './tensorflow-probe';
import { QUIET_LOAD_CC, QUIET_LOAD_GYP, QUIET_LOADER_ID } from './quiet-load';
import { WHEEL_EXTRACT_PY } from './wheel-extract';

export interface SetupOptions {
  gpu?: boolean;
  tfVersion?: string;
  /** Rebuild even when a ready install exists. */
  force?: boolean;
  /** One line per step (default: nothing). */
  log?: (line: string) => void;
  /** Subprocess output (pip, npm, node-gyp) goes to the parent's stderr instead of being kept. */
  verbose?: boolean;
}

export interface SetupResult {
  install: TensorflowInstall;
  probe: ProbeResult;
  /** False when a ready install was found and reused. */
  built: boolean;
  seconds: number;
}

const requireHere = createRequire(import.meta.url);
/** napi version the binding is built for; node-pre-gyp picks the highest the package lists. */
const NAPI_VERSION = 8;
const FREE_BYTES_NEEDED: Record<NativeVariant, number> = { cpu: 2.5e9, gpu: 9e9 };

export async function setupTensorflow(options: SetupOptions = {}): Promise<SetupResult> {
  const started = Date.now();
  const variant: NativeVariant = options.gpu ? 'gpu' : 'cpu';
  const tfVersion = options.tfVersion ?? DEFAULT_TF_VERSION;
  if (!/^\d+\.\d+\.\d+([.-]?[a-z0-9]+)*$/i.test(tfVersion)) throw new UserError(`--tf-version: "${tfVersion}" is not a version such as ${DEFAULT_TF_VERSION}`);
  const log = options.log ?? (() => {});
  const tfjsVersion = projectTfjsVersion();
  const home = segtuneHome();
  const dir = installDir(variant, tfVersion, tfjsVersion, home);

  const existing = options.force ? undefined : readInstall(dir);
  if (existing && !existing.quietLoader) log(`the install in ${dir} predates the quiet loader; building it again`);
  else if (existing) {
    let install = existing;
    if (existing.quietLoader !== QUIET_LOADER_ID) {
      // Only the small loader changed: rebuild it in place (seconds), keep the binding.
      log(`the quiet loader in ${dir} is from another segtune version; building it again`);
      install = renewQuietLoader(existing, home, options.verbose ?? false);
    }
    const probe = await probeInstall(install);
    if (probe.ok) return { install, probe, built: false, seconds: (Date.now() - started) / 1000 };
    log(`the install in ${dir} does not load (${probe.error}); building it again`);
  }

  const tools = checkPrerequisites(variant, home);
  mkdirSync(dirname(dir), { recursive: true });
  const release = takeLock(dir);
  const stage = `${dir}.partial`;
  try {
    rmSync(stage, { recursive: true, force: true }); // an interrupted setup's leftovers
    mkdirSync(stage, { recursive: true });
    const run = runner(options.verbose ?? false);

    // 1. The wheel(s) from PyPI.
    const wheels = join(stage, 'wheels');
    const tfPackage = variant === 'gpu' ? 'tensorflow' : 'tensorflow-cpu';
    log(`downloading ${tfPackage}==${tfVersion} from PyPI`);
    try {
      run('pip', tools.python, ['-m', 'pip', 'download', '--disable-pip-version-check', '--no-deps', '--only-binary=:all:', '-d', wheels, `${tfPackage}==${tfVersion}`]);
    } catch (e) {
      // A version PyPI does not have for this Python and platform: the user's input, one line.
      const versions = /\(from versions: ([^)]*)\)/.exec((e as Error).message)?.[1];
      if (/No matching distribution found/.test((e as Error).message)) {
        const known = versions ? versions.split(', ').filter((v) => /^\d+\.\d+\.\d+$/.test(v)) : [];
        throw new UserError(`--tf-version: PyPI has no ${tfPackage}==${tfVersion} wheel for this Python and platform${known.length ? `; recent: ${known.slice(-5).join(', ')}` : ''}`);
      }
      throw e;
    }
    const tfWheel = findWheel(wheels, tfPackage);
    const site = join(stage, 'site');
    const seeds = bindingHeaders(stage, variant, tfjsVersion, run, log);
    log('extracting the TensorFlow C library and headers from the wheel');
    run('wheel extraction', tools.python, ['-c', WHEEL_EXTRACT_PY, 'tensorflow', tfWheel, site, JSON.stringify(seeds)]);
    if (variant === 'gpu') {
      const meta = JSON.parse(run('wheel metadata', tools.python, ['-c', WHEEL_EXTRACT_PY, 'metadata', tfWheel, site])) as { requires: string[] };
      const cuda = meta.requires.filter((r) => /extra\s*==\s*["']and-cuda["']/.test(r)).map((r) => r.split(';')[0].replace(/[()\s]/g, ''));
      if (cuda.length === 0) throw new Error(`${tfPackage}==${tfVersion} declares no "and-cuda" extra: it has no CUDA wheels to pair with`);
      log(`downloading the CUDA 12 wheels (${cuda.length} packages) from PyPI`);
      run('pip', tools.python, ['-m', 'pip', 'download', '--disable-pip-version-check', '--no-deps', '--only-binary=:all:', '-d', wheels, ...cuda]);
      for (const w of readdirSync(wheels).filter((f) => f.startsWith('nvidia_'))) {
        run('wheel extraction', tools.python, ['-c', WHEEL_EXTRACT_PY, 'all', join(wheels, w), site]);
      }
    }
    rmSync(wheels, { recursive: true, force: true }); // pip keeps its own cache of them

    // 2. Link the package's deps/ to the wheel's files, build the binding, check that it loads.
    const pkgDir = packageDirOf(stage, variant);
    linkDeps(pkgDir, site, variant);
    log(`building the ${nodePackageName(variant)} binding against TensorFlow ${tfVersion} (node-gyp)`);
    run('node-gyp', process.execPath, [
      tools.nodeGyp,
      'rebuild',
      `--nodedir=${tools.nodeDir}`,
      '--module_name=tfjs_binding',
      `--module_path=lib/napi-v${NAPI_VERSION}`,
      `--napi_build_version=${NAPI_VERSION}`,
    ], { cwd: pkgDir });
    const built = join(pkgDir, 'build', 'Release', 'tfjs_binding.node');
    if (!existsSync(built)) throw new Error(`node-gyp finished but ${relative(stage, built)} is missing`);
    mkdirSync(join(pkgDir, 'lib', `napi-v${NAPI_VERSION}`), { recursive: true });
    renameSync(built, join(pkgDir, 'lib', `napi-v${NAPI_VERSION}`, 'tfjs_binding.node'));
    rmSync(join(pkgDir, 'build'), { recursive: true, force: true });
    buildQuietLoader(stage, tools, run);

    const marker = { variant, tfVersion, tfjsVersion, builtAt: new Date().toISOString(), node: process.version, napi: NAPI_VERSION, quietLoader: QUIET_LOADER_ID };
    writeFileSync(join(stage, 'ready.json'), JSON.stringify(marker, null, 2) + '\n');
    const probe = await probeInstall({ ...marker, dir: stage, packageDir: pkgDir });
    if (!probe.ok) throw new Error(`the binding was built but does not load: ${probe.error}`);

    rmSync(dir, { recursive: true, force: true });
    renameSync(stage, dir);
    const install = readInstall(dir);
    if (!install) throw new Error(`${dir} is not a ready install after its rename`);
    return { install, probe: await probeInstall(install), built: true, seconds: (Date.now() - started) / 1000 };
  } catch (e) {
    // A failed build (a version PyPI lacks, a compiler error) leaves nothing behind; only an
    // interrupted one leaves its stage, which the next run clears.
    rmSync(stage, { recursive: true, force: true });
    throw e;
  } finally {
    release();
  }
}

interface Tools {
  python: string;
  nodeGyp: string;
  nodeDir: string;
}

type Run = (what: string, file: string, args: string[], extra?: SpawnSyncOptions) => string;

function runner(verbose: boolean): Run {
  return (what, file, args, extra = {}) => {
    const r = spawnSync(file, args, { encoding: 'utf8', maxBuffer: 64 << 20, env: childEnv(), ...extra, stdio: ['ignore', 'pipe', verbose ? 'inherit' : 'pipe'] });
    if (r.error) throw new Error(`${what} could not start: ${r.error.message}`);
    if (r.status !== 0) {
      // pip's warnings about ignored index locations say nothing about the failure.
      const tail = String(r.stderr ?? '').trim().split('\n').filter((l) => l && !/^WARNING: Location .* is ignored/.test(l)).slice(-3).join(' | ');
      throw new Error(`${what} failed (exit ${r.status ?? r.signal})${tail ? `: ${tail}` : ''}`);
    }
    return String(r.stdout ?? '');
  };
}

/** The environment for pip, npm and node-gyp: without the variables of an enclosing `npm run`. */
function childEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^npm_(package|lifecycle)_|^npm_config_(workspace|prefix|global)|^INIT_CWD$/i.test(k)) continue;
    env[k] = v;
  }
  return env;
}

/** Every prerequisite, each as one line naming what is missing and how to get it. */
export function checkPrerequisites(variant: NativeVariant, home = segtuneHome()): Tools {
  const works = (file: string, args: string[]) => {
    const r = spawnSync(file, args, { stdio: 'ignore' });
    return !r.error && r.status === 0;
  };
  const python = process.env.SEGTUNE_PYTHON ?? 'python3';
  if (!works(python, ['--version'])) throw new UserError(`${python} is not on PATH (needed to fetch TensorFlow's wheels with pip; set SEGTUNE_PYTHON to another interpreter)`);
  if (!works(python, ['-m', 'pip', '--version'])) throw new UserError(`${python} has no pip (install it: python3 -m ensurepip, or the python3-pip package)`);
  if (!works('g++', ['--version'])) throw new UserError('g++ is not on PATH (needed to build the tfjs-node binding; install the g++ package)');
  if (!works('make', ['--version'])) throw new UserError('make is not on PATH (needed to build the tfjs-node binding; install the make package)');
  const nodeDir = findNodeDir();
  if (!nodeDir) {
    throw new UserError(`Node's headers are not installed (no include/node/node_api.h under ${nodeDirCandidates().join(' or ')}); install a Node build with headers (Debian: nodejs-dev), or set npm_config_nodedir`);
  }
  const nodeGyp = findNodeGyp();
  if (!nodeGyp) throw new UserError('node-gyp was not found (it ships with npm: is npm installed beside node?)');
  // SEGTUNE_SETUP_SKIP_DRIVER_CHECK=1 builds the GPU variant on a machine without a GPU (an
  // image to ship to GPU machines, or a test of the build): it loads, and computes on the CPU.
  if (variant === 'gpu' && !hasNvidiaDriver() && process.env.SEGTUNE_SETUP_SKIP_DRIVER_CHECK !== '1') {
    throw new UserError('--gpu needs an NVIDIA driver, and none was found (no nvidia-smi, no /proc/driver/nvidia/version); without --gpu segtune builds the CPU backend');
  }
  const needed = FREE_BYTES_NEEDED[variant];
  const free = freeBytes(home);
  if (free !== undefined && free < needed) {
    throw new UserError(`${(free / 1e9).toFixed(1)} GB free under ${home}, and the ${variant} setup needs about ${(needed / 1e9).toFixed(1)} GB (set SEGTUNE_HOME to a larger disk)`);
  }
  return { python, nodeGyp, nodeDir };
}

function nodeDirCandidates(): string[] {
  const fromEnv = process.env.npm_config_nodedir ?? process.env.SEGTUNE_NODEDIR;
  const exec = dirname(dirname(realpathSync(process.execPath)));
  return [...new Set([fromEnv, exec, '/usr', '/usr/local'].filter((d): d is string => !!d))];
}

function findNodeDir(): string | undefined {
  return nodeDirCandidates().find((d) => existsSync(join(d, 'include', 'node', 'node_api.h')));
}

function findNodeGyp(): string | undefined {
  const candidates: string[] = [];
  try {
    candidates.push(requireHere.resolve('node-gyp/bin/node-gyp.js'));
  } catch {
    // not a dependency of ours; use npm's own copy
  }
  const npmCli = [join(dirname(realpathSync(process.execPath)), '..', 'lib', 'node_modules', 'npm'), '/usr/lib/node_modules/npm', '/usr/local/lib/node_modules/npm', '/usr/share/nodejs/npm'];
  try {
    const npmPath = execFileSync('sh', ['-c', 'command -v npm'], { encoding: 'utf8' }).trim();
    if (npmPath) npmCli.unshift(join(dirname(realpathSync(npmPath)), '..'));
  } catch {
    // npm not on PATH
  }
  for (const root of npmCli) candidates.push(join(root, 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  return candidates.find((c) => existsSync(c));
}

function freeBytes(path: string): number | undefined {
  let p = path;
  while (!existsSync(p) && dirname(p) !== p) p = dirname(p);
  try {
    const s = statfsSync(p);
    return s.bavail * s.bsize;
  } catch {
    return undefined;
  }
}

/** One setup per install folder at a time; a lock left by a dead process is taken over. */
function takeLock(dir: string): () => void {
  const lock = `${dir}.lock`;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      mkdirSync(lock);
      writeFileSync(join(lock, 'pid'), String(process.pid));
      return () => rmSync(lock, { recursive: true, force: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const pid = Number(readFileSync(join(lock, 'pid'), { encoding: 'utf8', flag: 'a+' }).trim());
      if (pid && pid !== process.pid && processAlive(pid)) throw new UserError(`another segtune setup (pid ${pid}) is building ${dir}; wait for it to finish`);
      rmSync(lock, { recursive: true, force: true });
    }
  }
  throw new Error(`could not take the setup lock ${lock}`);
}

function findWheel(dir: string, pkg: string): string {
  const prefix = pkg.replace(/-/g, '_') + '-';
  const found = readdirSync(dir).find((f) => f.startsWith(prefix) && f.endsWith('.whl'));
  if (!found) throw new Error(`pip reported success but no ${pkg} wheel is in ${dir}`);
  return join(dir, found);
}

/**
 * Packs tfjs-node(-gpu) from npm without its install script, installs its runtime dependencies
 * (all but @tensorflow/*: the project's own tfjs is linked in at load time), and returns the
 * TensorFlow headers its binding's sources include, the seeds of the header extraction.
 */
function bindingHeaders(stage: string, variant: NativeVariant, tfjsVersion: string, run: Run, log: (l: string) => void): string[] {
  const name = nodePackageName(variant);
  const nodeRoot = join(stage, 'node');
  mkdirSync(nodeRoot, { recursive: true });
  log(`fetching ${name}@${tfjsVersion} from npm (without its install script)`);
  const packed = JSON.parse(run('npm pack', 'npm', ['pack', `${name}@${tfjsVersion}`, '--json', '--pack-destination', stage], { cwd: stage })) as { filename: string }[];
  const tarball = join(stage, packed[0].filename);
  const pkgDir = packageDirOf(stage, variant);
  const manifest = JSON.parse(execFileSync('tar', ['-xOzf', tarball, 'package/package.json'], { encoding: 'utf8' })) as { dependencies?: Record<string, string> };
  const deps = Object.fromEntries(Object.entries(manifest.dependencies ?? {}).filter(([d]) => !d.startsWith('@tensorflow/')));
  writeFileSync(join(nodeRoot, 'package.json'), JSON.stringify({ name: 'segtune-tfjs-node-runtime', private: true, dependencies: deps }, null, 2));
  run('npm install', 'npm', ['install', '--ignore-scripts', '--omit=dev', '--no-audit', '--no-fund', '--no-package-lock', '--loglevel=error'], { cwd: nodeRoot });
  // After the install, which would prune a package it does not know.
  mkdirSync(pkgDir, { recursive: true });
  run('tar', 'tar', ['-xzf', tarball, '-C', pkgDir, '--strip-components=1']);
  rmSync(tarball);
  const seeds = new Set<string>();
  const bindingDir = join(pkgDir, 'binding');
  for (const f of readdirSync(bindingDir)) {
    for (const m of readFileSync(join(bindingDir, f), 'utf8').matchAll(/^\s*#\s*include\s+"(tensorflow\/[^"]+)"/gm)) seeds.add(m[1]);
  }
  if (seeds.size === 0) throw new Error(`${name}@${tfjsVersion}'s binding includes no TensorFlow header: not the package layout this setup knows`);
  return [...seeds].sort();
}

/** The addon that loads libtensorflow_cc with its pre-logging lines kept off stderr (quiet-load.ts). */
function buildQuietLoader(stage: string, tools: Tools, run: Run): void {
  const dir = join(stage, 'quiet');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'quiet_load.cc'), QUIET_LOAD_CC);
  writeFileSync(join(dir, 'binding.gyp'), QUIET_LOAD_GYP);
  run('node-gyp (quiet loader)', process.execPath, [tools.nodeGyp, 'rebuild', `--nodedir=${tools.nodeDir}`], { cwd: dir });
  renameSync(join(dir, 'build', 'Release', 'quiet_load.node'), join(dir, 'quiet_load.node'));
  rmSync(join(dir, 'build'), { recursive: true, force: true });
}

/**
 * A ready install's quiet loader built again from this segtune's source, under the install's
 * lock. Interrupted, it leaves the old marker (so the next setup redoes it) and at worst no
 * loader, which only costs TensorFlow's start-up lines on stderr.
 */
function renewQuietLoader(install: TensorflowInstall, home: string, verbose: boolean): TensorflowInstall {
  const tools = checkPrerequisites(install.variant, home);
  const release = takeLock(install.dir);
  const stage = `${install.dir}.partial`;
  try {
    rmSync(stage, { recursive: true, force: true });
    mkdirSync(stage, { recursive: true });
    buildQuietLoader(stage, tools, runner(verbose));
    const quiet = join(install.dir, 'quiet');
    rmSync(quiet, { recursive: true, force: true });
    renameSync(join(stage, 'quiet'), quiet);
    const marker = join(install.dir, 'ready.json');
    const doc = JSON.parse(readFileSync(marker, 'utf8')) as Record<string, unknown>;
    writeFileSync(`${marker}.tmp`, JSON.stringify({ ...doc, quietLoader: QUIET_LOADER_ID }, null, 2) + '\n');
    renameSync(`${marker}.tmp`, marker);
  } finally {
    rmSync(stage, { recursive: true, force: true });
    release();
  }
  const renewed = readInstall(install.dir);
  if (!renewed) throw new Error(`${install.dir} is not a ready install after its quiet loader was rebuilt`);
  return renewed;
}

/** deps/include and deps/lib as the binding's build and its RUNPATH ($ORIGIN/../../deps/lib) expect. */
function linkDeps(pkgDir: string, site: string, variant: NativeVariant): void {
  const deps = join(pkgDir, 'deps');
  const lib = join(deps, 'lib');
  mkdirSync(lib, { recursive: true });
  const tf = join(site, 'tensorflow');
  const link = (target: string, at: string) => symlinkSync(relative(dirname(at), target), at);
  link(join(tf, 'include'), join(deps, 'include'));
  for (const name of ['libtensorflow.so', 'libtensorflow.so.2', 'libtensorflow_cc.so.2']) link(join(tf, 'libtensorflow_cc.so.2'), join(lib, name));
  for (const name of ['libtensorflow_framework.so', 'libtensorflow_framework.so.2']) link(join(tf, 'libtensorflow_framework.so.2'), join(lib, name));
  // The CUDA build finds cuDNN, cuBLAS, … through RUNPATH $ORIGIN/../nvidia/<pkg>/lib; $ORIGIN is
  // the folder the library was opened from (deps/lib), so deps/nvidia must lead to them too.
  if (variant === 'gpu' && existsSync(join(site, 'nvidia'))) link(join(site, 'nvidia'), join(deps, 'nvidia'));
}
