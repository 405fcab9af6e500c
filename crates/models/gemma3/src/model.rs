//! The Gemma 3 text decoder, top to bottom.
//!
//! Field names follow the Hugging Face checkpoint (`model.layers.0.pre_feedforward_layernorm
//! .weight`), so the loader fills parameters by name with no renaming table.

use crate::{Gemma3Config, LayerKind};
use flint_core::attention::{DecoderCache, KvCache, ScoreOptions, grouped_attention, softcap};
use flint_core::burn::module::Module;
use flint_core::burn::tensor::activation::gelu_approximate;
use flint_core::burn::tensor::{Device, FloatDType, Tensor};
use flint_core::nn::{Embedding, Linear, RmsNorm};
use flint_core::rope::Rope;
use std::path::Path;

/// The whole network: decoder stack plus output head (absent when tied to the embedding,
/// which every released Gemma 3 is).
#[derive(Module, Debug)]
pub struct Gemma3ForCausalLM {
    pub model: Gemma3Model,
    pub lm_head: Option<Linear>,
}

#[derive(Module, Debug)]
pub struct Gemma3Model {
    pub embed_tokens: Embedding,
    pub layers: Vec<DecoderLayer>,
    pub norm: RmsNorm,
}

/// Attention and MLP, each wrapped in a norm before and a norm after.
#[derive(Module, Debug)]
pub struct DecoderLayer {
    pub self_attn: Attention,
    pub mlp: Mlp,
    pub input_layernorm: RmsNorm,
    pub post_attention_layernorm: RmsNorm,
    pub pre_feedforward_layernorm: RmsNorm,
    pub post_feedforward_layernorm: RmsNorm,
}

/// Grouped-query attention with per-head RMS-normalised queries and keys.
#[derive(Module, Debug)]
pub struct Attention {
    pub q_proj: Linear,
    pub k_proj: Linear,
    pub v_proj: Linear,
    pub o_proj: Linear,
    pub q_norm: RmsNorm,
    pub k_norm: RmsNorm,
    pub n_heads: usize,
    pub n_kv_heads: usize,
    pub head_dim: usize,
}

/// GELU-tanh gated feed-forward: `down(gelu_tanh(gate(x)) * up(x))`.
#[derive(Module, Debug)]
pub struct Mlp {
    pub gate_proj: Linear,
    pub up_proj: Linear,
    pub down_proj: Linear,
}

impl Gemma3ForCausalLM {
    /// Builds the network with lazy parameters: no weight is allocated until loaded.
    pub fn new(cfg: &Gemma3Config, device: &Device) -> Self {
        let d = cfg.hidden_size;
        let layers = (0..cfg.num_hidden_layers)
            .map(|_| DecoderLayer::new(cfg, device))
            .collect();
        Self {
            model: Gemma3Model {
                embed_tokens: Embedding::new(cfg.vocab_size, d, device),
                layers,
                norm: RmsNorm::with_unit_offset(d, cfg.rms_norm_eps, device),
            },
            lm_head: (!cfg.tie_word_embeddings)
                .then(|| Linear::new(d, cfg.vocab_size, false, device)),
        }
    }
}

impl DecoderLayer {
    fn new(cfg: &Gemma3Config, device: &Device) -> Self {
        let d = cfg.hidden_size;
        let (hd, nh, nkv) = (cfg.head_dim, cfg.num_attention_heads, cfg.kv_heads());
        let eps = cfg.rms_norm_eps;
        let norm = |dim| RmsNorm::with_unit_offset(dim, eps, device);
        Self {
            self_attn: Attention {
                q_proj: Linear::new(d, nh * hd, false, device),
                k_proj: Linear::new(d, nkv * hd, false, device),
                v_proj: Linear::new(d, nkv * hd, false, device),
                o_proj: Linear::new(nh * hd, d, false, device),
                q_norm: norm(hd),
                k_norm: norm(hd),
                n_heads: nh,
                n_kv_heads: nkv,
                head_dim: hd,
            },
            mlp: Mlp {
                gate_proj: Linear::new(d, cfg.intermediate_size, false, device),
                up_proj: Linear::new(d, cfg.intermediate_size, false, device),
                down_proj: Linear::new(cfg.intermediate_size, d, false, device),
            },
            input_layernorm: norm(d),
            post_attention_layernorm: norm(d),
            pre_feedforward_layernorm: norm(d),
            post_feedforward_layernorm: norm(d),
        }
    }
}

/// What one attention call needs besides its input: the layer's RoPE and window, the score
/// scale and cap.
struct AttentionContext<'a> {
    rope: &'a mut Rope,
    window: Option<usize>,
    scale: f64,
    softcap: Option<f64>,
}

impl Attention {
    fn forward(
        &self,
        x: Tensor<3>,
        ctx: AttentionContext<'_>,
        cache: &mut KvCache,
        start: usize,
    ) -> Tensor<3> {
        let [b, s, _] = x.dims();
        let (nh, nkv, hd) = (self.n_heads, self.n_kv_heads, self.head_dim);
        let heads = |t: Tensor<3>, n: usize| t.reshape([b, s, n, hd]).swap_dims(1, 2);
        let q = self
            .q_norm
            .forward(heads(self.q_proj.forward(x.clone()), nh));
        let k = self
            .k_norm
            .forward(heads(self.k_proj.forward(x.clone()), nkv));
        let q = ctx.rope.apply(q, start);
        let k = ctx.rope.apply(k, start);
        let v = heads(self.v_proj.forward(x), nkv);
        let (k, v) = cache.append(k, v);

        let group = nh / nkv;
        let q = q.reshape([b, nkv, group * s, hd]);
        let options = ScoreOptions {
            scale: ctx.scale,
            softcap: ctx.softcap,
            window: ctx.window,
        };
        let out = grouped_attention(q, k, v, group, s, start, options);
        let out = out
            .reshape([b, nh, s, hd])
            .swap_dims(1, 2)
            .reshape([b, s, nh * hd]);
        self.o_proj.forward(out)
    }
}

impl Mlp {
    fn forward(&self, x: Tensor<3>) -> Tensor<3> {
        let gate = gelu_approximate(self.gate_proj.forward(x.clone()));
        self.down_proj.forward(gate * self.up_proj.forward(x))
    }
}

/// A loaded Gemma 3 with its RoPE tables (one per layer kind) and KV cache.
pub struct Gemma3 {
    net: Gemma3ForCausalLM,
    config: Gemma3Config,
    kinds: Vec<LayerKind>,
    local_rope: Rope,
    global_rope: Rope,
    cache: DecoderCache,
}

impl Gemma3 {
    /// Wraps loaded weights for computing on `device`: places an embedding table staged on
    /// the host (Gemma's 262k-row table is larger than some GPUs' buffers) and computes the
    /// RoPE tables (buffers no checkpoint holds).
    pub fn new(
        mut net: Gemma3ForCausalLM,
        config: Gemma3Config,
        config_path: &Path,
        device: &Device,
    ) -> Result<Self, flint_core::LoadError> {
        net.model.embed_tokens.place(device);
        let device = device.clone();
        let initial = config.max_position_embeddings.min(1024);
        let kinds = config.layer_kinds(config_path)?;
        let local_rope = Rope::new(&config.local_rope(), initial, &device);
        let global_rope = Rope::new(&config.global_rope(config_path)?, initial, &device);
        let cache = DecoderCache::new(config.num_hidden_layers);
        Ok(Self {
            net,
            config,
            kinds,
            local_rope,
            global_rope,
            cache,
        })
    }

    fn hidden_states(&mut self, tokens: &[u32]) -> Tensor<3> {
        let start = self.cache.position();
        let scale = self.config.attention_scale();
        let softcap = self.config.attn_logit_softcapping;
        // transformers scales in the embedding's dtype: f32 here.
        let embed_scale = (self.config.hidden_size as f32).sqrt() as f64;
        let mut x = self.net.model.embed_tokens.forward(tokens) * embed_scale;
        let layers = self.net.model.layers.iter().zip(&self.kinds);
        for ((layer, kind), cache) in layers.zip(self.cache.layers_for(tokens.len())) {
            let ctx = match kind {
                LayerKind::Local => AttentionContext {
                    rope: &mut self.local_rope,
                    window: Some(self.config.sliding_window),
                    scale,
                    softcap,
                },
                LayerKind::Global => AttentionContext {
                    rope: &mut self.global_rope,
                    window: None,
                    scale,
                    softcap,
                },
            };
            let h = layer.input_layernorm.forward(x.clone());
            let h = layer.self_attn.forward(h, ctx, cache, start);
            x = x + layer.post_attention_layernorm.forward(h);
            let h = layer.pre_feedforward_layernorm.forward(x.clone());
            let h = layer.mlp.forward(h);
            x = x + layer.post_feedforward_layernorm.forward(h);
        }
        self.net.model.norm.forward(x)
    }

    fn head(&self, x: Tensor<3>) -> Tensor<3> {
        let logits = match &self.net.lm_head {
            Some(head) => head.forward(x),
            None => self.net.model.embed_tokens.attend(x),
        };
        match self.config.final_logit_softcapping {
            Some(cap) => softcap(logits, cap),
            None => logits,
        }
    }
}

impl flint_core::CausalLm for Gemma3 {
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
