//! Multi-threaded `y = x Wᵀ` for a few rows of `x`: the matrix-vector products of decoding.
//!
//! Decoding one token multiplies one activation row by every weight matrix, so its speed is
//! the speed of streaming the weights from memory. Burn's CPU matmul runs such a product on
//! one thread (gemm has no parallel path for a single row), which leaves half the memory
//! bandwidth of a two-core machine unused, and it needs f32 weights (twice the bytes of
//! bf16). This kernel splits the output rows across the threads of flint's spinning
//! [`pool`] and reads bf16 weights
//! as they are stored, widening each element to f32 in registers (exact) and accumulating
//! in f32.

use super::dot::dot;
use super::pool;

/// Weights `[d_out, d_in]`, row-major, in the dtype they are stored in.
#[derive(Clone, Copy)]
pub enum WeightRows<'a> {
    F32(&'a [f32]),
    /// bf16 bit patterns.
    Bf16(&'a [u16]),
}

impl WeightRows<'_> {
    fn len(&self) -> usize {
        match self {
            WeightRows::F32(w) => w.len(),
            WeightRows::Bf16(w) => w.len(),
        }
    }
}

/// Tasks per thread and product. Few and long: every task start waits for memory before
/// the prefetches get ahead, and claims a task on a cache line both cores write. Measured
/// on SmolLM2 with 2 MiB pages: 1 or 2 per thread take 10.7 ms of matvec per token, 4 take
/// 11.2 ms, 16 take 12.8 ms. Two leave some balance for a core that is briefly preempted.
const TASKS_PER_THREAD: usize = 2;

/// Fewest output rows per task, for the small products.
const MIN_ROWS_PER_TASK: usize = 8;

/// `x` is `[m, d_in]` row-major; returns `x Wᵀ` as `[m, d_out]` row-major.
pub fn matmul_transposed(x: &[f32], m: usize, w: WeightRows, d_out: usize) -> Vec<f32> {
    let d_in = x.len() / m.max(1);
    assert_eq!(x.len(), m * d_in, "x holds whole rows");
    assert_eq!(w.len(), d_out * d_in, "w is [d_out, d_in]");
    // Computed as `W xᵀ` (`[d_out, m]`) so each task writes one contiguous span.
    let mut out_t = vec![0f32; d_out * m];
    let rows_per_task = d_out
        .div_ceil(TASKS_PER_THREAD * pool::threads())
        .max(MIN_ROWS_PER_TASK);
    pool::run_on_chunks(&mut out_t, rows_per_task * m, &|task, out| {
        let first = task * rows_per_task;
        for (i, out_row) in out.chunks_mut(m).enumerate() {
            let o = first + i;
            let span = o * d_in..(o + 1) * d_in;
            for (r, y) in out_row.iter_mut().enumerate() {
                let xr = &x[r * d_in..(r + 1) * d_in];
                *y = match w {
                    WeightRows::F32(w) => dot(&w[span.clone()], xr),
                    WeightRows::Bf16(w) => dot(&w[span.clone()], xr),
                };
            }
        }
    });
    if m == 1 {
        return out_t;
    }
    let mut out = vec![0f32; m * d_out];
    for o in 0..d_out {
        for r in 0..m {
            out[r * d_out + o] = out_t[o * m + r];
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cpu::test_values as values;

    /// A plain triple loop in f64: the independent answer.
    fn reference(x: &[f32], m: usize, w: &[f32], d_out: usize) -> Vec<f32> {
        let d_in = x.len() / m;
        let mut y = vec![0f32; m * d_out];
        for r in 0..m {
            for o in 0..d_out {
                let s: f64 = (0..d_in)
                    .map(|i| w[o * d_in + i] as f64 * x[r * d_in + i] as f64)
                    .sum();
                y[r * d_out + o] = s as f32;
            }
        }
        y
    }

    #[test]
    fn f32_rows_match_a_plain_loop_for_odd_sizes() {
        for (m, d_in, d_out) in [(1, 576, 1536), (1, 37, 5), (3, 100, 67), (8, 17, 129)] {
            let x = values(m * d_in, 1);
            let w = values(d_out * d_in, 2);
            let got = matmul_transposed(&x, m, WeightRows::F32(&w), d_out);
            let want = reference(&x, m, &w, d_out);
            for (g, e) in got.iter().zip(&want) {
                assert!((g - e).abs() <= 1e-4 * (1.0 + e.abs()), "{g} vs {e}");
            }
        }
    }

    #[test]
    fn bf16_weights_give_the_product_of_their_exact_f32_values() {
        let (m, d_in, d_out) = (2, 300, 97);
        let x = values(m * d_in, 3);
        let bits: Vec<u16> = values(d_out * d_in, 4)
            .iter()
            .map(|v| (v.to_bits() >> 16) as u16)
            .collect();
        let widened: Vec<f32> = bits
            .iter()
            .map(|&b| f32::from_bits((b as u32) << 16))
            .collect();
        let got = matmul_transposed(&x, m, WeightRows::Bf16(&bits), d_out);
        let want = reference(&x, m, &widened, d_out);
        for (g, e) in got.iter().zip(&want) {
            assert!((g - e).abs() <= 1e-4 * (1.0 + e.abs()), "{g} vs {e}");
        }
    }
}
