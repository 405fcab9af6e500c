//! Locally typical sampling (Meister et al. 2022), as transformers' `TypicalLogitsWarper`.

use crate::candidates::{Candidates, TokenLogit, by_logit_desc};
use crate::softmax;
use crate::stage::Stage;

/// Orders tokens by how far their surprisal `-ln p` is from the entropy `H`, and keeps the
/// smallest such prefix whose mass is `>= typical_p` (at least one token). `typical_p >= 1`
/// disables. Ties in distance go to the higher logit, then the lower id.
#[derive(Clone, Debug)]
pub struct Typical {
    typical_p: f32,
    /// (distance from entropy, probability, token), reused across steps.
    scratch: Vec<(f64, f64, TokenLogit)>,
}

impl Typical {
    pub fn new(typical_p: f32) -> Self {
        Self {
            typical_p,
            scratch: Vec::new(),
        }
    }
}

impl Stage for Typical {
    fn apply(&mut self, candidates: &mut Candidates<'_>, _history: &[u32]) {
        if self.typical_p >= 1.0 {
            return;
        }
        let Some(max) = candidates.max_logit() else {
            return;
        };
        candidates.make_sparse();
        let tokens = &mut candidates.ws.tokens;
        let total: f64 = tokens
            .iter()
            .map(|t| f64::from(softmax::weight(t.logit, max)))
            .sum();
        self.scratch.clear();
        let mut entropy = 0.0f64;
        for &t in tokens.iter() {
            let p = f64::from(softmax::weight(t.logit, max)) / total;
            if p > 0.0 {
                entropy -= p * p.ln();
            }
            self.scratch.push((0.0, p, t));
        }
        for entry in &mut self.scratch {
            let p = entry.1;
            entry.0 = if p > 0.0 {
                (-p.ln() - entropy).abs()
            } else {
                f64::INFINITY
            };
        }
        self.scratch.sort_unstable_by(|a, b| {
            a.0.partial_cmp(&b.0)
                .unwrap_or(std::cmp::Ordering::Equal)
                .then_with(|| by_logit_desc(&a.2, &b.2))
        });

        let target = f64::from(self.typical_p);
        let mut cumulative = 0.0;
        let mut keep = self.scratch.len();
        for (i, &(_, p, _)) in self.scratch.iter().enumerate() {
            cumulative += p;
            if cumulative >= target {
                keep = i + 1;
                break;
            }
        }
        tokens.clear();
        tokens.extend(self.scratch[..keep].iter().map(|&(_, _, t)| t));
        candidates.sorted = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::candidates::Workspace;

    #[test]
    fn keeps_tokens_closest_to_entropy() {
        // p = 0.7, 0.2, 0.1: H ≈ 0.8018; surprisals 0.357, 1.609, 2.303;
        // distances 0.445, 0.808, 1.501 → order 0, 1, 2.
        let l = [0.7f32.ln(), 0.2f32.ln(), 0.1f32.ln()];
        let mut ws = Workspace::new();
        let mut c = Candidates::new(&l, &mut ws);
        Typical::new(0.8).apply(&mut c, &[]);
        let ids: Vec<u32> = c.live().iter().map(|t| t.id).collect();
        assert_eq!(ids, vec![0, 1]);
    }

    #[test]
    fn can_drop_the_most_likely_token() {
        // One dominant token among many equal ones: the dominant one is atypical.
        let mut l = vec![0.0f32; 100];
        l[0] = 4.0;
        let mut ws = Workspace::new();
        let mut c = Candidates::new(&l, &mut ws);
        Typical::new(0.2).apply(&mut c, &[]);
        assert!(c.live().iter().all(|t| t.id != 0));
    }
}
