//! The Llama decoder, top to bottom.
//!
//! Field names follow the Hugging Face checkpoint (`model.layers.0.self_attn.q_proj.weight`),
//! so the loader fills parameters by name with no renaming table.

use crate::LlamaConfig;
use flint_core::attention::{DecoderCache, KvCache, ScoreOptions, grouped_attention};
use flint_core::burn::module::Module;
use flint_core::burn::tensor::activation::silu;
use flint_core::burn::tensor::{Device, FloatDType, Tensor};
use flint_core::nn::{Embedding, Linear, RmsNorm};
use flint_core::rope::{Rope, RopeConfig};

/// The whole network: decoder stack plus output head (absent when tied to the embedding).
#[derive(Module, Debug)]
pub struct LlamaForCausalLM {
    pub model: LlamaModel,
    pub lm_head: Option<Linear>,
}

#[derive(Module, Debug)]
pub struct LlamaModel {
    pub embed_tokens: Embedding,
    pub layers: Vec<DecoderLayer>,
    pub norm: RmsNorm,
}

#[derive(Module, Debug)]
pub struct DecoderLayer {
    pub self_attn: Attention,
    pub mlp: Mlp,
    pub input_layernorm: RmsNorm,
    pub post_attention_layernorm: RmsNorm,
}

/// Grouped-query attention: `n_heads` query heads share `n_kv_heads` key/value heads.
#[derive(Module, Debug)]
pub struct Attention {
    pub q_proj: Linear,
    pub k_proj: Linear,
    pub v_proj: Linear,
    pub o_proj: Linear,
    pub n_heads: usize,
    pub n_kv_heads: usize,
    pub head_dim: usize,
}

/// SwiGLU feed-forward: `down(silu(gate(x)) * up(x))`.
#[derive(Module, Debug)]
pub struct Mlp {
    pub gate_proj: Linear,
    pub up_proj: Linear,
    pub down_proj: Linear,
}

impl LlamaForCausalLM {
    /// Builds the network with lazy parameters: no weight is allocated until loaded.
    pub fn new(cfg: &LlamaConfig, device: &Device) -> Self {
        let d = cfg.hidden_size;
        let layers = (0..cfg.num_hidden_layers)
            .map(|_| DecoderLayer::new(cfg, device))
            .collect();
        Self {
            model: LlamaModel {
                embed_tokens: Embedding::new(cfg.vocab_size, d, device),
                layers,
                norm: RmsNorm::new(d, cfg.rms_norm_eps, device),
            },
            lm_head: (!cfg.tie_word_embeddings)
                .then(|| Linear::new(d, cfg.vocab_size, false, device)),
        }
    }
}

impl DecoderLayer {
    fn new(cfg: &LlamaConfig, device: &Device) -> Self {
        let d = cfg.hidden_size;
        let (hd, nh, nkv) = (cfg.head_dim(), cfg.num_attention_heads, cfg.kv_heads());
        let ab = cfg.attention_bias;
        let mb = cfg.mlp_bias;
        Self {
            self_attn: Attention {
                q_proj: Linear::new(d, nh * hd, ab, device),
                k_proj: Linear::new(d, nkv * hd, ab, device),
                v_proj: Linear::new(d, nkv * hd, ab, device),
                o_proj: Linear::new(nh * hd, d, ab, device),
                n_heads: nh,
                n_kv_heads: nkv,
                head_dim: hd,
            },
            mlp: Mlp {
                gate_proj: Linear::new(d, cfg.intermediate_size, mb, device),
                up_proj: Linear::new(d, cfg.intermediate_size, mb, device),
                down_proj: Linear::new(cfg.intermediate_size, d, mb, device),
            },
            input_layernorm: RmsNorm::new(d, cfg.rms_norm_eps, device),
            post_attention_layernorm: RmsNorm::new(d, cfg.rms_norm_eps, device),
        }
    }
}

impl Attention {
    fn forward(
        &self,
        x: Tensor<3>,
        rope: &mut Rope,
        cache: &mut KvCache,
        start: usize,
    ) -> Tensor<3> {
        let [b, s, _] = x.dims();
        let (nh, nkv, hd) = (self.n_heads, self.n_kv_heads, self.head_dim);
        let heads = |t: Tensor<3>, n: usize| t.reshape([b, s, n, hd]).swap_dims(1, 2);
        let q = rope.apply(heads(self.q_proj.forward(x.clone()), nh), start);
        let k = rope.apply(heads(self.k_proj.forward(x.clone()), nkv), start);
        let v = heads(self.v_proj.forward(x), nkv);
        let (k, v) = cache.append(k, v);

        let group = nh / nkv;
        let q = q.reshape([b, nkv, group * s, hd]);
        let options = ScoreOptions {
            scale: 1.0 / (hd as f64).sqrt(),
            softcap: None,
            window: None,
        };
        let out = grouped_attention(q, k, v, group, s, start, options); // [b, nkv, group * s, hd]
        let out = out
            .reshape([b, nh, s, hd])
            .swap_dims(1, 2)
            .reshape([b, s, nh * hd]);
        self.o_proj.forward(out)
    }
}

impl Mlp {
    fn forward(&self, x: Tensor<3>) -> Tensor<3> {
        let gate = silu(self.gate_proj.forward(x.clone()));
        self.down_proj.forward(gate * self.up_proj.forward(x))
    }
}

/// A loaded Llama with its RoPE tables and KV cache: what generation runs.
pub struct Llama {
    net: LlamaForCausalLM,
    config: LlamaConfig,
    rope: Rope,
    cache: DecoderCache,
}

impl Llama {
    /// Wraps loaded weights for computing on `device`: places an embedding table staged on
    /// the host (too large for one GPU buffer) and computes the RoPE tables (buffers no
    /// checkpoint holds).
    pub fn new(
        mut net: LlamaForCausalLM,
        config: LlamaConfig,
        rope: &RopeConfig,
        device: &Device,
    ) -> Self {
        net.model.embed_tokens.place(device);
        let device = device.clone();
        let rope = Rope::new(rope, config.max_position_embeddings.min(1024), &device);
        let cache = DecoderCache::new(config.num_hidden_layers);
        Self {
            net,
            config,
            rope,
            cache,
        }
    }

    /// Logits `[1, s, vocab]` for every position of `tokens`, appended to the context.
    pub fn forward_all(&mut self, tokens: &[u32]) -> Tensor<3> {
        let hidden = self.hidden_states(tokens);
        self.head(hidden)
    }

    fn hidden_states(&mut self, tokens: &[u32]) -> Tensor<3> {
        let start = self.cache.position();
        let mut x = self.net.model.embed_tokens.forward(tokens);
        for (layer, cache) in self
            .net
            .model
            .layers
            .iter()
            .zip(self.cache.layers_for(tokens.len()))
        {
            let h = layer.input_layernorm.forward(x.clone());
            x = x + layer.self_attn.forward(h, &mut self.rope, cache, start);
            let h = layer.post_attention_layernorm.forward(x.clone());
            x = x + layer.mlp.forward(h);
        }
        self.net.model.norm.forward(x)
    }

    fn head(&self, x: Tensor<3>) -> Tensor<3> {
        match &self.net.lm_head {
            Some(head) => head.forward(x),
            None => self.net.model.embed_tokens.attend(x),
        }
    }
}

impl flint_core::CausalLm for Llama {
    fn forward(&mut self, tokens: &[u32]) -> Vec<f32> {
        assert!(!tokens.is_empty(), "forward needs at least one token");
        let hidden = self.hidden_states(tokens);
        let last = hidden.narrow(1, tokens.len() - 1, 1);
        // Logits leave the device as f32 whatever it computes in (f16 on a GPU).
        self.head(last)
            .cast(FloatDType::F32)
            .into_data()
            .as_slice::<f32>()
            .expect("logits are f32")
            .to_vec()
    }

    fn reset(&mut self) {
        self.cache.reset();
    }

    fn truncate(&mut self, len: usize) {
        self.cache.truncate(len);
    }

    fn cached_tokens(&self) -> usize {
        self.cache.position()
    }

    fn max_context(&self) -> usize {
        self.config.max_position_embeddings
    }

    fn vocab_size(&self) -> usize {
        self.config.vocab_size
    }

    fn device(&self) -> Device {
        self.net.model.embed_tokens.device()
    }
}
