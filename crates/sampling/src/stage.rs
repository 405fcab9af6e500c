//! The stage trait and the chain that runs stages in order.
//!
//! A stage is one transformation of the candidate set, like a transformers
//! `LogitsProcessor`/`LogitsWarper` or a llama.cpp sampler. The order, as the results are
//! defined (transformers' order):
//!
//! 1. [`RepetitionPenalty`](crate::stages::RepetitionPenalty) (raw logits)
//! 2. [`PresenceFrequencyPenalty`](crate::stages::PresenceFrequencyPenalty) (raw logits)
//! 3. [`LogitBias`](crate::stages::LogitBias) (raw logits; last, so a ban stays a ban)
//! 4. [`Temperature`](crate::stages::Temperature)
//! 5. [`TopK`](crate::stages::TopK)
//! 6. [`TopP`](crate::stages::TopP)
//! 7. [`MinP`](crate::stages::MinP)
//! 8. [`Typical`](crate::stages::Typical)
//!
//! then the [`Sampler`](crate::Sampler) draws, or takes the argmax when greedy. Temperature
//! comes before the truncations, so top-p/min-p/typical see the tempered distribution
//! (llama.cpp's default chain applies it last instead).
//!
//! [`Chain::from_config`] runs top-k *before* temperature: temperature is a strictly
//! increasing map of the logits, so both orders keep the same tokens with the same
//! probabilities, and this one scales 40 logits instead of 262k. Disabled stages are left
//! out, so they cost nothing.

use std::fmt::Debug;

use crate::candidates::Candidates;
use crate::config::SamplingConfig;
use crate::stages::{
    LogitBias, MinP, PresenceFrequencyPenalty, RepetitionPenalty, Temperature, TopK, TopP, Typical,
};

/// One step of the sampling chain.
pub trait Stage: Debug + Send {
    /// Transforms `candidates` in place. `history` is every token generated or read so far,
    /// oldest first (stages that look at recent tokens take their own window of it).
    fn apply(&mut self, candidates: &mut Candidates<'_>, history: &[u32]);
}

/// An ordered list of stages.
#[derive(Debug, Default)]
pub struct Chain {
    stages: Vec<Box<dyn Stage>>,
}

impl Chain {
    pub fn new() -> Self {
        Self::default()
    }

    /// The stages enabled by `config`, in the crate's fixed order (see the module docs).
    /// A greedy config gets only the stages that can change the argmax (penalties, bias).
    pub fn from_config(config: &SamplingConfig) -> Self {
        let mut chain = Self::new();
        let last_n = config.repeat_last_n;
        if last_n != 0 && config.repetition_penalty != 1.0 {
            chain.push(RepetitionPenalty::new(config.repetition_penalty, last_n));
        }
        if last_n != 0 && (config.presence_penalty != 0.0 || config.frequency_penalty != 0.0) {
            chain.push(PresenceFrequencyPenalty::new(
                config.presence_penalty,
                config.frequency_penalty,
                last_n,
            ));
        }
        if !config.logit_bias.is_empty() {
            chain.push(LogitBias::new(
                config.logit_bias.iter().map(|(&id, &bias)| (id, bias)),
            ));
        }
        if config.is_greedy() {
            return chain;
        }
        // Top-k commutes with temperature (see the module docs); running it first is cheaper.
        if config.top_k > 0 {
            chain.push(TopK::new(config.top_k));
        }
        if config.temperature != 1.0 {
            chain.push(Temperature::new(config.temperature));
        }
        if config.top_p < 1.0 {
            chain.push(TopP::new(config.top_p));
        }
        if config.min_p > 0.0 {
            chain.push(MinP::new(config.min_p));
        }
        if config.typical_p < 1.0 {
            chain.push(Typical::new(config.typical_p));
        }
        chain
    }

    /// Appends a stage; stages run in push order.
    pub fn push(&mut self, stage: impl Stage + 'static) -> &mut Self {
        self.stages.push(Box::new(stage));
        self
    }

    /// Runs every stage in order.
    pub fn apply(&mut self, candidates: &mut Candidates<'_>, history: &[u32]) {
        for stage in &mut self.stages {
            stage.apply(candidates, history);
        }
    }

    pub fn len(&self) -> usize {
        self.stages.len()
    }

    pub fn is_empty(&self) -> bool {
        self.stages.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn disabled_stages_are_left_out() {
        assert_eq!(Chain::from_config(&SamplingConfig::greedy()).len(), 0);
        assert_eq!(Chain::from_config(&SamplingConfig::unfiltered()).len(), 0);
        // temperature, top-k, top-p, min-p
        assert_eq!(Chain::from_config(&SamplingConfig::default()).len(), 4);
        let all = SamplingConfig {
            typical_p: 0.9,
            repetition_penalty: 1.1,
            presence_penalty: 0.5,
            logit_bias: [(1, 2.0)].into(),
            ..Default::default()
        };
        assert_eq!(Chain::from_config(&all).len(), 8);
        let no_window = SamplingConfig {
            repeat_last_n: 0,
            ..all
        };
        assert_eq!(Chain::from_config(&no_window).len(), 6);
    }
}
