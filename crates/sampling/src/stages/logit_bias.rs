//! Per-token additive bias (OpenAI `logit_bias`, llama.cpp `--logit-bias`).

use crate::candidates::Candidates;
use crate::stage::Stage;

/// Adds a fixed bias to listed token ids; `f32::NEG_INFINITY` bans a token. Ids outside the
/// vocabulary are ignored. Runs after the penalties so a ban or boost is not rescaled.
#[derive(Clone, Debug)]
pub struct LogitBias {
    bias: Vec<(u32, f32)>,
}

impl LogitBias {
    pub fn new(bias: impl IntoIterator<Item = (u32, f32)>) -> Self {
        Self {
            bias: bias.into_iter().collect(),
        }
    }
}

impl Stage for LogitBias {
    fn apply(&mut self, candidates: &mut Candidates<'_>, _history: &[u32]) {
        for &(id, bias) in &self.bias {
            // `-inf + inf` would be NaN; `update_token` stores that as `-inf` (stays banned).
            candidates.update_token(id, |l| l + bias);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::candidates::Workspace;

    #[test]
    fn adds_and_bans() {
        let mut ws = Workspace::new();
        let mut c = Candidates::new(&[1.0, 2.0, f32::NEG_INFINITY], &mut ws);
        LogitBias::new([
            (0, 1.5),
            (1, f32::NEG_INFINITY),
            (2, f32::INFINITY),
            (9, 1.0),
        ])
        .apply(&mut c, &[]);
        assert_eq!(c.live().len(), 1);
        assert_eq!(c.live()[0].logit, 2.5);
    }
}
