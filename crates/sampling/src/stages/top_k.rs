//! Top-k: keep the `k` highest logits.

use crate::candidates::{Candidates, TokenLogit, by_logit_desc};
use crate::softmax;
use crate::stage::Stage;

/// Keeps exactly `min(k, live)` tokens, like llama.cpp: ties at the boundary go to the
/// lower token id (transformers would keep every tied token). `k = 0` disables.
///
/// From the dense row this is a single pass with a rising threshold — no sort of the
/// vocabulary, no 262k-element copy; the kept tokens come out sorted.
#[derive(Clone, Debug)]
pub struct TopK {
    k: usize,
}

impl TopK {
    pub fn new(k: usize) -> Self {
        Self { k }
    }
}

impl Stage for TopK {
    fn apply(&mut self, candidates: &mut Candidates<'_>, _history: &[u32]) {
        let k = self.k;
        if k == 0 {
            return;
        }
        if candidates.is_dense() {
            candidates.gather_from_dense(|row, out| select_from_dense(row, k, out));
        } else {
            candidates.make_sparse();
            truncate_to_best(&mut candidates.ws.tokens, k);
        }
        candidates.ws.tokens.sort_unstable_by(by_logit_desc);
        candidates.sorted = true;
    }
}

/// Collects the best `k` of `logits` into `out` (unsorted).
///
/// Tokens are buffered only while they beat the current k-th best; when the buffer holds
/// `2k` (at least `k + 256`) it is cut back to `k` with a linear-time selection and the
/// threshold rises. Ids arrive in increasing order, so a later token *equal* to the threshold
/// loses the tie and the strict `>` is exactly right. Chunks whose maximum cannot beat the
/// threshold are skipped with a vectorisable check, the common case after the first few.
/// NaN fails every `>` and is never kept.
fn select_from_dense(logits: &[f32], k: usize, out: &mut Vec<TokenLogit>) {
    const CHUNK: usize = 64;
    let cap = k.saturating_mul(2).max(k.saturating_add(256));
    out.clear();
    let mut threshold = f32::NEG_INFINITY;
    for (c, chunk) in logits.chunks(CHUNK).enumerate() {
        if softmax::max(chunk) <= threshold {
            continue;
        }
        for (j, &logit) in chunk.iter().enumerate() {
            if logit > threshold {
                out.push(TokenLogit {
                    id: (c * CHUNK + j) as u32,
                    logit,
                });
                if out.len() >= cap {
                    truncate_to_best(out, k);
                    threshold = out[k - 1].logit;
                }
            }
        }
    }
    truncate_to_best(out, k);
}

/// Keeps the best `k` of `tokens` (order of the kept ones unspecified, `tokens[k-1]` the worst).
fn truncate_to_best(tokens: &mut Vec<TokenLogit>, k: usize) {
    if tokens.len() > k {
        tokens.select_nth_unstable_by(k - 1, by_logit_desc);
        tokens.truncate(k);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::candidates::Workspace;

    fn ids(c: &Candidates) -> Vec<u32> {
        c.live().iter().map(|t| t.id).collect()
    }

    #[test]
    fn keeps_k_best_sorted_with_lowest_id_on_ties() {
        let mut ws = Workspace::new();
        let mut c = Candidates::new(&[1.0, 5.0, 3.0, 5.0, 3.0, f32::NAN, 3.0], &mut ws);
        TopK::new(3).apply(&mut c, &[]);
        assert_eq!(ids(&c), vec![1, 3, 2]);
    }

    #[test]
    fn never_keeps_neg_inf_and_handles_k_above_vocab() {
        let mut ws = Workspace::new();
        let mut c = Candidates::new(&[f32::NEG_INFINITY, 2.0, 1.0], &mut ws);
        TopK::new(10).apply(&mut c, &[]);
        assert_eq!(ids(&c), vec![1, 2]);
    }

    #[test]
    fn buffer_compaction_matches_a_full_sort() {
        // Rising logits force many compactions (worst case for the threshold scan).
        let logits: Vec<f32> = (0..5000).map(|i| ((i * 7919) % 1013) as f32).collect();
        let mut ws = Workspace::new();
        let mut c = Candidates::new(&logits, &mut ws);
        TopK::new(50).apply(&mut c, &[]);
        let mut expected: Vec<TokenLogit> = (0..5000)
            .map(|i| TokenLogit {
                id: i as u32,
                logit: logits[i],
            })
            .collect();
        expected.sort_by(by_logit_desc);
        expected.truncate(50);
        assert_eq!(c.live(), expected);
    }

    #[test]
    fn sparse_input() {
        let mut ws = Workspace::new();
        let mut c = Candidates::new(&[4.0, 1.0, 3.0, 2.0], &mut ws);
        c.make_sparse();
        TopK::new(2).apply(&mut c, &[]);
        assert_eq!(ids(&c), vec![0, 2]);
    }
}
