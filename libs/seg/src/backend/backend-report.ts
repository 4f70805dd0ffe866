// What `segtune backends` prints: every tfjs backend, whether it is usable here and why not, its
// version, the threads a trial would get and the devices it computes on. Native builds are
// probed in a child process each (tensorflow-probe.ts): one process never holds two of them.
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import * as tfjs from '@tensorflow/tfjs';
import { gpuVisible } from './gpu-visible';
import { BACKEND_NAMES, initBackend, type BackendName } from './init-backend';
import { nativeBackendEnv } from './native-env';
import { findInstall, nodePackageName, type NativeVariant } from './tensorflow-cache';
import { probeInstall } from './tensorflow-probe';

export interface BackendReport {
  name: BackendName;
  usable: boolean;
  /** Why it is not usable, or a note on how it runs. */
  reason?: string;
  version?: string;
  /** Threads one trial computes with when `trialsAtOnce` trials run together. */
  threads?: number;
  /** Where the native build lives (node_modules or segtune's cache). */
  source?: string;
  gpu?: boolean;
}

const requireHere = createRequire(import.meta.url);

function nativeLocation(variant: NativeVariant): { dir: string; packageDir: string } | undefined {
  try {
    const pkg = requireHere.resolve(`${nodePackageName(variant)}/package.json`);
    return { dir: dirname(pkg), packageDir: dirname(pkg) };
  } catch {
    const install = findInstall(variant);
    return install && { dir: install.dir, packageDir: install.packageDir };
  }
}

export async function describeBackends(o: { trialsAtOnce: number }): Promise<BackendReport[]> {
  const threads = Number(nativeBackendEnv({ trialsAtOnce: o.trialsAtOnce }, {}).TF_NUM_INTRAOP_THREADS);
  const reports: BackendReport[] = [];
  for (const name of BACKEND_NAMES) {
    if (name === 'tensorflow-gpu' || name === 'tensorflow') {
      const variant: NativeVariant = name === 'tensorflow-gpu' ? 'gpu' : 'cpu';
      const where = nativeLocation(variant);
      const setup = `segtune setup tensorflow${variant === 'gpu' ? ' --gpu' : ''}`;
      if (!where) {
        reports.push({ name, usable: false, reason: `not set up (run: ${setup})` });
        continue;
      }
      if (variant === 'gpu' && !gpuVisible()) {
        reports.push({ name, usable: false, reason: 'set up, but no NVIDIA GPU is visible here (driver, CUDA_VISIBLE_DEVICES)', source: where.dir });
        continue;
      }
      const probe = await probeInstall(where);
      const version = probe.tfVersion ? `TensorFlow ${probe.tfVersion}, tfjs-node ${probe.tfjsNodeVersion}` : undefined;
      if (!probe.ok) reports.push({ name, usable: false, reason: `set up, but it does not load: ${probe.error} (run ${setup} --force)`, source: where.dir });
      else if (variant === 'gpu' && !probe.gpu) reports.push({ name, usable: false, reason: 'loads, but TensorFlow found no usable GPU', version, source: where.dir, gpu: false });
      else reports.push({ name, usable: true, version, threads: variant === 'gpu' ? undefined : threads, source: where.dir, gpu: probe.gpu });
      continue;
    }
    try {
      const info = await initBackend(name);
      reports.push({ name, usable: true, version: `tfjs ${tfjs.version_core}`, threads: info.threads ?? 1, reason: name === 'wasm' ? 'one thread per trial (tfjs runs wasm single-threaded in Node)' : undefined });
    } catch (e) {
      reports.push({ name, usable: false, reason: String((e as Error).message ?? e).split('\n')[0] });
    }
  }
  return reports;
}
