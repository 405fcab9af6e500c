//! RMS norm of each row in one pass: Burn's version is six tensor ops (square, mean,
//! add, sqrt, divide, scale), each allocating its result, which at decode (one row of a
//! few hundred values) costs far more than the arithmetic.

/// `x / sqrt(mean(x²) + eps) * (offset + weight)` for every row of `x` (`weight.len()`
/// values each), summing in f32 as Burn does.
pub fn rms_norm(x: &[f32], weight: &[f32], eps: f32, offset: f32) -> Vec<f32> {
    let dim = weight.len();
    assert!(
        dim > 0 && x.len().is_multiple_of(dim),
        "x holds whole rows of weight.len()"
    );
    let mut out = vec![0f32; x.len()];
    for (x_row, out_row) in x.chunks_exact(dim).zip(out.chunks_exact_mut(dim)) {
        let mean_square = x_row.iter().map(|v| v * v).sum::<f32>() / dim as f32;
        let inv_rms = 1.0 / (mean_square + eps).sqrt();
        for ((o, &v), &w) in out_row.iter_mut().zip(x_row).zip(weight) {
            *o = v * inv_rms * (offset + w);
        }
    }
    out
}
