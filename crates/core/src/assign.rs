//! Assigning loaded tensors into a lazily built module, parameter by parameter.
//!
//! A flint module's parameter paths *are* the checkpoint's tensor names
//! (`model.layers.0.self_attn.q_proj.weight`): architecture crates name their fields after
//! the Hugging Face convention, so no renaming table exists to drift out of date. Walking
//! the module with a [`ModuleMapper`] gives each parameter its full name and its expected
//! shape (read without initialising it); the [`TensorSource`] checks the stored tensor
//! against that shape and hands back data ready for the device.

use crate::LoadError;
use burn::module::{Module, ModuleMapper, Param};
use burn::tensor::{DType, Device, Tensor, TensorData};

/// Where a parameter will live, and what it may be stored as there.
#[derive(Debug, Clone)]
pub struct Target {
    pub device: Device,
    /// The layer computes with bf16 weights as they are (a `Linear` or `Embedding` on
    /// burn-flex, through [`crate::cpu`]): a bf16 tensor may be handed over unconverted.
    pub accepts_bf16: bool,
}

/// Where parameters come from: a checkpoint reader (safetensors, GGUF, ...).
pub trait TensorSource {
    /// The file (or directory) tensors come from, for error messages.
    fn origin(&self) -> &std::path::Path;

    /// The tensor stored as `name`, checked to have `shape`, as data `target` can use:
    /// float, in the backend's compute dtype, or bf16 where `target.accepts_bf16`.
    fn take(
        &mut self,
        name: &str,
        shape: &[usize],
        target: &Target,
    ) -> Result<TensorData, LoadError>;

    /// Called once the tensor [`take`](Self::take) gave for `name` is on its device, with
    /// the time placing it took (an upload on a GPU, wrapping the bytes on a CPU): lets a
    /// loader report that step and its progress.
    fn placed(&mut self, _name: &str, _elapsed: std::time::Duration) {}
}

/// Replaces every float parameter of `module` by the tensor `source` holds under its path.
/// Parameters are never initialised: the lazy init closures are dropped unused.
pub fn assign_parameters<M: Module>(
    module: M,
    source: &mut dyn TensorSource,
) -> Result<M, LoadError> {
    let mut mapper = Assigner {
        source,
        path: Vec::new(),
        containers: Vec::new(),
        error: None,
        missing: None,
    };
    let module = module.map(&mut mapper);
    match (mapper.error, mapper.missing) {
        (Some(err), _) => Err(err),
        // Every absent tensor is named at once, not just the first.
        (None, Some((path, names))) => Err(LoadError::MissingTensors { path, names }),
        (None, None) => Ok(module),
    }
}

struct Assigner<'a> {
    source: &'a mut dyn TensorSource,
    path: Vec<String>,
    /// The module type holding each level of `path` (`Struct:Embedding`, ...).
    containers: Vec<String>,
    /// First error other than a missing tensor; mapping cannot stop early, so later
    /// params are skipped once it is set.
    error: Option<LoadError>,
    /// Missing tensors, gathered so the error lists them all.
    missing: Option<(std::path::PathBuf, Vec<String>)>,
}

impl ModuleMapper for Assigner<'_> {
    fn enter_module(&mut self, name: &str, container_type: &str) {
        self.path.push(name.to_string());
        self.containers.push(container_type.to_string());
    }

    fn exit_module(&mut self, _name: &str, _container_type: &str) {
        self.path.pop();
        self.containers.pop();
    }

    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        if self.error.is_some() {
            return param;
        }
        let name = self.path.join(".");
        let shape = param.lazy_shape();
        let compute_device = param.lazy_device();
        let mut device = compute_device.clone();
        if let Err(message) = crate::gpu::check_fits(&device, shape.as_slice()) {
            // A table too large for one GPU buffer: an `Embedding` splits it into row blocks
            // once loaded (`Embedding::place`), so it is staged on the host; anything else
            // cannot be split and is refused before upload.
            if self.containers.last().map(String::as_str) == Some("Struct:Embedding") {
                device = Device::flex();
            } else {
                self.error = Some(LoadError::Tensor {
                    path: self.source.origin().to_path_buf(),
                    tensor: name,
                    message,
                });
                return param;
            }
        }
        let container = self.containers.last().map(String::as_str);
        let target = Target {
            accepts_bf16: device == compute_device
                && crate::cpu::flex::is_flex(&device)
                && matches!(container, Some("Struct:Linear" | "Struct:Embedding")),
            device,
        };
        match self.source.take(&name, shape.as_slice(), &target) {
            Ok(data) => {
                let device = target.device;
                let start = std::time::Instant::now();
                // bf16 kept as stored stays bf16; f32 data takes the device's float type
                // (f16 on a GPU configured for it).
                let tensor = if data.dtype() == DType::BF16 {
                    Tensor::<D>::from_data(data, (&device, DType::BF16))
                } else {
                    Tensor::<D>::from_data(data, &device)
                };
                self.source.placed(&name, start.elapsed());
                let id = param.id;
                if device == compute_device {
                    param.transform_for_load(tensor, id)
                } else {
                    // Staged: `transform_for_load` would move it to the compute device.
                    Param::initialized(id, tensor)
                }
            }
            Err(LoadError::MissingTensors { path, names }) => {
                self.missing
                    .get_or_insert_with(|| (path, Vec::new()))
                    .1
                    .extend(names);
                param
            }
            Err(err) => {
                self.error = Some(err);
                param
            }
        }
    }
}
