//! The Llama module the baselines load into: the very module flint's loader fills, built
//! lazily (no weight allocated) from the model directory's `config.json`, so every method
//! ends with the same network and runs the same forward pass.

use flint_core::CausalLm;
use flint_core::burn::tensor::Device;
use flint_core::rope::RopeConfig;
use flint_model_llama::{Llama, LlamaConfig, LlamaForCausalLM};
use std::path::Path;

/// Builds the lazy module for the `config.json` of the checkpoint at `path` (a file, or the
/// model directory itself), plus what turns the loaded module into a runnable model.
pub fn build(path: &Path, device: &Device) -> anyhow::Result<(LlamaForCausalLM, Finisher)> {
    let path = flint_loader::model_dir(path).join("config.json");
    let json = flint_loader::read_json(&path)?;
    let config = LlamaConfig::from_json(&json, &path)?;
    let rope = config.rope(&path)?;
    let net = LlamaForCausalLM::new(&config, device);
    Ok((
        net,
        Finisher {
            config,
            rope,
            device: device.clone(),
        },
    ))
}

/// The config and RoPE settings kept aside while the module is being loaded.
pub struct Finisher {
    config: LlamaConfig,
    rope: RopeConfig,
    device: Device,
}

impl Finisher {
    /// Adds the RoPE tables and KV cache to the loaded module.
    pub fn finish(self, net: LlamaForCausalLM) -> Box<dyn CausalLm> {
        Box::new(Llama::new(net, self.config, &self.rope, &self.device))
    }
}
