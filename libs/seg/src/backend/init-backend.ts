// Picks the tfjs backend a trial trains on: native TensorFlow on a GPU, then native TensorFlow
// on the CPU, then wasm with our training kernels, then the plain CPU backend. The native ones are
// @tensorflow/tfjs-node(-gpu), either installed by the user in node_modules or built by
// `segtune setup tensorflow [--gpu]` into segtune's cache against PyPI's TensorFlow wheels
// (tensorflow-cache.ts). They are looked up at run time through a require whose module name is
// a variable: bundlers leave it alone and nothing fails when they are absent.
import { createRequire } from 'node:module';
import * as tfjs from '@tensorflow/tfjs';
import { getThreadsCount, setThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import { UserError } from '@segtune/core';
import { gpuVisible } from './gpu-visible';
import { findInstall, nativeAvailable, nodePackageName, requireInstall, type NativeVariant } from './tensorflow-cache';
import { configureWasmPaths } from './wasm-paths';
import { registerWasmTrainingKernels } from './wasm-training-kernels';

export type TfModule = typeof import('@tensorflow/tfjs');
export type BackendName = 'tensorflow-gpu' | 'tensorflow' | 'wasm' | 'cpu';
export const BACKEND_NAMES: readonly BackendName[] = ['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'];

export interface BackendInfo {
  name: BackendName;
  /** The tfjs module to build and train with (tfjs-node's own export for the node backends). */
  tf: TfModule;
  /** Threads the backend computes with (wasm in Node: always 1, see threads below). */
  threads?: number;
  /** Backends tried before this one in automatic choice, with why each was passed over. */
  skipped?: { name: BackendName; reason: string }[];
}

export interface InitBackendOptions {
  /**
   * Threads per process. Default: SEGTUNE_TF_THREADS, else 1, which suits an executor running
   * one trial per core. tfjs-node reads it as TF_NUM_INTRAOP_THREADS (when that is unset, before
   * it loads); the wasm backend only honours it where its threaded binary runs (browsers):
   * tfjs disables wasm threads in Node (tensorflow/tfjs#3830).
   */
  threads?: number;
}

const settled = new Map<BackendName, BackendInfo>();
let automatic: Promise<BackendInfo> | undefined;
const requireHere = createRequire(import.meta.url);

class Unavailable extends Error {}

function defaultThreads(options?: InitBackendOptions): number {
  const fromEnv = Number(process.env.SEGTUNE_TF_THREADS);
  const threads = options?.threads ?? (Number.isFinite(fromEnv) && fromEnv > 0 ? fromEnv : 1);
  if (!Number.isInteger(threads) || threads < 1) throw new UserError(`backend threads must be a positive integer, got ${threads}`);
  return threads;
}

function firstLine(e: unknown): string {
  return String(e instanceof Error ? e.message : e).split('\n')[0];
}

/** The native variant this process loaded: one TensorFlow runtime per process, never two. */
let nativeLoaded: NativeVariant | undefined;

/** tfjs-node(-gpu) as installed in node_modules by the user, else as built by `segtune setup`. */
function requireNative(variant: NativeVariant): { tf: TfModule; from: string } {
  const pkg = nodePackageName(variant);
  let resolved: string | undefined;
  try {
    resolved = requireHere.resolve(pkg);
  } catch {
    // not in node_modules; look in segtune's cache
  }
  const setup = `segtune setup tensorflow${variant === 'gpu' ? ' --gpu' : ''}`;
  try {
    if (resolved) return { tf: requireHere(resolved) as TfModule, from: resolved };
    const install = findInstall(variant);
    if (!install) throw new Unavailable(`native TensorFlow${variant === 'gpu' ? ' for GPUs' : ''} is not set up (run: ${setup})`);
    return { tf: requireInstall(install) as TfModule, from: install.dir };
  } catch (e) {
    if (e instanceof Unavailable) throw e;
    throw new Unavailable(`${pkg} failed to load: ${firstLine(e)} (run ${setup} again)`);
  }
}

async function loadNode(name: 'tensorflow-gpu' | 'tensorflow', threads: number): Promise<BackendInfo> {
  const variant: NativeVariant = name === 'tensorflow-gpu' ? 'gpu' : 'cpu';
  if (variant === 'gpu' && !gpuVisible()) throw new Unavailable('no NVIDIA GPU is visible here (no driver, or CUDA_VISIBLE_DEVICES hides them)');
  // The CUDA build that found no GPU still computes on the CPU: it serves as 'tensorflow' then.
  const build: NativeVariant = variant === 'cpu' && nativeLoaded === 'gpu' ? 'gpu' : variant;
  if (nativeLoaded && nativeLoaded !== build) throw new Unavailable(`this process already runs the ${nativeLoaded} build of TensorFlow, and one process cannot hold two`);
  // Read by TensorFlow when its first context is made. Only the main thread's process.env is the
  // real environment: executors set these before they start worker threads (native-env.ts).
  process.env.TF_NUM_INTRAOP_THREADS ??= String(threads);
  process.env.TF_NUM_INTEROP_THREADS ??= '1';
  process.env.TF_CPP_MIN_LOG_LEVEL ??= '2';
  process.env.TF_ENABLE_ONEDNN_OPTS ??= '1'; // set explicitly, TensorFlow stops announcing it
  const { tf: tfn } = requireNative(build);
  nativeLoaded = build;
  if (!(await tfn.setBackend('tensorflow'))) throw new Unavailable(`${nodePackageName(build)} loaded but its 'tensorflow' backend did not initialise`);
  await tfn.ready();
  if (variant === 'gpu' && !(tfn.backend() as unknown as { binding: { isUsingGpuDevice(): boolean } }).binding.isUsingGpuDevice()) {
    throw new Unavailable('TensorFlow loaded but found no usable GPU (check the driver and CUDA_VISIBLE_DEVICES)');
  }
  return { name, tf: tfn, threads: Number(process.env.TF_NUM_INTRAOP_THREADS) || threads };
}

async function loadWasm(threads: number): Promise<BackendInfo> {
  configureWasmPaths();
  registerWasmTrainingKernels();
  // Only effective before the wasm backend first initialises, and only with threads support.
  if (tfjs.findBackend('wasm') == null) setThreadsCount(threads);
  if (!(await tfjs.setBackend('wasm'))) throw new Unavailable('the wasm backend did not initialise (see the error logged above)');
  await tfjs.ready();
  return { name: 'wasm', tf: tfjs, threads: getThreadsCount() };
}

async function loadCpu(): Promise<BackendInfo> {
  if (!(await tfjs.setBackend('cpu'))) throw new Unavailable('the cpu backend did not initialise');
  await tfjs.ready();
  return { name: 'cpu', tf: tfjs, threads: 1 };
}

async function load(name: BackendName, threads: number): Promise<BackendInfo> {
  const known = settled.get(name);
  if (known) {
    // Another call may have switched backends since; make this one current again.
    if (known.tf.getBackend() !== (name.startsWith('tensorflow') ? 'tensorflow' : name)) await known.tf.setBackend(name.startsWith('tensorflow') ? 'tensorflow' : name);
    return known;
  }
  const info = name === 'wasm' ? await loadWasm(threads) : name === 'cpu' ? await loadCpu() : await loadNode(name, threads);
  settled.set(name, info);
  return info;
}

async function pickAutomatically(threads: number): Promise<BackendInfo> {
  const skipped: { name: BackendName; reason: string }[] = [];
  for (const name of BACKEND_NAMES) {
    try {
      const info = await load(name, threads);
      return skipped.length ? { ...info, skipped } : info;
    } catch (e) {
      if (!(e instanceof Unavailable) && name !== 'wasm') throw e;
      skipped.push({ name, reason: firstLine(e) });
    }
  }
  throw new Error(`no tfjs backend could be initialised: ${skipped.map((s) => `${s.name}: ${s.reason}`).join('; ')}`);
}

/**
 * Picks the best available backend (tfjs-node-gpu, then tfjs-node, then wasm with our training
 * kernels, then cpu), or the forced one ('tensorflow-gpu' | 'tensorflow' | 'wasm' | 'cpu';
 * 'auto' or nothing picks). Idempotent per process; throws UserError for an unknown or
 * unavailable forced backend.
 */
export async function initBackend(preferred?: string, options?: InitBackendOptions): Promise<BackendInfo> {
  const threads = defaultThreads(options);
  if (preferred == null || preferred === '' || preferred === 'auto') {
    automatic ??= pickAutomatically(threads);
    const info = await automatic;
    return load(info.name, threads).then(() => info);
  }
  if (!(BACKEND_NAMES as readonly string[]).includes(preferred)) {
    throw new UserError(`unknown tfjs backend '${preferred}' (allowed: auto, ${BACKEND_NAMES.join(', ')})`);
  }
  try {
    return await load(preferred as BackendName, threads);
  } catch (e) {
    if (e instanceof Unavailable) throw new UserError(`tfjs backend '${preferred}' is not available: ${e.message} (allowed here: ${availableHint()})`);
    throw e;
  }
}

/** Backend names that could load in this process (cheap: resolves packages, loads nothing). */
export function availableHint(): string {
  const names: string[] = ['auto'];
  for (const [name, variant] of [['tensorflow-gpu', 'gpu'], ['tensorflow', 'cpu']] as const) {
    if (variant === 'gpu' && !gpuVisible()) continue;
    if (nativeAvailable(variant)) names.push(name);
  }
  names.push('wasm', 'cpu');
  return names.join(', ');
}

/**
 * Checks a forced backend before any trial starts, without loading it: an unknown name, or a
 * native one that is not set up (naming the setup command), or a GPU one with no GPU visible,
 * is a UserError. Whether it then loads is each trial's to find out (and to record).
 */
export function assertBackendAvailable(preferred: string | undefined): void {
  if (preferred == null || preferred === '' || preferred === 'auto' || preferred === 'wasm' || preferred === 'cpu') return;
  if (!(BACKEND_NAMES as readonly string[]).includes(preferred)) {
    throw new UserError(`--backend: unknown tfjs backend '${preferred}' (allowed: auto, ${BACKEND_NAMES.join(', ')})`);
  }
  const variant: NativeVariant = preferred === 'tensorflow-gpu' ? 'gpu' : 'cpu';
  if (!nativeAvailable(variant)) throw new UserError(`--backend ${preferred}: native TensorFlow${variant === 'gpu' ? ' for GPUs' : ''} is not set up (run: segtune setup tensorflow${variant === 'gpu' ? ' --gpu' : ''})`);
  if (variant === 'gpu' && !gpuVisible()) throw new UserError(`--backend tensorflow-gpu: no NVIDIA GPU is visible here (no driver, or CUDA_VISIBLE_DEVICES hides them)`);
}
