import { PARZEN_KERNEL_WASM } from './parzen-kernel.generated';

// The Parzen estimator's hot loop in WebAssembly (parzen-kernel.wat): the continuous dimensions'
// squared distances over every kernel, two kernels per SIMD instruction, then the log-sum-exp.
// At 1,000 trials TPE's bad-group estimator holds ~1,000 kernels and a suggestion scores 24
// candidates against it; a converged study's kernels sit near the candidates, so the JS loop's
// early stop visits 3.5 of 6 dimensions per kernel on Hartmann6 anyway, at ~3 ns per kernel and
// dimension. The results are the JS loop's to the bit: the same IEEE operations in the same
// order, the same first maximum, the same terms summed (the JS loop skips only kernels more than
// 41 below the maximum, which its log-sum-exp leaves out too), the host's own Math.exp and
// Math.log. parzen-kernel.test.ts checks that on random estimators and whole TPE runs.

/**
 * Below this many kernels the JS loop is as fast (measured: level at 3-5 kernels, wasm 1.4-1.9x
 * faster from 9, 2-3x from 65, 24 candidates in 1 to 6 dimensions).
 */
export const WASM_MIN_KERNELS = 8;

export interface KernelExports {
  memory: WebAssembly.Memory;
  values(m: number, nc: number, inv: number, mu: number, base: number, x: number, q: number): void;
  logpdf(m: number, nc: number, nrows: number, inv: number, mu: number, base: number, rows: number, out: number, q: number): void;
}

let instance: KernelExports | null | undefined;
let enabled = true;

/** The instantiated kernel, or null where WebAssembly SIMD is unavailable (then JS is used). */
export function parzenKernel(): KernelExports | null {
  if (!enabled) return null;
  if (instance !== undefined) return instance;
  try {
    const bytes = Uint8Array.from(atob(PARZEN_KERNEL_WASM), (c) => c.charCodeAt(0));
    instance = WebAssembly.validate(bytes)
      ? (new WebAssembly.Instance(new WebAssembly.Module(bytes), { m: { exp: Math.exp, log: Math.log } }).exports as unknown as KernelExports)
      : null;
  } catch {
    instance = null;
  }
  return instance;
}

/** Turns the wasm kernel off or on (tests compare both paths); estimators built after the call follow it. */
export function setParzenKernelEnabled(on: boolean): void {
  enabled = on;
}

/** The continuous dimensions of an estimator, dimension-major, as the kernel reads them. */
export interface KernelData {
  m: number;
  nc: number;
  inv: Float64Array;
  mu: Float64Array;
  base: Float64Array;
}

const align = (n: number) => (n + 15) & ~15;
/** The data last copied into wasm memory, so a second evaluation of the same estimator skips the copy. */
let loaded: { data: KernelData; buffer: ArrayBuffer } | undefined;

/** Byte offsets of the data, the rows, the results and the scratch, growing memory to hold them. */
function layout(k: KernelExports, data: KernelData, nrows: number) {
  const { m, nc } = data;
  const inv = 0;
  const mu = align(inv + nc * m * 8);
  const base = align(mu + nc * m * 8);
  const rows = align(base + m * 8);
  const out = align(rows + nrows * nc * 8);
  const q = align(out + nrows * 8);
  const end = q + m * 8;
  const have = k.memory.buffer.byteLength;
  if (end > have) k.memory.grow(Math.ceil((end - have) / 65536));
  const buffer = k.memory.buffer as ArrayBuffer;
  if (loaded?.data !== data || loaded.buffer !== buffer) {
    new Float64Array(buffer, inv, nc * m).set(data.inv);
    new Float64Array(buffer, mu, nc * m).set(data.mu);
    new Float64Array(buffer, base, m).set(data.base);
    loaded = { data, buffer };
  }
  return { buffer, inv, mu, base, rows, out, q };
}

/** log density of each row over continuous dimensions only (`contDims` picks them from a row). */
export function kernelLogPdf(k: KernelExports, data: KernelData, rows: readonly (readonly number[])[], contDims: readonly number[]): Float64Array {
  const n = rows.length;
  const at = layout(k, data, n);
  const x = new Float64Array(at.buffer, at.rows, n * data.nc);
  for (let i = 0; i < n; i++) for (let c = 0; c < data.nc; c++) x[i * data.nc + c] = rows[i][contDims[c]];
  k.logpdf(data.m, data.nc, n, at.inv, at.mu, at.base, at.rows, at.out, at.q);
  return new Float64Array(at.buffer, at.out, n).slice();
}

/**
 * Each kernel's log weight plus the continuous dimensions' log density of one row, into `acc`
 * (the discrete and categorical dimensions are added by the caller).
 */
export function kernelValues(k: KernelExports, data: KernelData, row: readonly number[], contDims: readonly number[], acc: Float64Array): void {
  const at = layout(k, data, 1);
  const x = new Float64Array(at.buffer, at.rows, data.nc);
  for (let c = 0; c < data.nc; c++) x[c] = row[contDims[c]];
  k.values(data.m, data.nc, at.inv, at.mu, at.base, at.rows, at.q);
  acc.set(new Float64Array(at.buffer, at.q, data.m));
}
