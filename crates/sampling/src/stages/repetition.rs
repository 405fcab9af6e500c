//! CTRL repetition penalty (Keskar et al. 2019), exactly as transformers and llama.cpp apply it.

use super::counts::{TokenCounts, window};
use crate::candidates::Candidates;
use crate::stage::Stage;

/// For each distinct token in the last `last_n` of the history: a positive logit is divided
/// by `penalty`, a non-positive one multiplied by it — either way it becomes less likely
/// (for `penalty > 1`). Applied once per token however often it occurred.
#[derive(Clone, Debug)]
pub struct RepetitionPenalty {
    penalty: f32,
    last_n: i32,
    counts: TokenCounts,
}

impl RepetitionPenalty {
    /// `last_n`: window length, `-1` for the whole history, `0` to disable.
    pub fn new(penalty: f32, last_n: i32) -> Self {
        Self {
            penalty,
            last_n,
            counts: TokenCounts::default(),
        }
    }
}

impl Stage for RepetitionPenalty {
    fn apply(&mut self, candidates: &mut Candidates<'_>, history: &[u32]) {
        let penalty = self.penalty;
        self.counts
            .count(window(history, self.last_n), candidates.vocab_size());
        for (id, _) in self.counts.iter() {
            candidates.update_token(id, |l| if l > 0.0 { l / penalty } else { l * penalty });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::candidates::Workspace;

    #[test]
    fn divides_positive_multiplies_negative_once_per_token() {
        let mut ws = Workspace::new();
        let mut c = Candidates::new(&[2.0, -1.0, 0.5, 3.0, 0.0], &mut ws);
        let mut stage = RepetitionPenalty::new(2.0, 3);
        // Window = [0, 1, 0]; token 3 is outside it.
        stage.apply(&mut c, &[3, 0, 1, 0]);
        let got: Vec<f32> = c.live().iter().map(|t| t.logit).collect();
        assert_eq!(got, vec![1.0, -2.0, 0.5, 3.0, 0.0]);
    }

    #[test]
    fn whole_history_and_out_of_range_ids() {
        let mut ws = Workspace::new();
        let mut c = Candidates::new(&[2.0, 4.0], &mut ws);
        RepetitionPenalty::new(4.0, -1).apply(&mut c, &[1, 0, 999]);
        let got: Vec<f32> = c.live().iter().map(|t| t.logit).collect();
        assert_eq!(got, vec![0.5, 1.0]);
    }
}
