//! Errors: a bad configuration, or a logits row with nothing to sample from.

/// A [`crate::SamplingConfig`] value outside its meaningful range.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("sampling option `{field}` must be {expected}, got {value}")]
    OutOfRange {
        field: &'static str,
        expected: &'static str,
        value: String,
    },
    #[error("logit bias for token {id} is NaN")]
    NanBias { id: u32 },
}

/// Why [`crate::Sampler::try_sample`] could not pick a token.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SampleError {
    #[error("the logits row is empty")]
    EmptyLogits,
    /// Every logit was NaN or `-inf` after penalties and bias (or every token was filtered).
    #[error("no token has a finite logit (all are NaN or -inf)")]
    NoFiniteLogits,
}
