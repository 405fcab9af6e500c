//! The options every generating command (`generate`, `chat`) shares, and what they resolve to.

use crate::options::{DEFAULT_MAX_NEW_TOKENS, SamplingArgs};
use crate::ready_model::ReadyModel;
use clap::Args;
use flint_core::gpu::GpuFloat;
use flint_core::{Backend, WgpuTarget};
use flint_loader::ChatMessage;
use flint_sampling::{Sampler, SamplingConfig};
use std::path::PathBuf;

#[derive(Args)]
pub struct RunArgs {
    /// Model directory (config.json, safetensors, tokenizer.json), its safetensors file, or a
    /// GGUF file.
    #[arg(long)]
    pub model: PathBuf,
    /// A system message leading the chat (`generate`: turns --prompt into a chat, or leads
    /// --messages that have none).
    #[arg(long)]
    pub system: Option<String>,
    /// Most tokens to generate (default: generation_config.json's max_new_tokens, else 256).
    #[arg(long)]
    pub max_new_tokens: Option<usize>,
    /// Stop when this text appears; it and what follows are not returned. Repeatable.
    #[arg(long = "stop")]
    pub stop: Vec<String>,
    #[command(flatten)]
    pub sampling: SamplingArgs,
    /// Backend: flex (CPU, default, faster), ndarray (CPU) or wgpu (any GPU through WebGPU).
    #[arg(long, default_value = "flex")]
    pub backend: Backend,
    /// With --backend wgpu: the adapter, by its number in `flint devices` (default: the first).
    #[arg(long)]
    pub device: Option<usize>,
    /// Float type of the weights. GPU (--backend wgpu): f16 or f32 (default: f16 where the
    /// adapter supports it). CPU: f32 widens bf16 weights at load (default on flex: linear
    /// and embedding weights stay bf16 as stored; ndarray always computes in f32).
    #[arg(long)]
    pub dtype: Option<GpuFloat>,
    /// Read the checkpoint into memory instead of mapping it: a file truncated or rewritten
    /// while flint runs then cannot crash it (SIGBUS), for a full read at load and the
    /// file's size in memory.
    #[arg(long)]
    pub no_mmap: bool,
    /// Print where the time went on stderr: each load step (config, open + map, header
    /// parse, build, assign/convert, to device, buffers), the first token and the decode.
    #[arg(long)]
    pub timings: bool,
}

impl RunArgs {
    pub fn open(&self) -> anyhow::Result<ReadyModel> {
        if self.no_mmap {
            flint_loader::set_read_mode(flint_loader::ReadMode::Copy);
        }
        let backend = self.backend()?;
        let f32_weights = !matches!(backend, Backend::Wgpu(_)) && self.dtype == Some(GpuFloat::F32);
        ReadyModel::open(&self.model, backend, f32_weights)
    }

    /// `--backend` with `--device`/`--dtype` applied; those two only make sense on a GPU.
    pub fn backend(&self) -> anyhow::Result<Backend> {
        match self.backend {
            Backend::Wgpu(_) => {
                let target = WgpuTarget {
                    adapter: self.device,
                    dtype: self.dtype.unwrap_or_default(),
                };
                let (_, adapter, float) = flint_core::gpu::open(target.adapter, target.dtype)?;
                eprintln!("[flint] GPU adapter {adapter}; computing in {float:?}");
                Ok(Backend::Wgpu(target))
            }
            cpu if self.device.is_some() => {
                anyhow::bail!("--device chooses a GPU adapter; it needs --backend wgpu (not {cpu})")
            }
            cpu if self.dtype == Some(GpuFloat::F16) => anyhow::bail!(
                "--dtype f16 is for GPUs; on the CPU ({cpu}) weights are bf16 as stored or \
                 f32 (--dtype f32)"
            ),
            cpu => Ok(cpu),
        }
    }

    /// The sampling settings in force (flags over the model's over defaults) and a sampler.
    pub fn sampler(&self, ready: &ReadyModel) -> anyhow::Result<(SamplingConfig, Sampler)> {
        let config = self.sampling.resolve(&ready.defaults);
        let sampler =
            Sampler::new(config.clone(), self.sampling.seed).map_err(|e| anyhow::anyhow!("{e}"))?;
        Ok((config, sampler))
    }

    pub fn max_new_tokens(&self, ready: &ReadyModel) -> usize {
        self.max_new_tokens
            .or(ready.defaults.max_new_tokens)
            .unwrap_or(DEFAULT_MAX_NEW_TOKENS)
    }

    pub fn system_message(&self) -> Option<ChatMessage> {
        self.system.as_ref().map(|s| ChatMessage {
            role: "system".into(),
            content: s.clone(),
        })
    }
}
