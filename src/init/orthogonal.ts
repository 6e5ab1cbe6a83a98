/**
 * Random matrices with orthonormal columns, drawn from the Haar (uniform) distribution — the
 * distribution of torch.nn.init.orthogonal_, which takes Q from the QR of a Gaussian matrix with
 * the signs fixed so that diag(R) > 0.
 *
 * jax-js has no QR. The Householder QR of a Gaussian matrix is a product of n reflectors whose
 * vectors are themselves independent Gaussians (rotation invariance; Stewart, SIAM J. Numer. Anal.
 * 17(3), 1980), so we draw those vectors directly, all at once, and multiply the reflectors in
 * compact WY form: H₁⋯Hₙ = I − V T Vᵀ with T⁻¹ = striu(VᵀV) + ½·I for unit vectors (Joffrain et
 * al., ACM TOMS 32(2), 2006). That is two matrix products and one triangular solve, all on the
 * device in float32 and synchronous (an initialiser cannot await a host read), and as stable as
 * Householder QR whatever the conditioning of the Gaussian draw: ‖QᵀQ − I‖ ≈ 1e-6 at 784×512.
 *
 * Measured on the 2-core dev box (784×512, warm, idle machine; docs/recipes/init-orthogonal-cost.ts):
 * this 0.8 s; Cholesky-QR2 in float32 0.56 s, but it returns NaN once the draw has κ ≥ 1e4
 * (checked at 128², κ = 1e4), which square Gaussians of a few hundred rows reach with a few percent
 * probability (κ/n has a 1/x tail, Edelman 1988); Cholesky-QR2 in float64 3.5 s (jax-js float64
 * matmul is slow); the polar factor through `linalg.eigh` over 8.6 s and only ~1e-3 orthogonal in
 * float32 at 512²; Householder on the host in float64 0.77 s, but reading the draw back is
 * asynchronous and model init is not.
 */
import { lax, numpy as np, random } from "../engine/jax.js";
import type { Key } from "../engine/prng.js";

/** An m×n (m ≥ n) Haar-distributed matrix with orthonormal columns. Consumes `key`. */
export function haarColumns(key: Key, m: number, n: number): np.Array {
  if (!(m >= n && n >= 1)) throw new Error(`haarColumns needs m ≥ n ≥ 1, got ${m}×${n}`);
  // Row k of x is the k-th reflector's Gaussian vector, living in coordinates k..m−1.
  const col = np.arange(m).reshape([1, m]);
  const row = np.arange(n).reshape([n, 1]);
  const x = np.where(col.ref.greaterEqual(row.ref), random.normal(key, [n, m]), 0);
  const e = col.equal(row).astype(np.float32);
  const x0 = x.ref.mul(e.ref).sum(1, { keepdims: true });
  const norm = np.sqrt(np.square(x.ref).sum(1, { keepdims: true }));
  // H x = α e_k with α = −sign(x₀)‖x‖; the sign fix multiplies column k of Q by sign(α).
  const sign = np.where(x0.greaterEqual(0), 1, -1);
  const v = x.sub(e.mul(sign.ref.mul(norm).neg()));
  const u = v.ref.div(np.sqrt(np.square(v).sum(1, { keepdims: true }))); // rows: unit reflector vectors
  const tInv = np.triu(np.matmul(u.ref, u.ref.transpose()), 1).add(np.eye(n).mul(0.5));
  const w = lax.linalg.triangularSolve(tInv, u.ref.slice([], [0, n]), { leftSide: true, lower: false });
  const q = np.eye(m, n).sub(np.matmul(u.transpose(), w));
  return q.mul(sign.neg().reshape([1, n]));
}

/**
 * A `rows × cols` matrix with orthonormal rows or columns (whichever are fewer), Haar-distributed,
 * scaled by `gain`: torch.nn.init.orthogonal_ on a [rows, cols] view. Consumes `key`.
 */
export function orthogonalMatrix(key: Key, rows: number, cols: number, gain = 1): np.Array {
  const q = rows >= cols ? haarColumns(key, rows, cols) : haarColumns(key, cols, rows).transpose();
  return gain === 1 ? q : q.mul(gain);
}
