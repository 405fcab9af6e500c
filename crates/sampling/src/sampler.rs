//! The sampler: runs the chain over reused buffers, then draws with its own seeded RNG.

use crate::candidates::{Candidates, TokenProb, Workspace};
use crate::config::SamplingConfig;
use crate::error::{ConfigError, SampleError};
use crate::rng::Rng;
use crate::softmax;
use crate::stage::Chain;

/// Picks the next token from a logits row. One per generation stream; reuse it across steps
/// so no buffer is allocated per token.
///
/// Determinism: the same config, seed, logits and history give the same tokens on every run
/// and machine. The RNG and `exp` are in-crate integer/IEEE arithmetic; the only platform
/// maths is f64 `ln` of `min_p` and inside typical sampling. Each non-greedy draw consumes
/// exactly one random number; greedy consumes none.
#[derive(Debug)]
pub struct Sampler {
    config: SamplingConfig,
    chain: Chain,
    greedy: bool,
    rng: Rng,
    workspace: Workspace,
}

impl Sampler {
    /// A sampler running [`Chain::from_config`]. Fails if the config does not
    /// [`validate`](SamplingConfig::validate).
    pub fn new(config: SamplingConfig, seed: u64) -> Result<Self, ConfigError> {
        config.validate()?;
        Ok(Self {
            chain: Chain::from_config(&config),
            greedy: config.is_greedy(),
            config,
            rng: Rng::new(seed),
            workspace: Workspace::new(),
        })
    }

    /// A sampler running a custom chain; `greedy` takes the argmax instead of drawing.
    /// [`Sampler::config`] then reports the default config, which is not used.
    pub fn with_chain(chain: Chain, greedy: bool, seed: u64) -> Self {
        Self {
            config: SamplingConfig::default(),
            chain,
            greedy,
            rng: Rng::new(seed),
            workspace: Workspace::new(),
        }
    }

    pub fn config(&self) -> &SamplingConfig {
        &self.config
    }

    /// Restarts the random stream as if freshly created with `seed`.
    pub fn reseed(&mut self, seed: u64) {
        self.rng = Rng::new(seed);
    }

    /// The next token. `history` is the context so far (prompt and generated tokens).
    ///
    /// Never panics on NaN/`±inf` logits. If nothing is left to sample (every logit NaN or
    /// `-inf` after penalties and bias) it falls back to the argmax of the raw `logits` with
    /// NaN read as `-inf`, lowest id on ties — so token 0 when every raw logit is invalid.
    /// Use [`Sampler::try_sample`] to see that case as an error.
    ///
    /// # Panics
    /// If `logits` is empty (there is no token id to return).
    pub fn sample(&mut self, logits: &[f32], history: &[u32]) -> u32 {
        match self.try_sample(logits, history) {
            Ok(id) => id,
            Err(SampleError::EmptyLogits) => panic!("Sampler::sample: empty logits row"),
            Err(SampleError::NoFiniteLogits) => softmax::argmax(logits).unwrap_or(0),
        }
    }

    /// Like [`Sampler::sample`], but reports an empty row or a row with no finite logit.
    pub fn try_sample(&mut self, logits: &[f32], history: &[u32]) -> Result<u32, SampleError> {
        if logits.is_empty() {
            return Err(SampleError::EmptyLogits);
        }
        let mut candidates = Candidates::new(logits, &mut self.workspace);
        self.chain.apply(&mut candidates, history);
        let picked = if self.greedy {
            candidates.argmax()
        } else {
            // Draw only when there is something to draw from, so an error costs no randomness.
            if candidates.max_logit().is_none() {
                return Err(SampleError::NoFiniteLogits);
            }
            let u = self.rng.next_f64();
            candidates.sample(u)
        };
        picked.ok_or(SampleError::NoFiniteLogits)
    }

    /// The distribution the next draw would use (after every stage), highest probability
    /// first (ties: lower id). Greedy yields the argmax with probability 1. Consumes no
    /// randomness; allocates, so meant for inspection and tests, not the decode loop.
    pub fn probabilities(
        &mut self,
        logits: &[f32],
        history: &[u32],
    ) -> Result<Vec<TokenProb>, SampleError> {
        if logits.is_empty() {
            return Err(SampleError::EmptyLogits);
        }
        let mut candidates = Candidates::new(logits, &mut self.workspace);
        self.chain.apply(&mut candidates, history);
        let mut out = Vec::new();
        if self.greedy {
            if let Some(id) = candidates.argmax() {
                out.push(TokenProb { id, prob: 1.0 });
            }
        } else {
            candidates.probabilities(&mut out);
        }
        if out.is_empty() {
            return Err(SampleError::NoFiniteLogits);
        }
        out.sort_by(|a, b| b.prob.total_cmp(&a.prob).then(a.id.cmp(&b.id)));
        Ok(out)
    }
}
