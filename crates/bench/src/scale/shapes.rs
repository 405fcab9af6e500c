//! The Llama shapes the synthetic checkpoints take: Llama 3.2 1B and 3B, hyper-parameters and
//! tensor names exactly as their Hugging Face checkpoints have them, so flint loads them by
//! the same code path as a downloaded model.

use serde_json::json;

#[derive(Clone, Copy, Debug)]
pub struct LlamaShape {
    /// Directory name under the synthetic cache, and the `--sizes` value.
    pub name: &'static str,
    pub hidden: usize,
    pub intermediate: usize,
    pub layers: usize,
    pub heads: usize,
    pub kv_heads: usize,
    pub head_dim: usize,
    pub vocab: usize,
    pub rope_theta: f64,
}

/// Llama-3.2-1B.
pub const LLAMA_1B: LlamaShape = LlamaShape {
    name: "llama-1b",
    hidden: 2048,
    intermediate: 8192,
    layers: 16,
    heads: 32,
    kv_heads: 8,
    head_dim: 64,
    vocab: 128_256,
    rope_theta: 500_000.0,
};

/// Llama-3.2-3B.
pub const LLAMA_3B: LlamaShape = LlamaShape {
    name: "llama-3b",
    hidden: 3072,
    intermediate: 8192,
    layers: 28,
    heads: 24,
    kv_heads: 8,
    head_dim: 128,
    vocab: 128_256,
    rope_theta: 500_000.0,
};

/// What the values of a tensor are.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Fill {
    /// Uniform in ±0.02, like an initialised matrix: small and finite.
    Uniform,
    /// All ones: RMSNorm weights.
    Ones,
}

pub struct TensorSpec {
    pub name: String,
    pub shape: Vec<usize>,
    pub fill: Fill,
}

impl TensorSpec {
    pub fn elements(&self) -> usize {
        self.shape.iter().product()
    }
}

impl LlamaShape {
    /// Every tensor in module order (embedding, layers 0.., final norm), as transformers'
    /// `state_dict` lists them, which is the order its sharding fills the shards in. The
    /// embeddings are tied: there is no `lm_head.weight`, as in the real 1B and 3B.
    pub fn tensors(&self) -> Vec<TensorSpec> {
        let (d, ff) = (self.hidden, self.intermediate);
        let (q, kv) = (self.heads * self.head_dim, self.kv_heads * self.head_dim);
        let spec = |name: String, shape: Vec<usize>, fill| TensorSpec { name, shape, fill };
        let mut out = vec![spec(
            "model.embed_tokens.weight".into(),
            vec![self.vocab, d],
            Fill::Uniform,
        )];
        for i in 0..self.layers {
            let p = format!("model.layers.{i}");
            out.extend([
                spec(
                    format!("{p}.self_attn.q_proj.weight"),
                    vec![q, d],
                    Fill::Uniform,
                ),
                spec(
                    format!("{p}.self_attn.k_proj.weight"),
                    vec![kv, d],
                    Fill::Uniform,
                ),
                spec(
                    format!("{p}.self_attn.v_proj.weight"),
                    vec![kv, d],
                    Fill::Uniform,
                ),
                spec(
                    format!("{p}.self_attn.o_proj.weight"),
                    vec![d, q],
                    Fill::Uniform,
                ),
                spec(
                    format!("{p}.mlp.gate_proj.weight"),
                    vec![ff, d],
                    Fill::Uniform,
                ),
                spec(
                    format!("{p}.mlp.up_proj.weight"),
                    vec![ff, d],
                    Fill::Uniform,
                ),
                spec(
                    format!("{p}.mlp.down_proj.weight"),
                    vec![d, ff],
                    Fill::Uniform,
                ),
                spec(format!("{p}.input_layernorm.weight"), vec![d], Fill::Ones),
                spec(
                    format!("{p}.post_attention_layernorm.weight"),
                    vec![d],
                    Fill::Ones,
                ),
            ]);
        }
        out.push(spec("model.norm.weight".into(), vec![d], Fill::Ones));
        out
    }

    /// The model's `config.json`, as Meta's Llama 3.2 checkpoints ship it.
    pub fn config_json(&self) -> serde_json::Value {
        json!({
            "architectures": ["LlamaForCausalLM"],
            "model_type": "llama",
            "attention_bias": false,
            "attention_dropout": 0.0,
            "bos_token_id": 128000,
            "eos_token_id": 128001,
            "head_dim": self.head_dim,
            "hidden_act": "silu",
            "hidden_size": self.hidden,
            "initializer_range": 0.02,
            "intermediate_size": self.intermediate,
            "max_position_embeddings": 131072,
            "mlp_bias": false,
            "num_attention_heads": self.heads,
            "num_hidden_layers": self.layers,
            "num_key_value_heads": self.kv_heads,
            "pretraining_tp": 1,
            "rms_norm_eps": 1e-5,
            "rope_scaling": {
                "factor": 32.0,
                "high_freq_factor": 4.0,
                "low_freq_factor": 1.0,
                "original_max_position_embeddings": 8192,
                "rope_type": "llama3"
            },
            "rope_theta": self.rope_theta,
            "tie_word_embeddings": true,
            "torch_dtype": "bfloat16",
            "use_cache": true,
            "vocab_size": self.vocab
        })
    }
}
