import { existsSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { UserError, type Workload } from '@segtune/core';
import type { WorkloadSpec } from '@segtune/space';
import { describeError, oneLine } from './failure';

export type ModuleSpec = Extract<WorkloadSpec, { kind: 'module' }>;

/**
 * A user's JavaScript module as a workload: its `export` (default: the default export) must be
 * a function. UserError when the file is missing, fails to load or exports no such function.
 */
export async function moduleWorkload(spec: ModuleSpec, options: { spaceDir: string }): Promise<Workload> {
  const file = isAbsolute(spec.path) ? spec.path : resolve(options.spaceDir, spec.path);
  if (!existsSync(file)) throw new UserError(`workload.path: module ${spec.path} not found (looked at ${file})`);
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  } catch (e) {
    throw new UserError(oneLine(`workload.path: module ${spec.path} failed to load: ${describeError(e)}`));
  }
  const name = spec.export ?? 'default';
  const fn = mod[name];
  if (typeof fn !== 'function') {
    const fns = Object.keys(mod).filter((k) => typeof mod[k] === 'function');
    const hint = fns.length ? `; its functions: ${fns.join(', ')} (choose one with workload.export)` : '; it exports no function at all';
    throw new UserError(`workload.export: module ${spec.path} has no function export "${name}"${hint}`);
  }
  return fn as Workload;
}
