//! Temperature scaling: `p ∝ exp(logit / t)`.

use crate::candidates::Candidates;
use crate::stage::Stage;

/// Divides logits by `t` (`t > 0`; the sampler handles `t <= 0` as greedy and never builds
/// this stage for it).
///
/// Logits are shifted so the maximum becomes 0 first — softmax, top-k, top-p, min-p and
/// typical are all shift-invariant — so a tiny `t` sends the others towards `-inf` instead
/// of overflowing several of them to `+inf`.
#[derive(Clone, Debug)]
pub struct Temperature {
    t: f32,
}

impl Temperature {
    pub fn new(t: f32) -> Self {
        Self { t }
    }
}

impl Stage for Temperature {
    fn apply(&mut self, candidates: &mut Candidates<'_>, _history: &[u32]) {
        let t = self.t;
        if t == 1.0 || t <= 0.0 {
            return;
        }
        let Some(max) = candidates.max_logit() else {
            return;
        };
        if max == f32::INFINITY {
            // The limit distribution: all mass on the `+inf` tokens, shared equally.
            candidates.map_logits_monotone(|l| {
                if l == f32::INFINITY {
                    0.0
                } else {
                    f32::NEG_INFINITY
                }
            });
        } else {
            candidates.map_logits_monotone(|l| (l - max) / t);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::candidates::Workspace;

    #[test]
    fn scales_relative_to_max() {
        let mut ws = Workspace::new();
        let mut c = Candidates::new(&[1.0, 3.0, f32::NEG_INFINITY], &mut ws);
        Temperature::new(0.5).apply(&mut c, &[]);
        assert_eq!(
            c.live().iter().map(|t| t.logit).collect::<Vec<_>>(),
            vec![-4.0, 0.0]
        );
    }

    #[test]
    fn tiny_temperature_does_not_overflow() {
        let mut ws = Workspace::new();
        let mut c = Candidates::new(&[1.0, 5.0], &mut ws);
        Temperature::new(1e-38).apply(&mut c, &[]);
        assert_eq!(c.live().len(), 1);
        assert_eq!(c.argmax(), Some(1));
    }
}
