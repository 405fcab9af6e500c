//! Min-p sampling (Nguyen et al. 2024): a cut-off relative to the most likely token.

use crate::candidates::Candidates;
use crate::stage::Stage;

/// Keeps tokens with `p >= min_p * p_max`, i.e. `logit >= max_logit + ln(min_p)` (no softmax
/// needed, as in llama.cpp). The top token always survives. `min_p = 0` disables.
#[derive(Clone, Debug)]
pub struct MinP {
    min_p: f32,
}

impl MinP {
    pub fn new(min_p: f32) -> Self {
        Self { min_p }
    }
}

impl Stage for MinP {
    fn apply(&mut self, candidates: &mut Candidates<'_>, _history: &[u32]) {
        if self.min_p <= 0.0 {
            return;
        }
        let Some(max) = candidates.max_logit() else {
            return;
        };
        // With a `+inf` maximum only the `+inf` tokens have probability.
        let threshold = if max == f32::INFINITY {
            max
        } else {
            // ln in f64, rounded once to f32: the same bits on every platform in practice.
            let ln_min_p = f64::from(self.min_p).ln() as f32;
            (max + ln_min_p).min(max)
        };
        candidates.retain_at_least(threshold);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::candidates::Workspace;

    #[test]
    fn keeps_tokens_above_fraction_of_max() {
        // Probabilities proportional to 8, 4, 2, 1.
        let l = [8f32.ln(), 1f32.ln(), 4f32.ln(), 2f32.ln()];
        let mut ws = Workspace::new();
        let mut c = Candidates::new(&l, &mut ws);
        MinP::new(0.3).apply(&mut c, &[]);
        let ids: Vec<u32> = c.live().iter().map(|t| t.id).collect();
        assert_eq!(ids, vec![0, 2]);
        let mut c = Candidates::new(&l, &mut ws);
        MinP::new(1.0).apply(&mut c, &[]);
        assert_eq!(c.live().len(), 1);
    }
}
