import { existsSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { UserError, type Workload, type WorkloadResolver } from '@segtune/core';
import type { Params, WorkloadSpec } from '@segtune/space';
import type { Isolation } from './routing-executor';

/**
 * The module every executor thread and trial process imports to turn a `workload:` block into a
 * function. The executor never imports adapter packages itself; the CLI hands it this module.
 */
export interface ResolverModule {
  resolveWorkload: WorkloadResolver;
  /** Bytes a trial will need on its device, for memory-aware GPU packing; undefined if unknown. */
  estimateMemoryBytes?(spec: WorkloadSpec, params: Params): number | undefined | Promise<number | undefined>;
  /**
   * Whether a trial of this workload may share its process with other trials (`thread`, the
   * default), needs one of its own (`process`): native TensorFlow, say, which is not safe to
   * run as two runtimes in threads of one process, or may run on the search's own thread
   * (`main`): a built-in function that only awaits, for which a thread hop is most of a trial.
   */
  isolation?(spec: WorkloadSpec, context: { backend?: string }): Isolation | Promise<Isolation>;
}

/** An absolute path or a file URL, as a file URL string. */
export function resolverModuleUrl(ref: string): string {
  if (ref.startsWith('file:')) return ref;
  if (!isAbsolute(ref)) throw new UserError(`resolver module must be an absolute path or a file URL, got "${ref}"`);
  return pathToFileURL(ref).href;
}

const loaded = new Map<string, Promise<ResolverModule>>();

/** Imports the resolver module once per thread; UserError if it is missing or exports no `resolveWorkload`. */
export function loadResolverModule(ref: string): Promise<ResolverModule> {
  const url = resolverModuleUrl(ref);
  let p = loaded.get(url);
  if (!p) {
    p = importResolver(url);
    loaded.set(url, p);
    p.catch(() => loaded.delete(url));
  }
  return p;
}

async function importResolver(url: string): Promise<ResolverModule> {
  const file = fileURLToPath(url);
  if (!existsSync(file)) throw new UserError(`workload resolver module ${file} not found (build it with npm run build)`);
  const mod = (await import(url)) as Partial<ResolverModule>;
  if (typeof mod.resolveWorkload !== 'function') throw new UserError(`workload resolver module ${file} exports no function "resolveWorkload"`);
  if (mod.estimateMemoryBytes !== undefined && typeof mod.estimateMemoryBytes !== 'function') {
    throw new UserError(`workload resolver module ${file}: "estimateMemoryBytes" must be a function`);
  }
  if (mod.isolation !== undefined && typeof mod.isolation !== 'function') {
    throw new UserError(`workload resolver module ${file}: "isolation" must be a function`);
  }
  return mod as ResolverModule;
}

/** Resolves workloads through a resolver, one call per distinct spec and folder. */
export class WorkloadCache {
  private readonly cache = new Map<string, Promise<Workload>>();
  constructor(private readonly resolve: WorkloadResolver) {}

  get(spec: WorkloadSpec, spaceDir: string): Promise<Workload> {
    const key = `${spaceDir}\u0000${JSON.stringify(spec)}`;
    let p = this.cache.get(key);
    if (!p) {
      p = this.resolve(spec, { spaceDir }).then((w) => {
        if (typeof w !== 'function') throw new Error(`the resolver returned ${typeof w} for a ${spec.kind} workload; expected a function`);
        return w;
      });
      this.cache.set(key, p);
      // A failed resolution is retried by the next trial (a file may have appeared).
      p.catch(() => this.cache.delete(key));
    }
    return p;
  }
}
