//! Rotary position embedding applied in one pass: Burn's version of `x cos + rotate_half(x)
//! sin` is nine tensor ops (two narrows, a negation, a concatenation, two products, a sum
//! and the table slices), each allocating its result, which at decode (one position, a
//! few heads) costs far more than the arithmetic.

/// Rotates `x` `[rows, positions, dim]` (contiguous; `rows` = batch × heads) in the
/// rotate-half layout, position `t` of every row using table row `start + t` of `cos` and
/// `sin` (`[table_positions, dim]`, contiguous).
pub fn rotate_half(
    x: &[f32],
    positions: usize,
    dim: usize,
    cos: &[f32],
    sin: &[f32],
    start: usize,
) -> Vec<f32> {
    assert!(dim.is_multiple_of(2) && x.len().is_multiple_of((positions * dim).max(1)));
    assert!(cos.len() >= (start + positions) * dim && sin.len() == cos.len());
    let half = dim / 2;
    let mut out = vec![0f32; x.len()];
    for (i, (x_row, out_row)) in x
        .chunks_exact(dim)
        .zip(out.chunks_exact_mut(dim))
        .enumerate()
    {
        let table = (start + i % positions) * dim;
        let (c, s) = (&cos[table..table + dim], &sin[table..table + dim]);
        let (x1, x2) = x_row.split_at(half);
        let (o1, o2) = out_row.split_at_mut(half);
        for j in 0..half {
            o1[j] = x1[j] * c[j] - x2[j] * s[j];
            o2[j] = x2[j] * c[half + j] + x1[j] * s[half + j];
        }
    }
    out
}
