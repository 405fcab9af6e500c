//! Top-p (nucleus) sampling (Holtzman et al. 2019).

use crate::candidates::{Candidates, TokenLogit, by_logit_desc, gather_at_least};
use crate::softmax;
use crate::stage::Stage;

/// Keeps the smallest set of highest-probability tokens whose total probability is `>= p`,
/// and always at least one token. `p >= 1` disables; ties in the order go to the lower id.
///
/// Never sorts the vocabulary. On a whole row it first gathers the tokens within `delta` of
/// the maximum logit, widening `delta` until they hold mass `p` (one pass each, usually one).
/// The gathered set is a prefix of the sorted order, so the exact cut is then found in it by
/// sorting a growing head (64, 256, … tokens, each block found by linear-time selection).
#[derive(Clone, Debug)]
pub struct TopP {
    p: f32,
}

impl TopP {
    pub fn new(p: f32) -> Self {
        Self { p }
    }
}

impl Stage for TopP {
    fn apply(&mut self, candidates: &mut Candidates<'_>, _history: &[u32]) {
        if self.p >= 1.0 {
            return;
        }
        let Some(max) = candidates.max_logit() else {
            return;
        };
        let total = match candidates.dense() {
            Some(row) => softmax::total_weight(row, max),
            None => candidates
                .ws
                .tokens
                .iter()
                .map(|t| f64::from(softmax::weight(t.logit, max)))
                .sum(),
        };
        let target = f64::from(self.p) * total;
        if candidates.is_dense() {
            candidates.gather_from_dense(|row, out| gather_head(row, max, target, out));
        } else {
            candidates.make_sparse();
        }
        let sorted = candidates.sorted;
        keep_prefix(&mut candidates.ws.tokens, sorted, max, target);
        candidates.sorted = true;
    }
}

/// Collects every token with `logit >= max - delta`, for the smallest `delta` in 8, 32, 128
/// whose tokens weigh at least `target` (at 128 every token of non-zero weight is in).
fn gather_head(row: &[f32], max: f32, target: f64, out: &mut Vec<TokenLogit>) {
    for delta in [8.0f32, 32.0, 128.0] {
        gather_at_least(row, max - delta, out);
        let mass: f64 = out
            .iter()
            .map(|t| f64::from(softmax::weight(t.logit, max)))
            .sum();
        if mass >= target {
            return;
        }
    }
}

/// Truncates `tokens` to the shortest [`by_logit_desc`] prefix whose weight reaches `target`
/// (all of them if rounding never gets there), leaving that prefix sorted.
fn keep_prefix(tokens: &mut Vec<TokenLogit>, sorted: bool, max: f32, target: f64) {
    let n = tokens.len();
    let mut done = 0;
    let mut block = 64;
    let mut cumulative = 0.0f64;
    while done < n {
        let take = if sorted {
            n - done
        } else {
            block.min(n - done)
        };
        if !sorted {
            let rest = &mut tokens[done..];
            if take < rest.len() {
                rest.select_nth_unstable_by(take - 1, by_logit_desc);
            }
            rest[..take].sort_unstable_by(by_logit_desc);
        }
        for i in done..done + take {
            cumulative += f64::from(softmax::weight(tokens[i].logit, max));
            if cumulative >= target {
                tokens.truncate(i + 1);
                return;
            }
        }
        done += take;
        block = block.saturating_mul(4);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::candidates::Workspace;

    fn kept(logits: &[f32], p: f32) -> Vec<u32> {
        let mut ws = Workspace::new();
        let mut c = Candidates::new(logits, &mut ws);
        TopP::new(p).apply(&mut c, &[]);
        c.live().iter().map(|t| t.id).collect()
    }

    #[test]
    fn smallest_prefix_reaching_p() {
        // Probabilities 0.5, 0.25, 0.125, 0.125 (ids 2, 0, 1, 3).
        let l = [0.25f32.ln(), 0.125f32.ln(), 0.5f32.ln(), 0.125f32.ln()];
        assert_eq!(kept(&l, 0.5), vec![2]);
        assert_eq!(kept(&l, 0.6), vec![2, 0]);
        assert_eq!(kept(&l, 0.75), vec![2, 0]);
        assert_eq!(kept(&l, 0.8), vec![2, 0, 1]);
        assert_eq!(kept(&l, 0.0), vec![2]);
    }

    #[test]
    fn large_flat_vocab_needs_several_blocks() {
        // 10_000 equal tokens: p = 0.5 keeps exactly 5000, the lowest ids.
        let got = kept(&vec![0.0; 10_000], 0.5);
        assert_eq!(got, (0..5000).collect::<Vec<u32>>());
    }

    #[test]
    fn wide_distribution_needs_a_wider_head() {
        // Logits spread over 100 units: the first gather (max - 8) holds too little mass.
        let l: Vec<f32> = (0..1000).map(|i| -(i as f32) * 0.1).collect();
        let got = kept(&l, 0.9999);
        let w: Vec<f64> = l.iter().map(|&x| f64::from(x).exp()).collect();
        let total: f64 = w.iter().sum();
        let mut cum = 0.0;
        let n = w
            .iter()
            .take_while(|&&x| {
                let before = cum;
                cum += x;
                before < 0.9999 * total
            })
            .count();
        assert_eq!(got.len(), n);
        assert!(n > 81, "head beyond max - 8 was needed");
    }
}
