// Picks the tfjs backend a trial trains on: tfjs-node-gpu, then tfjs-node, then wasm with our
// training kernels, then the plain CPU backend. tfjs-node(-gpu) are optional and cannot be
// installed from npm alone (their install script downloads libtensorflow), so they are looked
// up at run time through a require whose module name is a variable: bundlers leave it alone
// and nothing fails when they are absent.
import { createRequire } from 'node:module';
import * as tfjs from '@tensorflow/tfjs';
import { getThreadsCount, setThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import { UserError } from '@segtune/core';
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

const NODE_PACKAGES: Record<'tensorflow-gpu' | 'tensorflow', string> = {
  'tensorflow-gpu': '@tensorflow/tfjs-node-gpu',
  tensorflow: '@tensorflow/tfjs-node',
};

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

async function loadNode(name: 'tensorflow-gpu' | 'tensorflow', threads: number): Promise<BackendInfo> {
  const pkg = NODE_PACKAGES[name];
  let resolved: string;
  try {
    resolved = requireHere.resolve(pkg);
  } catch {
    throw new Unavailable(`${pkg} is not installed`);
  }
  process.env.TF_NUM_INTRAOP_THREADS ??= String(threads);
  let tfn: TfModule;
  try {
    tfn = requireHere(resolved) as TfModule;
  } catch (e) {
    throw new Unavailable(`${pkg} is installed but failed to load: ${firstLine(e)}`);
  }
  if (!(await tfn.setBackend('tensorflow'))) throw new Unavailable(`${pkg} loaded but its 'tensorflow' backend did not initialise`);
  await tfn.ready();
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
  for (const name of ['tensorflow-gpu', 'tensorflow'] as const) {
    try {
      requireHere.resolve(NODE_PACKAGES[name]);
      names.push(name);
    } catch {
      // not installed
    }
  }
  names.push('wasm', 'cpu');
  return names.join(', ');
}
