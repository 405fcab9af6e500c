//! The architecture plugin registry.
//!
//! An architecture crate describes itself with an [`Architecture`] value and registers it
//! with [`register_architecture!`](crate::register_architecture). The registry is built at
//! link time (the `inventory` crate), so the loader and the CLI find every linked
//! architecture without naming any of them.

use crate::{CausalLm, LoadError, TensorSource};
use burn::tensor::Device;
use std::path::Path;

/// One model family (Llama, Gemma 3, ...): how to recognise its `config.json` and how to build
/// its module before any weight exists.
pub trait Architecture: Sync {
    /// Short name shown by `flint models`.
    fn name(&self) -> &'static str;
    /// `config.json` `model_type` values this architecture accepts.
    fn model_types(&self) -> &'static [&'static str];
    /// `config.json` `architectures` entries this architecture accepts.
    fn class_names(&self) -> &'static [&'static str];
    /// Parameters (elements) of the module `config` describes, so the loader can refuse a
    /// model that cannot fit in memory before building anything. Saturates rather than
    /// overflows: a hostile config must give a huge number, not a small one.
    fn parameter_count(
        &self,
        config: &serde_json::Value,
        config_path: &Path,
    ) -> Result<u64, LoadError>;
    /// Builds the module with lazy (unallocated) parameters from a parsed `config.json`.
    /// `config_path` is only used to name the file in errors.
    fn build(
        &self,
        config: &serde_json::Value,
        config_path: &Path,
        device: &Device,
    ) -> Result<Box<dyn ModelSkeleton>, LoadError>;
}

/// A model whose parameters are not yet loaded: the Rust counterpart of a PyTorch model built
/// on the `meta` device.
pub trait ModelSkeleton {
    /// Fills every parameter from `source`, by checkpoint name (see [`crate::assign_parameters`]).
    fn load_weights(&mut self, source: &mut dyn TensorSource) -> Result<(), LoadError>;
    /// Initialises the non-persistent buffers (RoPE tables, ...) and returns the runnable model.
    fn finish(self: Box<Self>) -> Result<Box<dyn CausalLm>, LoadError>;
}

/// A registry entry; created by [`register_architecture!`](crate::register_architecture).
pub struct Registration(pub &'static dyn Architecture);

inventory::collect!(Registration);

/// Registers an architecture (a `static` implementing [`Architecture`]) with the loader.
#[macro_export]
macro_rules! register_architecture {
    ($arch:path) => {
        $crate::inventory::submit! { $crate::architecture::Registration(&$arch) }
    };
}

/// Every linked architecture, sorted by name.
pub fn architectures() -> Vec<&'static dyn Architecture> {
    let mut all: Vec<&'static dyn Architecture> = inventory::iter::<Registration>
        .into_iter()
        .map(|r| r.0)
        .collect();
    all.sort_by_key(|a| a.name());
    all
}

/// Picks the architecture for a `config.json`: `model_type` first, then `architectures`.
pub fn find_architecture(
    config: &serde_json::Value,
    config_path: &Path,
) -> Result<&'static dyn Architecture, LoadError> {
    let model_type = config.get("model_type").and_then(|v| v.as_str());
    let class_names: Vec<String> = config
        .get("architectures")
        .and_then(|v| v.as_array())
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    let all = architectures();
    if let Some(mt) = model_type
        && let Some(arch) = all.iter().find(|a| a.model_types().contains(&mt))
    {
        return Ok(*arch);
    }
    for class in &class_names {
        if let Some(arch) = all
            .iter()
            .find(|a| a.class_names().contains(&class.as_str()))
        {
            return Ok(*arch);
        }
    }
    let known = all
        .iter()
        .map(|a| format!("{} ({})", a.name(), a.model_types().join(", ")))
        .collect::<Vec<_>>()
        .join("; ");
    Err(LoadError::UnknownArchitecture {
        path: config_path.to_path_buf(),
        model_type: model_type.map(str::to_string),
        architectures: class_names,
        known: if known.is_empty() {
            "none".into()
        } else {
            known
        },
    })
}
