// Dense Cholesky factorisation and triangular solves on flat row-major Float64Arrays. ml-matrix
// has a Cholesky, but its Matrix of row arrays costs a copy in and out on every one of the
// hundreds of factorisations a GP fit makes, and its loops walk columns across rows; these walk
// rows, so the inner loops are contiguous dot products and axpys.

/**
 * Factors the symmetric positive-definite matrix whose lower triangle is in `A` (n × n,
 * row-major) in place: afterwards the lower triangle holds L with A = LLᵀ and the upper triangle
 * is zero. Returns false (A partly overwritten) when A is not positive definite.
 */
export function cholesky(A: Float64Array, n: number): boolean {
  for (let i = 0; i < n; i++) {
    const ri = i * n;
    for (let j = 0; j <= i; j++) {
      const rj = j * n;
      let s = A[ri + j];
      for (let k = 0; k < j; k++) s -= A[ri + k] * A[rj + k];
      if (j === i) {
        if (!(s > 0)) return false;
        A[ri + i] = Math.sqrt(s);
      } else A[ri + j] = s / A[rj + j];
    }
    for (let j = i + 1; j < n; j++) A[ri + j] = 0;
  }
  return true;
}

/** Solves L z = b (forward substitution) for lower-triangular L. */
export function solveLower(L: Float64Array, n: number, b: ArrayLike<number>, out: Float64Array = new Float64Array(n)): Float64Array {
  for (let i = 0; i < n; i++) {
    let s = b[i];
    const row = i * n;
    for (let k = 0; k < i; k++) s -= L[row + k] * out[k];
    out[i] = s / L[row + i];
  }
  return out;
}

/** Solves Lᵀ x = z (back substitution) for lower-triangular L, by columns of Lᵀ = rows of L. */
export function solveUpper(L: Float64Array, n: number, z: ArrayLike<number>, out: Float64Array = new Float64Array(n)): Float64Array {
  for (let i = 0; i < n; i++) out[i] = z[i];
  for (let i = n - 1; i >= 0; i--) {
    const row = i * n;
    const xi = (out[i] /= L[row + i]);
    for (let k = 0; k < i; k++) out[k] -= L[row + k] * xi;
  }
  return out;
}

/** Lᵀ of a lower-triangular L, row-major (blocked, so neither side is read with a long stride). */
export function transposeLower(L: Float64Array, n: number): Float64Array {
  const T = new Float64Array(n * n);
  const B = 32;
  for (let i0 = 0; i0 < n; i0 += B) {
    for (let k0 = 0; k0 <= i0; k0 += B) {
      const iEnd = Math.min(n, i0 + B);
      const kEnd = Math.min(n, k0 + B);
      for (let i = i0; i < iEnd; i++) {
        const ri = i * n;
        for (let k = k0; k < kEnd && k <= i; k++) T[k * n + i] = L[ri + k];
      }
    }
  }
  return T;
}

/**
 * solveUpper from Lᵀ (transposeLower's): the same operations in the same order, so the same
 * result to the bit, but as dot products along rows of Lᵀ instead of updates down columns.
 */
export function solveUpperTransposed(Lt: Float64Array, n: number, z: ArrayLike<number>, out: Float64Array = new Float64Array(n)): Float64Array {
  for (let i = n - 1; i >= 0; i--) {
    const row = i * n;
    let s = z[i];
    for (let k = n - 1; k > i; k--) s -= Lt[row + k] * out[k];
    out[i] = s / Lt[row + i];
  }
  return out;
}

/**
 * (LLᵀ)⁻¹ from the factor L, full symmetric n × n into `out`. The columns of L⁻¹ come from
 * forward substitutions stored as rows of U = L⁻ᵀ, so that both steps are contiguous dot
 * products: U_j = L⁻¹e_j (nonzero from j on), then (K⁻¹)_ab = U_a · U_b over k ≥ max(a, b).
 */
export function choleskyInverse(L: Float64Array, n: number, out: Float64Array = new Float64Array(n * n), U: Float64Array = new Float64Array(n * n)): Float64Array {
  const diag = new Float64Array(n);
  for (let i = 0; i < n; i++) diag[i] = 1 / L[i * n + i];
  for (let j = 0; j < n; j++) {
    const rj = j * n;
    U[rj + j] = diag[j];
    for (let i = j + 1; i < n; i++) {
      const ri = i * n;
      let s = 0;
      for (let k = j; k < i; k++) s += L[ri + k] * U[rj + k];
      U[rj + i] = -s * diag[i];
    }
  }
  for (let a = 0; a < n; a++) {
    const ra = a * n;
    for (let b = 0; b <= a; b++) {
      const rb = b * n;
      let s = 0;
      for (let k = a; k < n; k++) s += U[ra + k] * U[rb + k];
      out[ra + b] = s;
      out[rb + a] = s;
    }
  }
  return out;
}
