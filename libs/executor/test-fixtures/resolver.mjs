// Test resolver: `module` workloads relative to the space folder, plus a memory estimate
// (params.mem_mb) for the packing tests. The real one is apps/cli/src/workloads.ts.
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

export async function resolveWorkload(spec, { spaceDir }) {
  if (spec.kind !== 'module') throw new Error(`test resolver: unsupported workload kind "${spec.kind}"`);
  const file = isAbsolute(spec.path) ? spec.path : resolve(spaceDir, spec.path);
  const mod = await import(pathToFileURL(file).href);
  const fn = mod[spec.export ?? 'default'];
  if (typeof fn !== 'function') throw new Error(`${spec.path} exports no function "${spec.export ?? 'default'}"`);
  return fn;
}

export function estimateMemoryBytes(_spec, params) {
  return typeof params.mem_mb === 'number' ? params.mem_mb * 2 ** 20 : undefined;
}
