//! OpenAI presence and frequency penalties: additive, so they work on logits of any sign.

use super::counts::{TokenCounts, window};
use crate::candidates::Candidates;
use crate::stage::Stage;

/// `logit -= presence * (count > 0) + frequency * count`, with `count` the occurrences in
/// the last `last_n` tokens of the history.
#[derive(Clone, Debug)]
pub struct PresenceFrequencyPenalty {
    presence: f32,
    frequency: f32,
    last_n: i32,
    counts: TokenCounts,
}

impl PresenceFrequencyPenalty {
    /// `last_n`: window length, `-1` for the whole history, `0` to disable.
    pub fn new(presence: f32, frequency: f32, last_n: i32) -> Self {
        Self {
            presence,
            frequency,
            last_n,
            counts: TokenCounts::default(),
        }
    }
}

impl Stage for PresenceFrequencyPenalty {
    fn apply(&mut self, candidates: &mut Candidates<'_>, history: &[u32]) {
        let (presence, frequency) = (self.presence, self.frequency);
        self.counts
            .count(window(history, self.last_n), candidates.vocab_size());
        for (id, count) in self.counts.iter() {
            let penalty = presence + frequency * count as f32;
            candidates.update_token(id, |l| l - penalty);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::candidates::Workspace;

    #[test]
    fn subtracts_presence_once_and_frequency_per_occurrence() {
        let mut ws = Workspace::new();
        let mut c = Candidates::new(&[1.0, 1.0, 1.0, 1.0], &mut ws);
        // Window (last 5) = [2, 2, 0, 2, 3]: counts 0→1, 2→3, 3→1.
        PresenceFrequencyPenalty::new(0.5, 0.25, 5).apply(&mut c, &[1, 2, 2, 0, 2, 3]);
        let got: Vec<f32> = c.live().iter().map(|t| t.logit).collect();
        assert_eq!(got, vec![1.0 - 0.75, 1.0, 1.0 - 1.25, 1.0 - 0.75]);
    }
}
