// Loads a native TensorFlow install in a child process and runs a few ops on it (a matmul, a
// convolution's gradient), so that a binding that crashes on load takes only the child down.
// Used by the setup (before an install is declared ready) and by `segtune backends`; a process
// must never load two TensorFlow runtimes (both are libtensorflow_cc.so.2).
import { spawn } from 'node:child_process';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TensorflowInstall } from './tensorflow-cache';

export interface ProbeResult {
  ok: boolean;
  /** TensorFlow's own version (TF_Version of the C library). */
  tfVersion?: string;
  tfjsNodeVersion?: string;
  /** Whether TensorFlow placed the ops on a GPU. */
  gpu?: boolean;
  /** Intra-op threads TensorFlow was told to use (TF_NUM_INTRAOP_THREADS; unset: all cores). */
  intraOpThreads?: number;
  error?: string;
  seconds: number;
}

const PROBE_JS = String.raw`
const Module = require('module');
const [installRoot, pkgDir, base] = process.argv.slice(1);
const original = Module._resolveFilename;
Module._resolveFilename = function (request, parent, ...rest) {
  if (parent && parent.filename && parent.filename.startsWith(installRoot + '/') && /^@tensorflow\/tfjs(-(core|backend-cpu|converter|layers|data))?(\/|$)/.test(request)) {
    return require.resolve(request, { paths: [base] });
  }
  return original.call(this, request, parent, ...rest);
};
try {
  const tf = require(pkgDir);
  const binding = tf.backend().binding;
  const y = tf.matMul(tf.tensor2d([[1, 2], [3, 4]]), tf.tensor2d([[5], [6]])).dataSync();
  if (y[0] !== 17 || y[1] !== 39) throw new Error('matMul gave ' + Array.from(y));
  const x = tf.randomNormal([1, 8, 8, 2], 0, 1, 'float32', 1);
  const g = tf.grad((f) => tf.conv2d(x, f, 1, 'same').square().sum())(tf.ones([3, 3, 2, 4]));
  const gs = g.dataSync();
  if (!gs.every(Number.isFinite)) throw new Error('conv2d gradient is not finite');
  process.stdout.write(JSON.stringify({ ok: true, backend: tf.getBackend(), tfVersion: binding.TF_Version, tfjsNodeVersion: tf.version['tfjs-node'] || tf.version_node, gpu: binding.isUsingGpuDevice() }) + '\n');
} catch (e) {
  process.stdout.write(JSON.stringify({ ok: false, error: String((e && e.message) || e).split('\n')[0] }) + '\n');
}
`;

export function probeInstall(install: Pick<TensorflowInstall, 'dir' | 'packageDir'>, timeoutMs = 120_000): Promise<ProbeResult> {
  const started = Date.now();
  const base = dirname(fileURLToPath(import.meta.url));
  return new Promise((done) => {
    const child = spawn(process.execPath, ['-e', PROBE_JS, install.dir, install.packageDir, base], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { TF_CPP_MIN_LOG_LEVEL: '2', ...process.env },
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d));
    child.stderr.on('data', (d: Buffer) => (err = (err + d).slice(-4000)));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const seconds = (Date.now() - started) / 1000;
      const line = out.trim().split('\n').pop() ?? '';
      try {
        const r = JSON.parse(line) as Omit<ProbeResult, 'seconds'>;
        const threads = Number(process.env.TF_NUM_INTRAOP_THREADS);
        done({ ...r, intraOpThreads: Number.isInteger(threads) && threads > 0 ? threads : undefined, seconds });
      } catch {
        const why = signal ? `the process was killed by ${signal}` : `exit ${code}`;
        const tail = err.trim().split('\n').filter(Boolean).pop();
        done({ ok: false, error: `${why}${tail ? `: ${tail}` : ''}`, seconds });
      }
    });
  });
}
