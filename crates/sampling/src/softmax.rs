//! Numerically safe softmax pieces shared by the stages, with the `+inf` policy in one place.
//!
//! Weights are `exp(logit - max)`, so the largest is exactly 1 and nothing overflows. If some
//! logit is `+inf`, those tokens share all the mass (the limit of the softmax) instead of
//! producing `inf - inf = NaN`.

/// Maximum of `xs` ignoring NaN; `-inf` for an empty or all-NaN slice.
///
/// Written as eight independent lanes so the compiler can vectorise it (a single running
/// maximum is a serial dependency chain).
pub(crate) fn max(xs: &[f32]) -> f32 {
    const LANES: usize = 8;
    let mut acc = [f32::NEG_INFINITY; LANES];
    let mut chunks = xs.chunks_exact(LANES);
    for chunk in &mut chunks {
        for (a, &x) in acc.iter_mut().zip(chunk) {
            *a = if x > *a { x } else { *a };
        }
    }
    let tail = chunks
        .remainder()
        .iter()
        .fold(f32::NEG_INFINITY, |m, &x| if x > m { x } else { m });
    acc.iter().fold(tail, |m, &x| if x > m { x } else { m })
}

/// Index of the largest value, lowest index on ties, NaN ignored; `None` if all are `-inf`/NaN.
///
/// One vectorised pass of block maxima, then a scan of the single winning block.
pub(crate) fn argmax(xs: &[f32]) -> Option<u32> {
    const BLOCK: usize = 64;
    let mut best = f32::NEG_INFINITY;
    let mut best_block = None;
    for (b, block) in xs.chunks(BLOCK).enumerate() {
        let m = max(block);
        if m > best {
            best = m;
            best_block = Some(b);
        }
    }
    let b = best_block?;
    let offset = xs[b * BLOCK..].iter().position(|&x| x == best)?;
    Some((b * BLOCK + offset) as u32)
}

/// Sum of non-negative weights: f32 lanes within 64-value blocks (vectorised), blocks added
/// in f64, so the relative error stays below ~1e-6 however long the row. The grouping is
/// fixed, so the result is reproducible.
pub(crate) fn sum(weights: &[f32]) -> f64 {
    weights
        .chunks(64)
        .map(|block| f64::from(block_sum(block)))
        .sum()
}

/// Total softmax weight of a whole row (NaN weighs 0), with the same blocking as [`sum`].
pub(crate) fn total_weight(row: &[f32], max: f32) -> f64 {
    if max == f32::INFINITY {
        return row.iter().filter(|&&l| l == f32::INFINITY).count() as f64;
    }
    let mut block_weights = [0.0f32; 64];
    let mut total = 0.0f64;
    for block in row.chunks(64) {
        let weights = &mut block_weights[..block.len()];
        for (w, &l) in weights.iter_mut().zip(block) {
            *w = exp_nonpositive(l - max);
        }
        total += f64::from(block_sum(weights));
    }
    total
}

/// Sum of at most 64 values in eight f32 lanes.
#[inline]
fn block_sum(block: &[f32]) -> f32 {
    const LANES: usize = 8;
    let mut acc = [0.0f32; LANES];
    let mut chunks = block.chunks_exact(LANES);
    for chunk in &mut chunks {
        for (a, &w) in acc.iter_mut().zip(chunk) {
            *a += w;
        }
    }
    let tail: f32 = chunks.remainder().iter().sum();
    acc.iter().sum::<f32>() + tail
}

/// Writes the softmax weights of a whole row (relative to `max`, not `-inf`) into `out`.
pub(crate) fn row_weights(row: &[f32], max: f32, out: &mut Vec<f32>) {
    out.clear();
    out.resize(row.len(), 0.0);
    if max == f32::INFINITY {
        for (w, &l) in out.iter_mut().zip(row) {
            *w = if l == f32::INFINITY { 1.0 } else { 0.0 };
        }
    } else {
        // A plain zip over slices: the loop the compiler vectorises.
        for (w, &l) in out.iter_mut().zip(row) {
            *w = exp_nonpositive(l - max);
        }
    }
}

/// Index of the first weight at which the running sum exceeds `target`, skipping zero
/// weights; the last positive one if rounding leaves the sum a hair short. `None` if all 0.
pub(crate) fn inverse_cdf(weights: &[f32], target: f64) -> Option<usize> {
    let mut cumulative = 0.0f64;
    let mut last_positive = None;
    for (i, &w) in weights.iter().enumerate() {
        if w > 0.0 {
            cumulative += f64::from(w);
            last_positive = Some(i);
            if cumulative > target {
                return Some(i);
            }
        }
    }
    last_positive
}

/// Unnormalised softmax weight of `logit` given the set's maximum `max` (not `-inf`).
#[inline]
pub(crate) fn weight(logit: f32, max: f32) -> f32 {
    if max == f32::INFINITY {
        if logit == f32::INFINITY { 1.0 } else { 0.0 }
    } else {
        exp_nonpositive(logit - max)
    }
}

/// `e^x` for `x <= 0` (NaN or `-inf` give 0), within 2 ulp of the true value.
///
/// Our own instead of `f32::exp` for two reasons: it is built only from IEEE basic
/// operations, so weights — and therefore seeded draws — are bit-identical on every platform
/// (libm `expf` differs between C libraries); and it has no call or branch per element, so
/// the compiler vectorises whole-vocabulary softmax. Cephes `expf`: `x = k ln2 + r`,
/// `|r| <= ln2 / 2`, a degree-6 polynomial for `e^r`, then `2^k` through the exponent bits.
/// Results below `f32::MIN_POSITIVE` flush to 0 (a weight that small never matters).
#[inline]
pub(crate) fn exp_nonpositive(x: f32) -> f32 {
    const LOG2_E: f32 = std::f32::consts::LOG2_E;
    const LN2_HI: f32 = 0.693_359_4; // 0.693359375, exact in few bits
    const LN2_LO: f32 = -2.121_944_4e-4;
    // ln(f32::MIN_POSITIVE): below this 2^k would be subnormal.
    const MIN_X: f32 = -87.336_55;
    let x = if x >= MIN_X { x.min(0.0) } else { MIN_X - 1.0 };
    // Round to nearest by adding and removing 1.5 * 2^23 (exact IEEE arithmetic; `floor` is
    // a libm call on baseline x86-64, which would stop vectorisation).
    const ROUND: f32 = 12_582_912.0;
    let k = (x * LOG2_E + ROUND) - ROUND;
    let r = x - k * LN2_HI - k * LN2_LO;
    let mut p = 1.987_569_1e-4_f32;
    p = p * r + 1.398_199_9e-3;
    p = p * r + 8.333_452e-3;
    p = p * r + 4.166_579_6e-2;
    p = p * r + 0.166_666_65;
    p = p * r + 0.5;
    let y = p * r * r + r + 1.0;
    // k in [-127, 0]; k = -127 only for inputs just above MIN_X, where rounding could push the
    // exponent field to 0, so clamp to the smallest normal power instead.
    // 2^k without a float-to-int conversion (which would block vectorisation): adding 2^23
    // puts the integer k + 127 in the low mantissa bits; shift it into the exponent field.
    let biased = k.max(-126.0) + (127.0 + 8_388_608.0);
    let two_k = f32::from_bits((biased.to_bits() & 0xFF) << 23);
    let scaled = y * two_k;
    if x < MIN_X { 0.0 } else { scaled }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn max_ignores_nan_and_handles_tails() {
        assert_eq!(max(&[]), f32::NEG_INFINITY);
        assert_eq!(max(&[f32::NAN; 11]), f32::NEG_INFINITY);
        let mut xs: Vec<f32> = (0..19).map(|i| i as f32).collect();
        xs[3] = f32::NAN;
        assert_eq!(max(&xs), 18.0);
        xs[18] = -1.0;
        assert_eq!(max(&xs), 17.0);
    }

    #[test]
    fn argmax_takes_lowest_index_on_ties() {
        let mut long = vec![0.0f32; 300];
        long[90] = 2.0;
        long[170] = 2.0;
        long[299] = 2.0;
        assert_eq!(argmax(&long), Some(90));
        long[89] = f32::NAN;
        long[70] = 2.0;
        assert_eq!(argmax(&long), Some(70));
        assert_eq!(argmax(&[1.0, 3.0, 2.0, 3.0]), Some(1));
        assert_eq!(argmax(&[f32::NAN, 0.0, -0.0]), Some(1));
        assert_eq!(argmax(&[f32::NEG_INFINITY, f32::NAN]), None);
    }

    #[test]
    fn exp_is_accurate_over_the_whole_range() {
        let mut x = 0.0f32;
        let mut worst = 0.0f64;
        while x > -87.0 {
            let got = f64::from(exp_nonpositive(x));
            let want = f64::from(x).exp();
            worst = worst.max((got - want).abs() / want);
            x -= 0.000_731;
        }
        // 2 ulp of f32 is about 2.4e-7 relative.
        assert!(worst < 2.4e-7, "worst relative error {worst:e}");
        assert_eq!(exp_nonpositive(0.0), 1.0);
        assert_eq!(exp_nonpositive(-100.0), 0.0);
        assert_eq!(exp_nonpositive(f32::NEG_INFINITY), 0.0);
        assert_eq!(exp_nonpositive(f32::NAN), 0.0);
    }

    #[test]
    fn weights_are_finite_at_extremes() {
        assert_eq!(weight(3.0e38, 3.0e38), 1.0);
        assert_eq!(weight(-3.0e38, 3.0e38), 0.0);
        assert_eq!(weight(f32::INFINITY, f32::INFINITY), 1.0);
        assert_eq!(weight(1.0, f32::INFINITY), 0.0);
    }
}
