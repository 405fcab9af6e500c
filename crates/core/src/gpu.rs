//! GPUs through WebGPU (burn-wgpu): which adapters exist, opening one as a Burn [`Device`]
//! in the float type asked for, and the buffer limit every tensor must fit.
//!
//! Adapters are listed the way Burn's runtime (cubecl-wgpu) picks them, so `--device N`
//! means the N-th line of `flint devices`: the first graphics API (Vulkan, Metal, DX12,
//! GL) with a hardware adapter, else the first with any (a software one such as Mesa's
//! lavapipe); within it, Burn addresses an adapter as the n-th of its type (`DiscreteGpu(n)`,
//! ...), which [`Adapter::kind`] reproduces. Burn requests each adapter's own limits (not
//! WebGPU's defaults), so the limit checked here is the adapter's.

use crate::LoadError;
use burn::tensor::wgpu::wgpu;
use burn::tensor::{Device, DeviceKind, FloatDType};
use std::fmt;
use std::sync::Mutex;

/// The float type weights and activations have on the GPU (WebGPU has no bf16).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum GpuFloat {
    /// f16 where the adapter supports it (`shader-f16`), else f32.
    #[default]
    Auto,
    F16,
    F32,
}

impl std::str::FromStr for GpuFloat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "auto" => Ok(Self::Auto),
            "f16" => Ok(Self::F16),
            "f32" => Ok(Self::F32),
            other => Err(format!("unknown GPU dtype `{other}` (auto, f16, f32)")),
        }
    }
}

/// One adapter as `flint devices` lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct Adapter {
    /// Position in [`adapters`], what `--device` takes.
    pub index: usize,
    pub name: String,
    /// Graphics API (`Vulkan`, `Metal`, ...).
    pub api: String,
    /// `DiscreteGpu`, `IntegratedGpu`, `VirtualGpu`, `Cpu` (software) or `Other`.
    pub device_type: String,
    /// The largest buffer a kernel can bind: a tensor must fit in it.
    pub max_binding_bytes: u64,
    pub max_buffer_bytes: u64,
    /// Whether shaders may use f16.
    pub shader_f16: bool,
    /// How Burn addresses it.
    pub kind: DeviceKind,
}

impl Adapter {
    /// The largest tensor, in bytes, this adapter can compute on.
    pub fn max_tensor_bytes(&self) -> u64 {
        self.max_binding_bytes.min(self.max_buffer_bytes)
    }
}

impl fmt::Display for Adapter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {} ({}, {}), max buffer binding {} MiB, max buffer {} MiB, shader-f16 {}",
            self.index,
            self.name,
            self.api,
            self.device_type,
            self.max_binding_bytes >> 20,
            self.max_buffer_bytes >> 20,
            if self.shader_f16 { "yes" } else { "no" }
        )
    }
}

/// The adapters Burn's runtime can open, in the order `--device` counts them.
pub fn adapters() -> Vec<Adapter> {
    static LISTED: Mutex<Option<Vec<Adapter>>> = Mutex::new(None);
    let mut listed = LISTED.lock().unwrap_or_else(|e| e.into_inner());
    listed.get_or_insert_with(enumerate).clone()
}

fn enumerate() -> Vec<Adapter> {
    let mut software_only = None;
    for api in [
        wgpu::Backend::Vulkan,
        wgpu::Backend::Metal,
        wgpu::Backend::Dx12,
        wgpu::Backend::Gl,
    ] {
        let instance = wgpu::Instance::new(wgpu::InstanceDescriptor {
            backends: api.into(),
            ..wgpu::InstanceDescriptor::new_without_display_handle()
        });
        let found = futures_lite::future::block_on(instance.enumerate_adapters(api.into()));
        if found
            .iter()
            .any(|a| a.get_info().device_type != wgpu::DeviceType::Cpu)
        {
            return describe(&found);
        }
        if software_only.is_none() && !found.is_empty() {
            software_only = Some(describe(&found));
        }
    }
    software_only.unwrap_or_default()
}

fn describe(found: &[wgpu::Adapter]) -> Vec<Adapter> {
    let mut per_type = [0usize; 3];
    found
        .iter()
        .enumerate()
        .map(|(index, adapter)| {
            let info = adapter.get_info();
            let limits = adapter.limits();
            let mut next = |slot: usize| {
                let n = per_type[slot];
                per_type[slot] += 1;
                n
            };
            let kind = match info.device_type {
                wgpu::DeviceType::DiscreteGpu => DeviceKind::DiscreteGpu(next(0)),
                wgpu::DeviceType::IntegratedGpu => DeviceKind::IntegratedGpu(next(1)),
                wgpu::DeviceType::VirtualGpu => DeviceKind::VirtualGpu(next(2)),
                wgpu::DeviceType::Cpu => DeviceKind::Cpu,
                wgpu::DeviceType::Other => DeviceKind::DefaultDevice,
            };
            Adapter {
                index,
                name: info.name.clone(),
                api: format!("{:?}", info.backend),
                device_type: format!("{:?}", info.device_type),
                max_binding_bytes: limits.max_storage_buffer_binding_size,
                max_buffer_bytes: limits.max_buffer_size,
                shader_f16: adapter.features().contains(wgpu::Features::SHADER_F16),
                kind,
            }
        })
        .collect()
}

/// Adapters opened by this process, with the float type each was configured for (Burn's
/// device settings are per process and can be set once).
static OPENED: Mutex<Vec<(Device, Adapter, FloatDType)>> = Mutex::new(Vec::new());

/// Opens adapter `index` (default: the first listed) as a Burn device whose float tensors
/// are `dtype`. Returns the device, its adapter and the float type chosen.
pub fn open(
    index: Option<usize>,
    dtype: GpuFloat,
) -> Result<(Device, Adapter, FloatDType), LoadError> {
    let list = adapters();
    let adapter = match index {
        Some(i) => list.get(i).cloned().ok_or_else(|| LoadError::Other {
            message: format!(
                "no GPU adapter {i}: {} found (see `flint devices`)",
                list.len()
            ),
        })?,
        None => list.first().cloned().ok_or_else(|| LoadError::Other {
            message: "no GPU adapter found through WebGPU (Vulkan, Metal, DX12 or GL); \
                      install a driver (e.g. Debian's mesa-vulkan-drivers) or use a CPU backend"
                .into(),
        })?,
    };
    let float = match dtype {
        GpuFloat::F32 => FloatDType::F32,
        GpuFloat::F16 if !adapter.shader_f16 => {
            return Err(LoadError::Other {
                message: format!(
                    "adapter `{}` does not support f16 shaders; use --dtype f32",
                    adapter.name
                ),
            });
        }
        GpuFloat::F16 => FloatDType::F16,
        GpuFloat::Auto if adapter.shader_f16 => FloatDType::F16,
        GpuFloat::Auto => FloatDType::F32,
    };
    let mut opened = OPENED.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((device, _, configured)) = opened.iter().find(|(_, a, _)| a.index == adapter.index)
    {
        if *configured != float {
            return Err(LoadError::Other {
                message: format!(
                    "GPU adapter {} is already in use with {configured:?} in this process; \
                     it cannot switch to {float:?}",
                    adapter.index
                ),
            });
        }
        return Ok((device.clone(), adapter, float));
    }
    let mut device = Device::wgpu(adapter.kind.clone());
    device
        .configure(burn::tensor::DeviceConfig::default().float_dtype(float))
        .map_err(|e| LoadError::Other {
            message: format!(
                "configuring GPU adapter `{}` for {float:?}: {e:?}",
                adapter.name
            ),
        })?;
    opened.push((device.clone(), adapter.clone(), float));
    Ok((device, adapter, float))
}

/// The adapter and float type `device` was opened with, if it is a GPU opened by [`open`].
pub fn opened(device: &Device) -> Option<(Adapter, FloatDType)> {
    let opened = OPENED.lock().unwrap_or_else(|e| e.into_inner());
    opened
        .iter()
        .find(|(d, _, _)| d == device)
        .map(|(_, a, f)| (a.clone(), *f))
}

/// The largest tensor `device` can hold in one buffer, in bytes, and the bytes of one of its
/// float elements; `None` for CPU devices (no such limit).
pub fn buffer_limit(device: &Device) -> Option<(u64, u64)> {
    let (adapter, float) = opened(device)?;
    Some((adapter.max_tensor_bytes(), element_bytes(float)))
}

fn element_bytes(float: FloatDType) -> u64 {
    if float == FloatDType::F16 { 2 } else { 4 }
}

/// Refuses a tensor of `shape` that would not fit in one of `device`'s buffers, before it
/// is uploaded (a too-large buffer is created without complaint and fails only at its first
/// use). `Ok` on CPU devices.
pub fn check_fits(device: &Device, shape: &[usize]) -> Result<(), String> {
    let Some((adapter, float)) = opened(device) else {
        return Ok(());
    };
    let bytes = shape.iter().product::<usize>() as u64 * element_bytes(float);
    let limit = adapter.max_tensor_bytes();
    if bytes <= limit {
        return Ok(());
    }
    let hint = if float == FloatDType::F32 && bytes / 2 <= limit && adapter.shader_f16 {
        " (it would fit as f16: --dtype f16)"
    } else {
        ""
    };
    Err(format!(
        "{shape:?} as {float:?} is {} MiB, more than the {} MiB adapter `{}` can bind in one \
         buffer{hint}; use a CPU backend for this model",
        bytes >> 20,
        limit >> 20,
        adapter.name
    ))
}
