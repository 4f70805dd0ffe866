// The workload resolver that every executor thread and GPU process loads (bundled to
// dist/workloads.mjs): it turns a space file's `workload:` block into a function. Adapters are
// imported lazily so a benchmark study never loads tfjs.
import { existsSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { UserError, type Workload } from '@segtune/core';
import type { Params, WorkloadSpec } from '@segtune/space';

export async function resolveWorkload(spec: WorkloadSpec, options: { spaceDir: string }): Promise<Workload> {
  switch (spec.kind) {
    case 'benchmark':
      return (await import('@segtune/benchmarks')).benchmarkWorkload(spec);
    case 'simulator':
      return (await import('@segtune/benchmarks')).simulatorWorkload(spec);
    case 'segmentation':
      return (await import('@segtune/seg')).segmentationWorkload(spec);
    case 'command':
      return (await import('@segtune/executor')).commandWorkload(spec, options);
    case 'module':
      return loadModuleWorkload(spec.path, spec.export, options.spaceDir);
  }
}

/** A user's module: its default export, or the named `export`, must be a function. */
export async function loadModuleWorkload(path: string, exportName: string | undefined, spaceDir: string): Promise<Workload> {
  const file = isAbsolute(path) ? path : resolve(spaceDir, path);
  if (!existsSync(file)) throw new UserError(`workload module ${path} not found (looked at ${file})`);
  const mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  const name = exportName ?? 'default';
  const fn = mod[name];
  if (typeof fn !== 'function') {
    const fns = Object.keys(mod).filter((k) => typeof mod[k] === 'function');
    throw new UserError(`workload module ${path} exports no function "${name}"${fns.length ? `; it exports: ${fns.join(', ')}` : ''}`);
  }
  return fn as Workload;
}

let seg: typeof import('@segtune/seg') | undefined;

/**
 * A segmentation trial that may train on native TensorFlow runs in a process of its own
 * (see mayLoadNative). The built-in benchmark functions and the training simulator run on the
 * search's own thread: they compute for microseconds and otherwise only await (their steps'
 * sleeps, reports), so a trial there costs nothing the search would notice, where a round trip
 * to a worker thread took 0.25 ms, half of a random-search trial's whole cost through the CLI.
 * Every other workload runs in a worker thread. A module workload that loads a native library
 * itself can ask with `--executor process`; `--executor pool` puts benchmarks on threads too.
 */
export async function isolation(spec: WorkloadSpec, context: { backend?: string }): Promise<'main' | 'thread' | 'process'> {
  if (spec.kind === 'benchmark' || spec.kind === 'simulator') return 'main';
  if (spec.kind !== 'segmentation') return 'thread';
  const own = (spec as { backend?: unknown }).backend;
  const backend = context.backend ?? (typeof own === 'string' ? own : undefined);
  // Asked before every trial: what is set up is looked up on disk once per backend name.
  let decided = isolationByBackend.get(backend);
  if (!decided) {
    decided = import('@segtune/seg/native-env').then(({ mayLoadNative }) => (mayLoadNative(backend) ? 'process' : 'thread'));
    isolationByBackend.set(backend, decided);
  }
  return decided;
}

const isolationByBackend = new Map<string | undefined, Promise<'thread' | 'process'>>();

/** Memory a trial will need, for GPU packing; undefined when the workload cannot tell. */
export async function estimateMemoryBytes(spec: WorkloadSpec, params: Params): Promise<number | undefined> {
  if (spec.kind !== 'segmentation') return undefined;
  seg ??= await import('@segtune/seg');
  return seg.estimateMemoryBytes(params, spec);
}
