import { describe, expect, it } from 'vitest';
import { Rng } from '@segtune/core';
import { cholesky, choleskyInverse, solveLower, solveUpper, solveUpperTransposed, transposeLower } from './cholesky';

function spd(n: number, seed: number): Float64Array {
  const rng = new Rng(seed);
  const B = Array.from({ length: n * n }, () => rng.normal(0, 1));
  const A = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
    let s = i === j ? n : 0;
    for (let k = 0; k < n; k++) s += B[i * n + k] * B[j * n + k];
    A[i * n + j] = s;
  }
  return A;
}

describe('typed-array Cholesky', () => {
  it('factors, solves and inverts a random SPD matrix to 1e-9', () => {
    const n = 37;
    const A = spd(n, 4);
    const L = Float64Array.from(A);
    expect(cholesky(L, n)).toBe(true);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
      let s = 0;
      for (let k = 0; k < n; k++) s += L[i * n + k] * L[j * n + k];
      expect(Math.abs(s - A[i * n + j])).toBeLessThan(1e-9 * n);
      if (j > i) expect(L[i * n + j]).toBe(0);
    }
    const b = Array.from({ length: n }, (_, i) => Math.sin(i));
    const x = solveUpper(L, n, solveLower(L, n, b));
    // From the transposed factor: the same operations in the same order, so the same bits.
    expect(Array.from(solveUpperTransposed(transposeLower(L, n), n, solveLower(L, n, b)))).toEqual(Array.from(x));
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let k = 0; k < n; k++) s += A[i * n + k] * x[k];
      expect(s).toBeCloseTo(b[i], 9);
    }
    const inv = choleskyInverse(L, n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
      let s = 0;
      for (let k = 0; k < n; k++) s += A[i * n + k] * inv[k * n + j];
      expect(s).toBeCloseTo(i === j ? 1 : 0, 9);
    }
  });

  it('reports a matrix that is not positive definite', () => {
    expect(cholesky(Float64Array.of(1, 2, 2, 1), 2)).toBe(false);
  });
});
