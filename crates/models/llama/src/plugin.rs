//! Registers the Llama architecture with flint's loader.

use crate::{Llama, LlamaConfig, LlamaForCausalLM};
use flint_core::burn::tensor::Device;
use flint_core::rope::RopeConfig;
use flint_core::{Architecture, CausalLm, LoadError, ModelSkeleton, TensorSource};
use std::path::Path;

pub struct LlamaArchitecture;

/// The registry entry; `flint models` lists it as `llama`.
pub static LLAMA: LlamaArchitecture = LlamaArchitecture;
flint_core::register_architecture!(LLAMA);

impl Architecture for LlamaArchitecture {
    fn name(&self) -> &'static str {
        "llama"
    }
    fn model_types(&self) -> &'static [&'static str] {
        &["llama", "mistral"]
    }
    fn class_names(&self) -> &'static [&'static str] {
        &["LlamaForCausalLM", "MistralForCausalLM"]
    }
    fn parameter_count(
        &self,
        config: &serde_json::Value,
        config_path: &Path,
    ) -> Result<u64, LoadError> {
        Ok(LlamaConfig::from_json(config, config_path)?.parameter_count())
    }
    fn build(
        &self,
        config: &serde_json::Value,
        config_path: &Path,
        device: &Device,
    ) -> Result<Box<dyn ModelSkeleton>, LoadError> {
        let config = LlamaConfig::from_json(config, config_path)?;
        let rope = config.rope(config_path)?;
        let net = LlamaForCausalLM::new(&config, device);
        Ok(Box::new(LlamaSkeleton {
            net: Some(net),
            config,
            rope,
            device: device.clone(),
        }))
    }
}

struct LlamaSkeleton {
    /// `None` only after a failed load, which consumes the module.
    net: Option<LlamaForCausalLM>,
    config: LlamaConfig,
    rope: RopeConfig,
    /// Where the model computes (a staged embedding is placed here).
    device: Device,
}

impl ModelSkeleton for LlamaSkeleton {
    fn load_weights(&mut self, source: &mut dyn TensorSource) -> Result<(), LoadError> {
        let net = self.net.take().ok_or_else(|| LoadError::Other {
            message: "llama: weights were already loaded (or a load failed)".into(),
        })?;
        self.net = Some(flint_core::assign_parameters(net, source)?);
        Ok(())
    }

    fn finish(self: Box<Self>) -> Result<Box<dyn CausalLm>, LoadError> {
        let net = self.net.ok_or_else(|| LoadError::Other {
            message: "llama: finish called without loaded weights".into(),
        })?;
        Ok(Box::new(Llama::new(
            net,
            self.config,
            &self.rope,
            &self.device,
        )))
    }
}
