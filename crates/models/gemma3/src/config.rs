//! Gemma 3 hyper-parameters, read from a Hugging Face `config.json` (`Gemma3TextConfig`, or
//! the `text_config` of a multimodal `gemma3` config).

use flint_core::LoadError;
use flint_core::config::{check_size, parse_config};
use flint_core::rope::{RopeConfig, RopeScaling};
use serde::Deserialize;
use std::path::Path;

#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct Gemma3Config {
    pub vocab_size: usize,
    pub hidden_size: usize,
    pub intermediate_size: usize,
    pub num_hidden_layers: usize,
    pub num_attention_heads: usize,
    #[serde(default)]
    pub num_key_value_heads: Option<usize>,
    /// Independent of `hidden_size / num_attention_heads` in Gemma.
    #[serde(default = "default_head_dim")]
    pub head_dim: usize,
    #[serde(default = "default_eps")]
    pub rms_norm_eps: f64,
    /// RoPE base of the global layers.
    #[serde(default = "default_theta")]
    pub rope_theta: f64,
    /// RoPE base of the sliding-window (local) layers.
    #[serde(default = "default_local_theta")]
    pub rope_local_base_freq: f64,
    /// Applies to the global layers only (as in transformers).
    #[serde(default)]
    pub rope_scaling: Option<serde_json::Value>,
    #[serde(default = "default_max_positions")]
    pub max_position_embeddings: usize,
    #[serde(default = "default_window")]
    pub sliding_window: usize,
    /// Per layer, `sliding_attention` or `full_attention` (newer configs).
    #[serde(default)]
    pub layer_types: Option<Vec<String>>,
    /// Every n-th layer is global (older configs; `_sliding_window_pattern` in newer ones).
    #[serde(default, alias = "_sliding_window_pattern")]
    pub sliding_window_pattern: Option<usize>,
    /// Scores are scaled by `query_pre_attn_scalar^-1/2`; defaults to the head size.
    #[serde(default)]
    pub query_pre_attn_scalar: Option<f64>,
    #[serde(default)]
    pub final_logit_softcapping: Option<f64>,
    #[serde(default)]
    pub attn_logit_softcapping: Option<f64>,
    #[serde(default, alias = "hidden_act")]
    pub hidden_activation: Option<String>,
    #[serde(default = "default_true")]
    pub tie_word_embeddings: bool,
    #[serde(default)]
    pub attention_bias: bool,
}

fn default_head_dim() -> usize {
    256
}
fn default_eps() -> f64 {
    1e-6
}
fn default_theta() -> f64 {
    1_000_000.0
}
fn default_local_theta() -> f64 {
    10_000.0
}
fn default_max_positions() -> usize {
    131_072
}
fn default_window() -> usize {
    4096
}
fn default_true() -> bool {
    true
}

/// Which attention a layer uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LayerKind {
    /// Sliding-window attention over the last `sliding_window` positions, local RoPE base.
    Local,
    /// Attention over the whole context, global RoPE base (and scaling).
    Global,
}

/// Bounds no real Gemma exceeds: a config beyond them is refused before anything is sized.
const MAX_DIM: usize = 1 << 20;
const MAX_LAYERS: usize = 1024;
const MAX_VOCAB: usize = 1 << 24;

/// GELU with the tanh approximation, under the names transformers accepts for it.
const GELU_TANH: &[&str] = &["gelu_pytorch_tanh", "gelu_tanh", "gelu_new"];

impl Gemma3Config {
    pub fn from_json(json: &serde_json::Value, path: &Path) -> Result<Self, LoadError> {
        // A multimodal `gemma3` config nests the language model's under `text_config`.
        let json = json.get("text_config").unwrap_or(json);
        let cfg: Gemma3Config = parse_config(json, path)?;
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
            ("head_dim", self.head_dim, MAX_DIM),
            ("sliding_window", self.sliding_window, 1 << 24),
            (
                "max_position_embeddings",
                self.max_position_embeddings,
                1 << 24,
            ),
        ] {
            check_size(path, key, value, max)?;
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
        if !self.head_dim.is_multiple_of(2) {
            return bad("head_dim", format!("{} must be even", self.head_dim));
        }
        if !(self.rms_norm_eps > 0.0 && self.rms_norm_eps < 1.0) {
            return bad(
                "rms_norm_eps",
                format!("{} is not in (0, 1)", self.rms_norm_eps),
            );
        }
        for (key, theta) in [
            ("rope_theta", self.rope_theta),
            ("rope_local_base_freq", self.rope_local_base_freq),
        ] {
            if !(theta > 1.0 && theta.is_finite()) {
                return bad(key, format!("{theta} must be a finite number > 1"));
            }
        }
        for (key, value) in [
            ("query_pre_attn_scalar", self.query_pre_attn_scalar),
            ("final_logit_softcapping", self.final_logit_softcapping),
            ("attn_logit_softcapping", self.attn_logit_softcapping),
        ] {
            if let Some(v) = value
                && !(v > 0.0 && v.is_finite())
            {
                return bad(key, format!("{v} must be a finite number > 0"));
            }
        }
        if let Some(act) = &self.hidden_activation
            && !GELU_TANH.contains(&act.as_str())
        {
            return bad(
                "hidden_activation",
                format!("`{act}` is not supported (Gemma 3 uses gelu_pytorch_tanh)"),
            );
        }
        if self.attention_bias {
            return bad("attention_bias", "Gemma 3 has no attention bias".into());
        }
        self.layer_kinds(path)?;
        self.global_rope(path)?;
        Ok(())
    }

    /// Elements of every parameter (embedding, layers, final norm, untied head), saturating.
    pub fn parameter_count(&self) -> u64 {
        let [v, d, ff, layers, hd] = [
            self.vocab_size,
            self.hidden_size,
            self.intermediate_size,
            self.num_hidden_layers,
            self.head_dim,
        ]
        .map(|x| x as u128);
        let q = self.num_attention_heads as u128 * hd;
        let kv = self.kv_heads() as u128 * hd;
        // q/k norms over a head, four norms over the hidden size; no projection has a bias.
        let layer = 2 * d * q + 2 * d * kv + 3 * d * ff + 2 * hd + 4 * d;
        let head = if self.tie_word_embeddings { 0 } else { v * d };
        let total = v * d + layers * layer + d + head;
        u64::try_from(total).unwrap_or(u64::MAX)
    }

    pub fn kv_heads(&self) -> usize {
        self.num_key_value_heads.unwrap_or(self.num_attention_heads)
    }

    /// The multiplier of the attention scores.
    pub fn attention_scale(&self) -> f64 {
        let scalar = self.query_pre_attn_scalar.unwrap_or(self.head_dim as f64);
        1.0 / scalar.sqrt()
    }

    /// Each layer's attention: from `layer_types`, else every `sliding_window_pattern`-th
    /// layer global (default 6, Gemma 3's five local layers to one global).
    pub fn layer_kinds(&self, path: &Path) -> Result<Vec<LayerKind>, LoadError> {
        if let Some(types) = &self.layer_types {
            if types.len() != self.num_hidden_layers {
                return Err(LoadError::config(
                    path,
                    "layer_types",
                    format!(
                        "{} entries for {} layers",
                        types.len(),
                        self.num_hidden_layers
                    ),
                ));
            }
            return types
                .iter()
                .enumerate()
                .map(|(i, t)| match t.as_str() {
                    "sliding_attention" => Ok(LayerKind::Local),
                    "full_attention" => Ok(LayerKind::Global),
                    other => Err(LoadError::config(
                        path,
                        &format!("layer_types[{i}]"),
                        format!("`{other}` (expected sliding_attention or full_attention)"),
                    )),
                })
                .collect();
        }
        let pattern = self.sliding_window_pattern.unwrap_or(6);
        check_size(path, "sliding_window_pattern", pattern, MAX_LAYERS)?;
        Ok((0..self.num_hidden_layers)
            .map(|i| {
                if (i + 1) % pattern == 0 {
                    LayerKind::Global
                } else {
                    LayerKind::Local
                }
            })
            .collect())
    }

    /// RoPE of the global layers: `rope_theta` with `rope_scaling`.
    pub fn global_rope(&self, path: &Path) -> Result<RopeConfig, LoadError> {
        Ok(RopeConfig {
            head_dim: self.head_dim,
            theta: self.rope_theta,
            scaling: RopeScaling::from_config(self.rope_scaling.as_ref(), path)?,
        })
    }

    /// RoPE of the local layers: `rope_local_base_freq`, never scaled.
    pub fn local_rope(&self) -> RopeConfig {
        RopeConfig {
            head_dim: self.head_dim,
            theta: self.rope_local_base_freq,
            scaling: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn base() -> serde_json::Value {
        json!({
            "vocab_size": 64, "hidden_size": 8, "intermediate_size": 16,
            "num_hidden_layers": 7, "num_attention_heads": 2, "num_key_value_heads": 1,
            "head_dim": 4
        })
    }

    #[test]
    fn every_sixth_layer_is_global_by_default_and_layer_types_win() {
        let path = Path::new("config.json");
        let cfg = Gemma3Config::from_json(&base(), path).unwrap();
        let kinds = cfg.layer_kinds(path).unwrap();
        assert_eq!(kinds[5], LayerKind::Global);
        assert_eq!(kinds.iter().filter(|k| **k == LayerKind::Global).count(), 1);
        let mut j = base();
        j["num_hidden_layers"] = json!(2);
        j["layer_types"] = json!(["full_attention", "sliding_attention"]);
        let cfg = Gemma3Config::from_json(&j, path).unwrap();
        assert_eq!(
            cfg.layer_kinds(path).unwrap(),
            [LayerKind::Global, LayerKind::Local]
        );
        assert_eq!(cfg.attention_scale(), 0.5);
    }

    #[test]
    fn bad_values_name_their_key() {
        let path = Path::new("config.json");
        for (key, value) in [
            ("layer_types", json!(["full_attention"])),
            ("hidden_activation", json!("silu")),
            ("num_hidden_layers", json!(1_000_000_000u64)),
            ("query_pre_attn_scalar", json!(-1.0)),
            ("rope_local_base_freq", json!(0.5)),
        ] {
            let mut j = base();
            j[key] = value;
            let err = Gemma3Config::from_json(&j, path).unwrap_err().to_string();
            assert!(err.contains(key), "{key}: {err}");
        }
    }
}
