//! llama.cpp's GGUF conventions, as data: which `general.architecture` values flint maps to
//! which Hugging Face `model_type`, which of them had their Q/K rows permuted by llama.cpp's
//! converter, and how tensor names translate between the two worlds.
//!
//! These are facts about the *file format* (what `convert_hf_to_gguf.py` writes), not about
//! any network: the architecture itself is still chosen by the plugin registry from the
//! `config.json` synthesised out of the metadata. Adding a GGUF architecture is adding a row
//! to [`ARCHITECTURES`] (after reading its class in `convert_hf_to_gguf.py`: does it permute
//! Q/K, shift norm weights, rename tensors, leave hyper-parameters out of the file?) and, if
//! it has tensors not listed in [`LAYER_TENSORS`], rows there. See
//! `docs/adding-an-architecture.md`.

/// How one llama.cpp architecture maps onto Hugging Face conventions.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GgufArchitecture {
    /// `general.architecture`, also the prefix of its hyper-parameter keys
    /// (`llama.block_count`, ...).
    pub gguf: &'static str,
    /// The `config.json` `model_type` it corresponds to.
    pub model_type: &'static str,
    /// The `config.json` `architectures` entry it corresponds to.
    pub class_name: &'static str,
    /// Whether llama.cpp's converter permuted the rows of Q and K (weights and biases) from
    /// the Hugging Face "rotate-half" RoPE layout into its interleaved-pairs layout, so the
    /// loader must undo it: `W.reshape(n_head, hd/2, 2, n_in).swapaxes(1, 2)` (K with
    /// `head_count_kv` heads).
    pub qk_permuted: bool,
    /// What llama.cpp's converter added to every `*norm.weight` (Gemma's RMSNorm multiplies
    /// by `1 + weight`; llama.cpp's graph multiplies by the stored value, so its converter
    /// stores `weight + 1`). The loader subtracts it again.
    pub norm_weight_offset: f32,
    /// Layer tensors this architecture names differently from [`LAYER_TENSORS`]:
    /// (Hugging Face suffix, GGUF suffix), looked up first.
    pub layer_renames: &'static [(&'static str, &'static str)],
    /// `config.json` entries llama.cpp hard-codes for this architecture instead of writing
    /// them to the file (a JSON object; keys the metadata does give take precedence).
    pub implied_config: &'static str,
}

impl GgufArchitecture {
    /// The offset to subtract from the Hugging Face tensor `hf` after dequantization.
    pub fn stored_offset(&self, hf: &str) -> f32 {
        if hf.ends_with("norm.weight") {
            self.norm_weight_offset
        } else {
            0.0
        }
    }
}

/// The architectures flint reads from GGUF.
///
/// - `llama` covers Llama 1/2/3, Mistral-7B-style models and SmolLM/SmolLM2 (all written as
///   `llama` by llama.cpp). `LlamaModel` in `convert_hf_to_gguf.py` permutes Q/K
///   (`undo_permute = True`).
/// - `qwen2`, `qwen3`: NeoX-style RoPE in llama.cpp, so their converters keep the Hugging
///   Face row order. No flint plugin claims them yet; listing them makes such a file fail in
///   the architecture registry (with the registered list) rather than here.
/// - `gemma3`: `Gemma3Model` keeps the row order (NeoX RoPE) but adds 1 to every norm
///   weight; its FFN norms and post-attention norm have their own GGUF names; llama.cpp's
///   `llama-model.cpp` hard-codes every 6th layer global (`set_swa_pattern(6)`), the local
///   layers' RoPE base (10000) and GELU-tanh, so they are implied here. The attention scale
///   is `1/sqrt(key_length)` there too, which the plugin's default `query_pre_attn_scalar`
///   (the head size) reproduces (llama.cpp special-cases only the 27B model).
pub const ARCHITECTURES: &[GgufArchitecture] = &[
    GgufArchitecture {
        gguf: "llama",
        model_type: "llama",
        class_name: "LlamaForCausalLM",
        qk_permuted: true,
        norm_weight_offset: 0.0,
        layer_renames: &[],
        implied_config: "{}",
    },
    GgufArchitecture {
        gguf: "qwen2",
        model_type: "qwen2",
        class_name: "Qwen2ForCausalLM",
        qk_permuted: false,
        norm_weight_offset: 0.0,
        layer_renames: &[],
        implied_config: "{}",
    },
    GgufArchitecture {
        gguf: "qwen3",
        model_type: "qwen3",
        class_name: "Qwen3ForCausalLM",
        qk_permuted: false,
        norm_weight_offset: 0.0,
        layer_renames: &[],
        implied_config: "{}",
    },
    GgufArchitecture {
        gguf: "gemma3",
        model_type: "gemma3_text",
        class_name: "Gemma3ForCausalLM",
        qk_permuted: false,
        norm_weight_offset: 1.0,
        layer_renames: &[
            (
                "post_attention_layernorm.weight",
                "post_attention_norm.weight",
            ),
            ("pre_feedforward_layernorm.weight", "ffn_norm.weight"),
            ("post_feedforward_layernorm.weight", "post_ffw_norm.weight"),
        ],
        implied_config: r#"{"sliding_window_pattern": 6, "rope_local_base_freq": 10000.0,
            "hidden_activation": "gelu_pytorch_tanh"}"#,
    },
];

/// The convention row for a `general.architecture` value.
pub fn architecture(gguf: &str) -> Option<&'static GgufArchitecture> {
    ARCHITECTURES.iter().find(|a| a.gguf == gguf)
}

/// Which permuted head count a tensor uses, when its architecture is `qk_permuted`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permutation {
    /// Stored as in Hugging Face checkpoints.
    None,
    /// Rows permuted per query head (`{arch}.attention.head_count`).
    QueryHeads,
    /// Rows permuted per key/value head (`{arch}.attention.head_count_kv`).
    KeyValueHeads,
}

/// Tensors outside the layers: (Hugging Face name, GGUF name).
pub const GLOBAL_TENSORS: &[(&str, &str)] = &[
    ("model.embed_tokens.weight", "token_embd.weight"),
    ("model.norm.weight", "output_norm.weight"),
    ("lm_head.weight", "output.weight"),
];

/// Per-layer tensors: (Hugging Face suffix after `model.layers.N.`, GGUF suffix after
/// `blk.N.`, permutation when the architecture is `qk_permuted`).
pub const LAYER_TENSORS: &[(&str, &str, Permutation)] = &[
    (
        "input_layernorm.weight",
        "attn_norm.weight",
        Permutation::None,
    ),
    (
        "self_attn.q_proj.weight",
        "attn_q.weight",
        Permutation::QueryHeads,
    ),
    (
        "self_attn.q_proj.bias",
        "attn_q.bias",
        Permutation::QueryHeads,
    ),
    (
        "self_attn.k_proj.weight",
        "attn_k.weight",
        Permutation::KeyValueHeads,
    ),
    (
        "self_attn.k_proj.bias",
        "attn_k.bias",
        Permutation::KeyValueHeads,
    ),
    (
        "self_attn.v_proj.weight",
        "attn_v.weight",
        Permutation::None,
    ),
    ("self_attn.v_proj.bias", "attn_v.bias", Permutation::None),
    (
        "self_attn.o_proj.weight",
        "attn_output.weight",
        Permutation::None,
    ),
    (
        "self_attn.o_proj.bias",
        "attn_output.bias",
        Permutation::None,
    ),
    (
        "self_attn.q_norm.weight",
        "attn_q_norm.weight",
        Permutation::None,
    ),
    (
        "self_attn.k_norm.weight",
        "attn_k_norm.weight",
        Permutation::None,
    ),
    (
        "post_attention_layernorm.weight",
        "ffn_norm.weight",
        Permutation::None,
    ),
    ("mlp.gate_proj.weight", "ffn_gate.weight", Permutation::None),
    ("mlp.gate_proj.bias", "ffn_gate.bias", Permutation::None),
    ("mlp.up_proj.weight", "ffn_up.weight", Permutation::None),
    ("mlp.up_proj.bias", "ffn_up.bias", Permutation::None),
    ("mlp.down_proj.weight", "ffn_down.weight", Permutation::None),
    ("mlp.down_proj.bias", "ffn_down.bias", Permutation::None),
];

/// Hugging Face / GGUF layer prefixes.
pub const HF_LAYER_PREFIX: &str = "model.layers.";
pub const GGUF_LAYER_PREFIX: &str = "blk.";

/// GGUF tensors that hold nothing a checkpoint must provide, because the model recomputes
/// them from the hyper-parameters, so an unused one is not an error (per-layer GGUF
/// suffixes):
///
/// - `attn_rot_embd.weight`: the RoPE inverse frequencies (`rotary_emb.inv_freq` of old
///   Hugging Face checkpoints), recomputed from `rope.freq_base`; transformers ignores them
///   the same way.
///
/// Not on this list, so reported as unexpected when no parameter takes them:
/// `rope_freqs.weight` (llama.cpp's per-frequency RoPE factors, written for Llama 3.1-style
/// `rope_scaling`: ignoring it would silently change the model's positions), and anything
/// else.
pub const DERIVED_LAYER_TENSORS: &[&str] = &["attn_rot_embd.weight"];

/// Config flags read from which tensors exist: (config key, GGUF layer suffixes whose
/// presence in any layer sets it to true).
pub const PRESENCE_FLAGS: &[(&str, &[&str])] = &[
    (
        "attention_bias",
        &[
            "attn_q.bias",
            "attn_k.bias",
            "attn_v.bias",
            "attn_output.bias",
        ],
    ),
    (
        "mlp_bias",
        &["ffn_gate.bias", "ffn_up.bias", "ffn_down.bias"],
    ),
];

#[cfg(test)]
mod tests {
    use super::ARCHITECTURES;

    #[test]
    fn every_implied_config_is_a_json_object() {
        for arch in ARCHITECTURES {
            let value: serde_json::Value = serde_json::from_str(arch.implied_config).unwrap();
            assert!(value.is_object(), "{}", arch.gguf);
        }
    }
}
