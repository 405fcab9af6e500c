//! `w · x` for one weight row stored as f32 or bf16 and an f32 activation row: the inner
//! loop of [`matvec`](super::matvec), in one version per instruction set, picked at run
//! time.
//!
//! Every version widens the weight to f32 exactly and sums in f32 with several independent
//! accumulators, so they differ from each other only by the order of additions.

/// An element type weights are stored in, widened to f32 for the product (exactly).
pub trait WeightElem: Copy {
    fn widen(self) -> f32;
    /// Eight consecutive elements at `p`, widened.
    ///
    /// # Safety
    /// `p..p + 8` is readable and the CPU has AVX2.
    #[cfg(target_arch = "x86_64")]
    unsafe fn load8(p: *const Self) -> std::arch::x86_64::__m256;
    /// Sixteen consecutive elements at `p`, widened.
    ///
    /// # Safety
    /// `p..p + 16` is readable and the CPU has AVX-512F.
    #[cfg(target_arch = "x86_64")]
    unsafe fn load16(p: *const Self) -> std::arch::x86_64::__m512;
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
    #[cfg(target_arch = "x86_64")]
    #[inline(always)]
    unsafe fn load16(p: *const f32) -> std::arch::x86_64::__m512 {
        // SAFETY: the caller guarantees sixteen readable elements and AVX-512F.
        unsafe { std::arch::x86_64::_mm512_loadu_ps(p) }
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
    #[cfg(target_arch = "x86_64")]
    #[inline(always)]
    unsafe fn load16(p: *const u16) -> std::arch::x86_64::__m512 {
        use std::arch::x86_64::*;
        // SAFETY: the caller guarantees sixteen readable elements and AVX-512F.
        unsafe {
            let bits = _mm256_loadu_si256(p as *const __m256i);
            _mm512_castsi512_ps(_mm512_slli_epi32::<16>(_mm512_cvtepu16_epi32(bits)))
        }
    }
}

/// `w · x` with the fastest loop this CPU runs.
#[inline(always)]
pub fn dot<W: WeightElem>(w: &[W], x: &[f32]) -> f32 {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512f") {
            // SAFETY: the CPU has AVX-512F (checked just above).
            return unsafe { dot_avx512(w, x) };
        }
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
        {
            // SAFETY: the CPU has AVX2 and FMA (checked just above).
            return unsafe { dot_avx2(w, x) };
        }
    }
    dot_portable(w, x)
}

/// Independent accumulators of the portable loop: lets the compiler keep a vector register
/// per lane group instead of one serial sum (float addition is not reassociated on its
/// own).
const LANES: usize = 16;

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

/// How far ahead of the loads the SIMD loops prefetch: one core's hardware prefetcher
/// alone leaves it waiting on memory (it stops at every 4 KB page of the mapped file).
#[cfg(target_arch = "x86_64")]
const AHEAD_BYTES: usize = 2048;

/// Prefetches the cache lines of `bytes` bytes at `p + AHEAD_BYTES`.
///
/// # Safety
/// The CPU has SSE (every x86-64 does). A prefetch never faults, whatever the address.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
unsafe fn prefetch_ahead<W>(p: *const W, bytes: usize) {
    use std::arch::x86_64::*;
    let ahead = (p as *const i8).wrapping_add(AHEAD_BYTES);
    for line in (0..bytes).step_by(64) {
        // SAFETY: prefetching is a hint and never faults.
        unsafe { _mm_prefetch::<_MM_HINT_T0>(ahead.wrapping_add(line)) };
    }
}

/// The AVX2 + FMA loop: four 8-lane accumulators and a software prefetch.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn dot_avx2<W: WeightElem>(w: &[W], x: &[f32]) -> f32 {
    use std::arch::x86_64::*;
    const STEP: usize = 32;
    let n = w.len().min(x.len());
    let whole = n - n % STEP;
    let (wp, xp) = (w.as_ptr(), x.as_ptr());
    let mut acc = [_mm256_setzero_ps(); 4];
    let mut i = 0;
    while i < whole {
        // SAFETY: `i + STEP <= whole <= n`: every load is inside both slices.
        unsafe {
            prefetch_ahead(wp.add(i), STEP * size_of::<W>());
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

/// The AVX-512 loop: the AVX2 loop at twice the width, which halves the instructions per
/// byte of weight (the widening of bf16 is most of them).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn dot_avx512<W: WeightElem>(w: &[W], x: &[f32]) -> f32 {
    use std::arch::x86_64::*;
    const STEP: usize = 64;
    let n = w.len().min(x.len());
    let whole = n - n % STEP;
    let (wp, xp) = (w.as_ptr(), x.as_ptr());
    let mut acc = [_mm512_setzero_ps(); 4];
    let mut i = 0;
    while i < whole {
        // SAFETY: `i + STEP <= whole <= n`: every load is inside both slices.
        unsafe {
            prefetch_ahead(wp.add(i), STEP * size_of::<W>());
            for (k, a) in acc.iter_mut().enumerate() {
                let wv = W::load16(wp.add(i + 16 * k));
                *a = _mm512_fmadd_ps(wv, _mm512_loadu_ps(xp.add(i + 16 * k)), *a);
            }
        }
        i += STEP;
    }
    let sum = _mm512_add_ps(_mm512_add_ps(acc[0], acc[1]), _mm512_add_ps(acc[2], acc[3]));
    let mut total = _mm512_reduce_add_ps(sum);
    for j in whole..n {
        total += w[j].widen() * x[j];
    }
    total
}

/// `y += a * x`, with the widest vectors this CPU has: the weighted sum of value rows in
/// [`attention`](super::attention).
pub fn axpy(a: f32, x: &[f32], y: &mut [f32]) {
    #[inline(always)]
    fn plain(a: f32, x: &[f32], y: &mut [f32]) {
        for (y, &x) in y.iter_mut().zip(x) {
            *y += a * x;
        }
    }
    /// The same loop, compiled for AVX-512 (the baseline target vectorises it 4 wide).
    ///
    /// # Safety
    /// The CPU has AVX-512F.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f")]
    unsafe fn wide(a: f32, x: &[f32], y: &mut [f32]) {
        plain(a, x, y)
    }
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx512f") {
        // SAFETY: the CPU has AVX-512F (checked just above).
        return unsafe { wide(a, x, y) };
    }
    plain(a, x, y)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cpu::test_values as values;

    fn exact(w: &[f32], x: &[f32]) -> f32 {
        w.iter()
            .zip(x)
            .map(|(&a, &b)| a as f64 * b as f64)
            .sum::<f64>() as f32
    }

    /// Every loop this CPU can run, on f32 and bf16 rows of lengths around each loop's step
    /// (so both the vector part and the scalar tail are exercised).
    #[test]
    fn every_loop_on_this_cpu_matches_an_f64_sum() {
        for n in [0, 1, 7, 31, 32, 33, 63, 64, 65, 100, 576, 1536] {
            let x = values(n, 1);
            let w = values(n, 2);
            let bits: Vec<u16> = w.iter().map(|v| (v.to_bits() >> 16) as u16).collect();
            let widened: Vec<f32> = bits.iter().map(|&b| b.widen()).collect();
            let mut loops: Vec<(&str, f32, f32)> =
                vec![("portable", dot_portable(&w, &x), dot_portable(&bits, &x))];
            #[cfg(target_arch = "x86_64")]
            {
                if std::arch::is_x86_feature_detected!("avx2")
                    && std::arch::is_x86_feature_detected!("fma")
                {
                    // SAFETY: checked just above.
                    loops.push(unsafe { ("avx2", dot_avx2(&w, &x), dot_avx2(&bits, &x)) });
                }
                if std::arch::is_x86_feature_detected!("avx512f") {
                    // SAFETY: checked just above.
                    loops.push(unsafe { ("avx512", dot_avx512(&w, &x), dot_avx512(&bits, &x)) });
                }
            }
            let (want_f32, want_bf16) = (exact(&w, &x), exact(&widened, &x));
            for (name, got_f32, got_bf16) in loops {
                let close = |g: f32, e: f32| (g - e).abs() <= 1e-4 * (1.0 + e.abs());
                assert!(
                    close(got_f32, want_f32),
                    "{name} f32 n={n}: {got_f32} vs {want_f32}"
                );
                assert!(
                    close(got_bf16, want_bf16),
                    "{name} bf16 n={n}: {got_bf16} vs {want_bf16}"
                );
            }
        }
    }
}
