//! The built-in stages, one per file, listed in chain order.

mod counts;
mod logit_bias;
mod min_p;
mod presence_frequency;
mod repetition;
mod temperature;
mod top_k;
mod top_p;
mod typical;

pub use logit_bias::LogitBias;
pub use min_p::MinP;
pub use presence_frequency::PresenceFrequencyPenalty;
pub use repetition::RepetitionPenalty;
pub use temperature::Temperature;
pub use top_k::TopK;
pub use top_p::TopP;
pub use typical::Typical;
