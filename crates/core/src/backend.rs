//! The compute backends flint runs on, and what each needs from the loader.

use crate::LoadError;
use crate::gpu::GpuFloat;
use burn::tensor::Device;
use std::fmt;
use std::str::FromStr;

/// A Burn backend flint can place a model on.
///
/// Burn 0.22 picks the backend at run time through a [`Device`]; this enum adds the one fact
/// the loader needs and Burn does not expose: whether the backend can compute on bytes it
/// does not own (the memory-mapped file) without copying them on every op.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Backend {
    /// burn-flex: pure-Rust CPU backend; keeps shared (mapped) bytes as they are.
    Flex,
    /// burn-ndarray: CPU backend; copies borrowed bytes on every op, so it gets owned buffers.
    NdArray,
    /// burn-wgpu: any GPU through WebGPU (Vulkan, Metal, DX12, GL); tensors are uploaded one
    /// at a time from the host copy.
    Wgpu(WgpuTarget),
}

/// Which GPU adapter, and in which float type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct WgpuTarget {
    /// Index in `flint devices` (default: the first).
    pub adapter: Option<usize>,
    pub dtype: GpuFloat,
}

impl Backend {
    /// The CPU backends, which every machine has.
    pub const ALL: [Backend; 2] = [Backend::Flex, Backend::NdArray];

    /// The Burn device that runs this backend (opening and configuring the GPU adapter for
    /// `Wgpu`, which fails when there is none).
    pub fn device(self) -> Result<Device, LoadError> {
        match self {
            Backend::Flex => Ok(Device::flex()),
            #[allow(deprecated)] // burn-ndarray is deprecated upstream but named by flint's design
            Backend::NdArray => Ok(Device::ndarray()),
            Backend::Wgpu(target) => {
                crate::gpu::open(target.adapter, target.dtype).map(|(device, _, _)| device)
            }
        }
    }

    /// Whether tensors may keep pointing into the mapped checkpoint (zero-copy) when the file
    /// already holds the dtype the backend computes in.
    pub fn keeps_mapped_bytes(self) -> bool {
        matches!(self, Backend::Flex)
    }

    pub fn name(self) -> &'static str {
        match self {
            Backend::Flex => "flex",
            Backend::NdArray => "ndarray",
            Backend::Wgpu(_) => "wgpu",
        }
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Backend {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "flex" => Ok(Backend::Flex),
            "ndarray" => Ok(Backend::NdArray),
            "wgpu" => Ok(Backend::Wgpu(WgpuTarget::default())),
            other => Err(format!(
                "unknown backend `{other}` (expected flex, ndarray or wgpu)"
            )),
        }
    }
}
