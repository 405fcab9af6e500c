//! Multi-threaded `y = x Wᵀ` for a few rows of `x`: the matrix-vector products of decoding.
//!
//! Decoding one token multiplies one activation row by every weight matrix, so its speed is
//! the speed of streaming the weights from memory. Burn's CPU matmul runs such a product on
//! one thread (gemm has no parallel path for a single row), which leaves half the memory
//! bandwidth of a two-core machine unused, and it needs f32 weights (twice the bytes of
//! bf16). This kernel splits the output rows across rayon's threads and reads bf16 weights
//! as they are stored, widening each element to f32 in registers (exact) and accumulating
//! in f32.

use rayon::prelude::*;

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

/// Output rows one task computes: enough work to amortise a task (~64 KiB of weights at
/// d_in = 576), small enough to balance the threads.
const MIN_ROWS_PER_TASK: usize = 32;

/// `x` is `[m, d_in]` row-major; returns `x Wᵀ` as `[m, d_out]` row-major.
pub fn matmul_transposed(x: &[f32], m: usize, w: WeightRows, d_out: usize) -> Vec<f32> {
    let d_in = x.len() / m.max(1);
    assert_eq!(x.len(), m * d_in, "x holds whole rows");
    assert_eq!(w.len(), d_out * d_in, "w is [d_out, d_in]");
    // Computed as `W xᵀ` (`[d_out, m]`) so each task writes one contiguous span.
    let mut out_t = vec![0f32; d_out * m];
    let threads = rayon::current_num_threads().max(1);
    let rows_per_task = (d_out / (4 * threads)).max(MIN_ROWS_PER_TASK);
    out_t
        .par_chunks_mut(rows_per_task * m)
        .enumerate()
        .for_each(|(task, out)| {
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

/// Independent accumulators: lets the compiler keep a vector register per lane group
/// instead of one serial sum (float addition is not reassociated on its own).
const LANES: usize = 16;

/// An element type weights are stored in, widened to f32 for the product (exactly).
trait WeightElem: Copy {
    fn widen(self) -> f32;
    /// Eight consecutive elements at `p`, widened. Only called from the AVX2 loop.
    ///
    /// # Safety
    /// `p..p + 8` is readable and the CPU has AVX2.
    #[cfg(target_arch = "x86_64")]
    unsafe fn load8(p: *const Self) -> std::arch::x86_64::__m256;
}

impl WeightElem for f32 {
    #[inline(always)]
    fn widen(self) -> f32 {
        self
    }
    #[cfg(target_arch = "x86_64")]
    #[inline(always)]
    unsafe fn load8(p: *const f32) -> std::arch::x86_64::__m256 {
        // SAFETY: the caller guarantees eight readable elements and AVX2.
        unsafe { std::arch::x86_64::_mm256_loadu_ps(p) }
    }
}

/// bf16 as its bit pattern: the high half of an f32.
impl WeightElem for u16 {
    #[inline(always)]
    fn widen(self) -> f32 {
        f32::from_bits((self as u32) << 16)
    }
    #[cfg(target_arch = "x86_64")]
    #[inline(always)]
    unsafe fn load8(p: *const u16) -> std::arch::x86_64::__m256 {
        use std::arch::x86_64::*;
        // SAFETY: the caller guarantees eight readable elements and AVX2.
        unsafe {
            let bits = _mm_loadu_si128(p as *const __m128i);
            _mm256_castsi256_ps(_mm256_slli_epi32::<16>(_mm256_cvtepu16_epi32(bits)))
        }
    }
}

/// `w · x` with the fastest loop this CPU runs.
#[inline(always)]
fn dot<W: WeightElem>(w: &[W], x: &[f32]) -> f32 {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
        // SAFETY: the CPU has AVX2 and FMA (checked just above).
        return unsafe { dot_avx2(w, x) };
    }
    dot_portable(w, x)
}

/// The portable loop: `LANES` independent sums the compiler vectorises for the baseline
/// target.
fn dot_portable<W: WeightElem>(w: &[W], x: &[f32]) -> f32 {
    let mut acc = [0f32; LANES];
    let (wc, wr) = w.split_at(w.len() - w.len() % LANES);
    let (xc, xr) = x.split_at(wc.len());
    for (wl, xl) in wc.chunks_exact(LANES).zip(xc.chunks_exact(LANES)) {
        for l in 0..LANES {
            acc[l] += wl[l].widen() * xl[l];
        }
    }
    let mut sum: f32 = acc.iter().sum();
    for (&a, &b) in wr.iter().zip(xr) {
        sum += a.widen() * b;
    }
    sum
}

/// Elements per step of the AVX2 loop: four 8-lane accumulators.
#[cfg(target_arch = "x86_64")]
const STEP: usize = 32;

/// How far ahead of the loads the AVX2 loop prefetches.
#[cfg(target_arch = "x86_64")]
const AHEAD_BYTES: usize = 2048;

/// The AVX2 + FMA loop: four independent accumulators, and a software prefetch 2 KiB
/// ahead of every cache line the step reads, because one core's hardware prefetcher alone
/// leaves it waiting on memory (it stops at every 4 KB page of the mapped file).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn dot_avx2<W: WeightElem>(w: &[W], x: &[f32]) -> f32 {
    use std::arch::x86_64::*;
    let n = w.len().min(x.len());
    let whole = n - n % STEP;
    let (wp, xp) = (w.as_ptr(), x.as_ptr());
    let step_bytes = STEP * std::mem::size_of::<W>();
    let mut acc = [_mm256_setzero_ps(); 4];
    let mut i = 0;
    while i < whole {
        // SAFETY: `i + STEP <= whole <= n`: every load is inside both slices; a prefetch
        // never faults, whatever the address.
        unsafe {
            let ahead = (wp.wrapping_add(i) as *const i8).wrapping_add(AHEAD_BYTES);
            for line in (0..step_bytes).step_by(64) {
                _mm_prefetch::<_MM_HINT_T0>(ahead.wrapping_add(line));
            }
            for (k, a) in acc.iter_mut().enumerate() {
                let wv = W::load8(wp.add(i + 8 * k));
                *a = _mm256_fmadd_ps(wv, _mm256_loadu_ps(xp.add(i + 8 * k)), *a);
            }
        }
        i += STEP;
    }
    let sum = _mm256_add_ps(_mm256_add_ps(acc[0], acc[1]), _mm256_add_ps(acc[2], acc[3]));
    let mut lanes = [0f32; 8];
    // SAFETY: `lanes` holds 8 f32.
    unsafe { _mm256_storeu_ps(lanes.as_mut_ptr(), sum) };
    let mut total: f32 = lanes.iter().sum();
    for j in whole..n {
        total += w[j].widen() * x[j];
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

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

    fn values(n: usize, seed: u32) -> Vec<f32> {
        let mut s = seed.wrapping_mul(2_654_435_761).max(1);
        (0..n)
            .map(|_| {
                s ^= s << 13;
                s ^= s >> 17;
                s ^= s << 5;
                (s % 2001) as f32 / 1000.0 - 1.0
            })
            .collect()
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
        let widened: Vec<f32> = bits.iter().map(|&b| b.widen()).collect();
        let got = matmul_transposed(&x, m, WeightRows::Bf16(&bits), d_out);
        let want = reference(&x, m, &widened, d_out);
        for (g, e) in got.iter().zip(&want) {
            assert!((g - e).abs() <= 1e-4 * (1.0 + e.abs()), "{g} vs {e}");
        }
    }
}
