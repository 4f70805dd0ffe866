// Where `segtune setup tensorflow` keeps native TensorFlow, and how a ready install is found and
// loaded. One folder per TensorFlow version, variant (cpu/gpu) and tfjs-node version:
//   $SEGTUNE_HOME/tensorflow/<tf>-<variant>-tfjs<tfjs>/
//     site/tensorflow/{libtensorflow_cc.so.2, libtensorflow_framework.so.2, include/…}
//     site/nvidia/<pkg>/lib/…                     (gpu: the CUDA 12 wheels, as in a site-packages)
//     node/node_modules/@tensorflow/tfjs-node(-gpu)/ (its deps/ link into site/, binding built)
//     ready.json                                     (written last: a folder without it is unfinished)
// The folder is built beside itself and renamed into place, so an interrupted setup leaves no
// half-ready install behind.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import Module from 'node:module';
import { homedir } from 'node:os';
import { join, resolve, sep } from 'node:path';
import { notTensorflowLines } from './quiet-load';

export type NativeVariant = 'cpu' | 'gpu';

/** The TensorFlow release segtune builds against unless told otherwise (tested here). */
export const DEFAULT_TF_VERSION = '2.21.0';

export interface TensorflowInstall {
  dir: string;
  variant: NativeVariant;
  tfVersion: string;
  tfjsVersion: string;
  /** The built tfjs-node(-gpu) package folder. */
  packageDir: string;
  builtAt: string;
  /** Which of quiet-load.ts's addons (quiet/quiet_load.node) it holds: QUIET_LOADER_ID, or true before loaders had ids. */
  quietLoader?: boolean | string;
}

const requireHere = createRequire(import.meta.url);

/** segtune's cache root: $SEGTUNE_HOME, else $XDG_CACHE_HOME/segtune, else ~/.cache/segtune. */
export function segtuneHome(env: NodeJS.ProcessEnv = process.env): string {
  if (env.SEGTUNE_HOME) return resolve(env.SEGTUNE_HOME);
  return join(env.XDG_CACHE_HOME ? resolve(env.XDG_CACHE_HOME) : join(homedir(), '.cache'), 'segtune');
}

/** The @tensorflow/tfjs version this project runs (tfjs-node must match it: one tfjs engine). */
export function projectTfjsVersion(): string {
  const pkg = requireHere.resolve('@tensorflow/tfjs/package.json');
  return (JSON.parse(readFileSync(pkg, 'utf8')) as { version: string }).version;
}

export function nodePackageName(variant: NativeVariant): string {
  return variant === 'gpu' ? '@tensorflow/tfjs-node-gpu' : '@tensorflow/tfjs-node';
}

export function installDir(variant: NativeVariant, tfVersion: string, tfjsVersion: string, home = segtuneHome()): string {
  return join(home, 'tensorflow', `${tfVersion}-${variant}-tfjs${tfjsVersion}`);
}

export function packageDirOf(dir: string, variant: NativeVariant): string {
  return join(dir, 'node', 'node_modules', ...nodePackageName(variant).split('/'));
}

/** The ready install in `dir`, or undefined (missing, unfinished, or for another variant). */
export function readInstall(dir: string): TensorflowInstall | undefined {
  const marker = join(dir, 'ready.json');
  if (!existsSync(marker)) return undefined;
  try {
    const m = JSON.parse(readFileSync(marker, 'utf8')) as Omit<TensorflowInstall, 'dir' | 'packageDir'>;
    const packageDir = packageDirOf(dir, m.variant);
    if (!existsSync(join(packageDir, 'lib', 'napi-v8', 'tfjs_binding.node'))) return undefined;
    return { ...m, dir, packageDir };
  } catch {
    return undefined;
  }
}

function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d) return d;
  }
  return 0;
}

/**
 * The install the backend of this variant loads: the version in $SEGTUNE_TF_VERSION if set, else
 * the default version, else the newest ready one; always for this project's tfjs version.
 */
export function findInstall(variant: NativeVariant, env: NodeJS.ProcessEnv = process.env): TensorflowInstall | undefined {
  const root = join(segtuneHome(env), 'tensorflow');
  if (!existsSync(root)) return undefined;
  const tfjs = projectTfjsVersion();
  const suffix = `-${variant}-tfjs${tfjs}`;
  const ready = readdirSync(root)
    .filter((name) => name.endsWith(suffix))
    .map((name) => readInstall(join(root, name)))
    .filter((i): i is TensorflowInstall => i !== undefined);
  const wanted = env.SEGTUNE_TF_VERSION;
  if (wanted) return ready.find((i) => i.tfVersion === wanted);
  return ready.find((i) => i.tfVersion === DEFAULT_TF_VERSION) ?? ready.sort((a, b) => compareVersions(b.tfVersion, a.tfVersion))[0];
}

type ResolveFilename = (request: string, parent: { filename?: string | null } | undefined, ...rest: unknown[]) => string;
const hooked = new Set<string>();

/**
 * Makes the cached tfjs-node use this project's @tensorflow/tfjs (and tfjs-core): two copies
 * would be two engines, and tensors of one would be foreign to the other. Only requests from
 * inside the cached folder are redirected; node resolves everything else as usual. Node offers
 * no public hook for CommonJS resolution, hence Module._resolveFilename (as module-alias and
 * tsconfig-paths do).
 */
export function linkProjectTfjs(installRoot: string): void {
  const prefix = installRoot.endsWith(sep) ? installRoot : installRoot + sep;
  if (hooked.has(prefix)) return;
  hooked.add(prefix);
  const mod = Module as unknown as { _resolveFilename: ResolveFilename };
  const original = mod._resolveFilename;
  mod._resolveFilename = function (request, parent, ...rest) {
    if (parent?.filename?.startsWith(prefix) && /^@tensorflow\/tfjs(-(core|backend-cpu|converter|layers|data))?(\/|$)/.test(request)) {
      return requireHere.resolve(request);
    }
    return original.call(this, request, parent, ...rest);
  };
}

/**
 * Loads the install's tfjs-node package (this project's tfjs inside). TensorFlow's library is
 * loaded first through the quiet loader, unless TF_CPP_MIN_LOG_LEVEL is 0 (--verbose).
 */
export function requireInstall(install: TensorflowInstall): unknown {
  linkProjectTfjs(install.dir);
  const loader = join(install.dir, 'quiet', 'quiet_load.node');
  if (existsSync(loader)) {
    const quiet = (process.env.TF_CPP_MIN_LOG_LEVEL ?? '2') !== '0';
    const lib = join(install.packageDir, 'deps', 'lib', 'libtensorflow_cc.so.2');
    const r = (requireHere(loader) as { load(path: string, quiet: boolean): { ok: boolean; error: string; captured: string } }).load(lib, quiet);
    const others = notTensorflowLines(r.captured);
    if (others) process.stderr.write(others);
    if (!r.ok) throw new Error(`TensorFlow's library did not load: ${r.error}`);
  }
  return requireHere(install.packageDir);
}

/** Whether a native build of this variant is installed (node_modules or segtune's cache); loads nothing. */
export function nativeAvailable(variant: NativeVariant): boolean {
  try {
    requireHere.resolve(nodePackageName(variant));
    return true;
  } catch {
    return findInstall(variant) !== undefined;
  }
}
