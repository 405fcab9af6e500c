//! Attention of a few query rows over the KV cache, read where it lies: the attention of a
//! decode step.
//!
//! Burn's CPU path for `softmax(q kᵀ) v` first makes K and V contiguous (the cache is a
//! view of the used prefix of a larger buffer, so that is a copy of the whole history) or
//! packs them for gemm, every layer of every token: a tenth of SmolLM2's decode time at
//! 160 positions. A decode step has one query row per head, so the product is a handful of
//! dot products per cached position; this loop runs them on the cache in place, one task
//! per K/V head on flint's [`pool`](super::pool).

use super::dot::{axpy, dot};
use super::pool;
use std::ops::Range;

/// Rows of one tensor `[heads, positions, dim]` somewhere in a buffer: element
/// `(h, p, i)` is `data[offset + h * head_stride + p * position_stride + i]`.
#[derive(Clone, Copy)]
pub struct HeadRows<'a> {
    pub data: &'a [f32],
    pub offset: usize,
    pub head_stride: usize,
    pub position_stride: usize,
}

impl HeadRows<'_> {
    fn row(&self, head: usize, position: usize, dim: usize) -> &[f32] {
        let start = self.offset + head * self.head_stride + position * self.position_stride;
        &self.data[start..start + dim]
    }
}

/// How scores are formed before the softmax.
#[derive(Clone, Copy, Debug)]
pub struct Scores {
    pub scale: f32,
    /// `cap * tanh(score / cap)` after scaling (Gemma 2's attention logit soft-capping).
    pub softcap: Option<f32>,
}

/// `softmax(q kᵀ · scale) v` for `q` `[heads, rows, dim]` (contiguous) against the keys and
/// values at `positions`; every row sees every one of those positions. Returns
/// `[heads, rows, dim]`.
pub fn attend(
    q: &[f32],
    heads: usize,
    rows: usize,
    k: HeadRows,
    v: HeadRows,
    positions: Range<usize>,
    scores: Scores,
) -> Vec<f32> {
    let dim = q.len() / (heads * rows).max(1);
    assert_eq!(q.len(), heads * rows * dim, "q is [heads, rows, dim]");
    let mut out = vec![0f32; q.len()];
    // One task per query row (head × row): a decode step has few heads, and one task per
    // head would leave a core idle for half the call with three of them on two cores.
    pool::run_on_chunks(&mut out, dim, &|task, out_row| {
        let head = task / rows;
        let q_row = &q[task * dim..][..dim];
        let mut weights: Vec<f32> = positions
            .clone()
            .map(|p| {
                let s = dot(k.row(head, p, dim), q_row) * scores.scale;
                match scores.softcap {
                    Some(cap) => cap * (s / cap).tanh(),
                    None => s,
                }
            })
            .collect();
        softmax_in_place(&mut weights);
        out_row.fill(0.0);
        for (&w, p) in weights.iter().zip(positions.clone()) {
            axpy(w, v.row(head, p, dim), out_row);
        }
    });
    out
}

fn softmax_in_place(x: &mut [f32]) {
    let max = x.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut sum = 0f32;
    for v in x.iter_mut() {
        *v = (*v - max).exp();
        sum += *v;
    }
    let inv = 1.0 / sum;
    x.iter_mut().for_each(|v| *v *= inv);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cpu::test_values as values;

    /// The textbook formula in f64 on dense `[heads, positions, dim]` K and V.
    fn reference(
        q: &[f32],
        (heads, rows, dim, stored): (usize, usize, usize, usize),
        k: &[f32],
        v: &[f32],
        positions: Range<usize>,
        (scale, softcap): (f64, Option<f64>),
    ) -> Vec<f32> {
        let mut out = vec![0f32; q.len()];
        for h in 0..heads {
            for r in 0..rows {
                let qr = &q[(h * rows + r) * dim..][..dim];
                let s: Vec<f64> = positions
                    .clone()
                    .map(|p| {
                        let kr = &k[(h * stored + p) * dim..][..dim];
                        let s = qr
                            .iter()
                            .zip(kr)
                            .map(|(&a, &b)| a as f64 * b as f64)
                            .sum::<f64>()
                            * scale;
                        softcap.map_or(s, |c| c * (s / c).tanh())
                    })
                    .collect();
                let max = s.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                let e: Vec<f64> = s.iter().map(|x| (x - max).exp()).collect();
                let total: f64 = e.iter().sum();
                for i in 0..dim {
                    let o: f64 = positions
                        .clone()
                        .zip(&e)
                        .map(|(p, w)| w / total * v[(h * stored + p) * dim + i] as f64)
                        .sum();
                    out[(h * rows + r) * dim + i] = o as f32;
                }
            }
        }
        out
    }

    #[test]
    fn matches_the_formula_on_a_prefix_and_a_window_of_a_larger_buffer() {
        let (heads, rows, dim, stored) = (3, 2, 40, 50);
        let q = values(heads * rows * dim, 1);
        let k = values(heads * stored * dim, 2);
        let v = values(heads * stored * dim, 3);
        let view = |data| HeadRows {
            data,
            offset: 0,
            head_stride: stored * dim,
            position_stride: dim,
        };
        for (positions, softcap) in [(0..37, None), (12..37, None), (0..1, Some(0.5))] {
            let got = attend(
                &q,
                heads,
                rows,
                view(&k),
                view(&v),
                positions.clone(),
                Scores {
                    scale: 0.125,
                    softcap,
                },
            );
            let want = reference(
                &q,
                (heads, rows, dim, stored),
                &k,
                &v,
                positions.clone(),
                (0.125, softcap.map(f64::from)),
            );
            for (g, e) in got.iter().zip(&want) {
                assert!((g - e).abs() < 1e-5, "{positions:?}: {g} vs {e}");
            }
        }
    }
}
