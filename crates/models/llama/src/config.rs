//! Llama hyper-parameters, read from a Hugging Face `config.json`.

use flint_core::LoadError;
use flint_core::config::{check_size, parse_config};
use flint_core::rope::{RopeConfig, RopeScaling};
use serde::Deserialize;
use std::path::Path;

#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct LlamaConfig {
    pub vocab_size: usize,
    pub hidden_size: usize,
    pub intermediate_size: usize,
    pub num_hidden_layers: usize,
    pub num_attention_heads: usize,
    /// Grouped-query attention: fewer K/V heads than query heads (defaults to MHA).
    #[serde(default)]
    pub num_key_value_heads: Option<usize>,
    /// Defaults to `hidden_size / num_attention_heads`.
    #[serde(default)]
    pub head_dim: Option<usize>,
    #[serde(default = "default_eps")]
    pub rms_norm_eps: f64,
    #[serde(default = "default_theta")]
    pub rope_theta: f64,
    #[serde(default)]
    pub rope_scaling: Option<serde_json::Value>,
    #[serde(default = "default_max_positions")]
    pub max_position_embeddings: usize,
    #[serde(default)]
    pub tie_word_embeddings: bool,
    #[serde(default)]
    pub attention_bias: bool,
    #[serde(default)]
    pub mlp_bias: bool,
    #[serde(default)]
    pub hidden_act: Option<String>,
}

fn default_eps() -> f64 {
    1e-6
}
fn default_theta() -> f64 {
    10_000.0
}
fn default_max_positions() -> usize {
    2048
}

/// Upper bounds that no real Llama exceeds; a config beyond them is corrupt or hostile and is
/// refused before anything is sized from it.
const MAX_DIM: usize = 1 << 20;
const MAX_LAYERS: usize = 1024;
const MAX_VOCAB: usize = 1 << 24;

impl LlamaConfig {
    pub fn from_json(json: &serde_json::Value, path: &Path) -> Result<Self, LoadError> {
        let cfg: LlamaConfig = parse_config(json, path)?;
        cfg.validate(path)?;
        Ok(cfg)
    }

    fn validate(&self, path: &Path) -> Result<(), LoadError> {
        let bad = |key: &str, msg: String| Err(LoadError::config(path, key, msg));
        for (key, value, max) in [
            ("vocab_size", self.vocab_size, MAX_VOCAB),
            ("hidden_size", self.hidden_size, MAX_DIM),
            ("intermediate_size", self.intermediate_size, MAX_DIM),
            ("num_hidden_layers", self.num_hidden_layers, MAX_LAYERS),
            ("num_attention_heads", self.num_attention_heads, MAX_DIM),
            (
                "max_position_embeddings",
                self.max_position_embeddings,
                1 << 24,
            ),
        ] {
            check_size(path, key, value, max)?;
        }
        if self.head_dim.is_none() && !self.hidden_size.is_multiple_of(self.num_attention_heads) {
            return bad(
                "num_attention_heads",
                format!(
                    "hidden_size {} is not divisible by {} heads",
                    self.hidden_size, self.num_attention_heads
                ),
            );
        }
        let kv = self.kv_heads();
        if kv == 0 || !self.num_attention_heads.is_multiple_of(kv) {
            return bad(
                "num_key_value_heads",
                format!(
                    "{kv} does not divide {} query heads",
                    self.num_attention_heads
                ),
            );
        }
        let hd = self.head_dim();
        if hd == 0 || !hd.is_multiple_of(2) || hd > MAX_DIM {
            return bad("head_dim", format!("{hd} must be even and positive"));
        }
        if !(self.rms_norm_eps > 0.0 && self.rms_norm_eps < 1.0) {
            return bad(
                "rms_norm_eps",
                format!("{} is not in (0, 1)", self.rms_norm_eps),
            );
        }
        if !(self.rope_theta > 1.0 && self.rope_theta.is_finite()) {
            return bad(
                "rope_theta",
                format!("{} must be a finite number > 1", self.rope_theta),
            );
        }
        if let Some(act) = &self.hidden_act
            && act != "silu"
        {
            return bad(
                "hidden_act",
                format!("`{act}` is not supported (Llama uses silu)"),
            );
        }
        self.rope(path)?;
        Ok(())
    }

    pub fn kv_heads(&self) -> usize {
        self.num_key_value_heads.unwrap_or(self.num_attention_heads)
    }

    pub fn head_dim(&self) -> usize {
        self.head_dim
            .unwrap_or(self.hidden_size / self.num_attention_heads)
    }

    /// Elements of every parameter (embedding, layers, final norm, untied head), saturating.
    pub fn parameter_count(&self) -> u64 {
        let [v, d, ff, layers] = [
            self.vocab_size,
            self.hidden_size,
            self.intermediate_size,
            self.num_hidden_layers,
        ]
        .map(|x| x as u128);
        let q = self.num_attention_heads as u128 * self.head_dim() as u128;
        let kv = self.kv_heads() as u128 * self.head_dim() as u128;
        let attention_bias = if self.attention_bias {
            q + 2 * kv + d
        } else {
            0
        };
        let mlp_bias = if self.mlp_bias { 2 * ff + d } else { 0 };
        let layer = 2 * d * q + 2 * d * kv + 3 * d * ff + 2 * d + attention_bias + mlp_bias;
        let head = if self.tie_word_embeddings { 0 } else { v * d };
        let total = v * d + layers * layer + d + head;
        u64::try_from(total).unwrap_or(u64::MAX)
    }

    /// The RoPE settings, including the `rope_scaling` variants `linear` and `llama3`.
    pub fn rope(&self, path: &Path) -> Result<RopeConfig, LoadError> {
        Ok(RopeConfig {
            head_dim: self.head_dim(),
            theta: self.rope_theta,
            scaling: RopeScaling::from_config(self.rope_scaling.as_ref(), path)?,
        })
    }
}
