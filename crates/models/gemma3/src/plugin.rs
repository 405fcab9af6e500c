//! Registers the Gemma 3 architecture with flint's loader.

use crate::{Gemma3, Gemma3Config, Gemma3ForCausalLM};
use flint_core::burn::tensor::Device;
use flint_core::{Architecture, CausalLm, LoadError, ModelSkeleton, TensorSource};
use std::path::{Path, PathBuf};

pub struct Gemma3Architecture;

/// The registry entry; `flint models` lists it as `gemma3`.
pub static GEMMA3: Gemma3Architecture = Gemma3Architecture;
flint_core::register_architecture!(GEMMA3);

impl Architecture for Gemma3Architecture {
    fn name(&self) -> &'static str {
        "gemma3"
    }
    fn model_types(&self) -> &'static [&'static str] {
        &["gemma3_text", "gemma3"]
    }
    fn class_names(&self) -> &'static [&'static str] {
        &["Gemma3ForCausalLM", "Gemma3ForConditionalGeneration"]
    }
    fn parameter_count(
        &self,
        config: &serde_json::Value,
        config_path: &Path,
    ) -> Result<u64, LoadError> {
        Ok(Gemma3Config::from_json(config, config_path)?.parameter_count())
    }
    fn build(
        &self,
        config: &serde_json::Value,
        config_path: &Path,
        device: &Device,
    ) -> Result<Box<dyn ModelSkeleton>, LoadError> {
        let config = Gemma3Config::from_json(config, config_path)?;
        let net = Gemma3ForCausalLM::new(&config, device);
        Ok(Box::new(Gemma3Skeleton {
            net: Some(net),
            config,
            config_path: config_path.to_path_buf(),
            device: device.clone(),
        }))
    }
}

struct Gemma3Skeleton {
    /// `None` only after a failed load, which consumes the module.
    net: Option<Gemma3ForCausalLM>,
    config: Gemma3Config,
    config_path: PathBuf,
    /// Where the model computes (a staged embedding is placed here).
    device: Device,
}

impl ModelSkeleton for Gemma3Skeleton {
    fn load_weights(&mut self, source: &mut dyn TensorSource) -> Result<(), LoadError> {
        let net = self.net.take().ok_or_else(|| LoadError::Other {
            message: "gemma3: weights were already loaded (or a load failed)".into(),
        })?;
        self.net = Some(flint_core::assign_parameters(net, source)?);
        Ok(())
    }

    fn finish(self: Box<Self>) -> Result<Box<dyn CausalLm>, LoadError> {
        let net = self.net.ok_or_else(|| LoadError::Other {
            message: "gemma3: finish called without loaded weights".into(),
        })?;
        Ok(Box::new(Gemma3::new(
            net,
            self.config,
            &self.config_path,
            &self.device,
        )?))
    }
}
