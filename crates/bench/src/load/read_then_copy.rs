//! `read-then-copy`: the naive baseline. Read the whole file into a `Vec`, then copy (and
//! convert) each tensor into its own f32 buffer and assign it into the Llama module.

use crate::llama_net;
use flint_core::burn::tensor::{Device, TensorData};
use flint_core::{CausalLm, LoadError, Target, TensorSource};
use half::{bf16, f16};
use safetensors::{Dtype, SafeTensors};
use std::path::Path;

pub fn load(file: &Path, device: &Device) -> anyhow::Result<Box<dyn CausalLm>> {
    let bytes = std::fs::read(file)?;
    let tensors = SafeTensors::deserialize(&bytes)?;
    let (net, finisher) = llama_net::build(file, device)?;
    let net = flint_core::assign_parameters(
        net,
        &mut CopySource {
            tensors: &tensors,
            file,
        },
    )?;
    Ok(finisher.finish(net))
}

/// Serves tensors out of the in-memory file, one converting copy each.
struct CopySource<'a> {
    tensors: &'a SafeTensors<'a>,
    file: &'a Path,
}

impl TensorSource for CopySource<'_> {
    fn origin(&self) -> &Path {
        self.file
    }

    fn take(&mut self, name: &str, shape: &[usize], _: &Target) -> Result<TensorData, LoadError> {
        let fail = |message: String| LoadError::Other {
            message: format!("{name}: {message}"),
        };
        let view = self.tensors.tensor(name).map_err(|e| fail(e.to_string()))?;
        if view.shape() != shape {
            return Err(fail(format!(
                "shape {:?}, expected {shape:?}",
                view.shape()
            )));
        }
        let data = view.data();
        let values: Vec<f32> = match view.dtype() {
            Dtype::F32 => data
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect(),
            Dtype::BF16 => data
                .chunks_exact(2)
                .map(|b| bf16::from_le_bytes([b[0], b[1]]).to_f32())
                .collect(),
            Dtype::F16 => data
                .chunks_exact(2)
                .map(|b| f16::from_le_bytes([b[0], b[1]]).to_f32())
                .collect(),
            other => return Err(fail(format!("unsupported dtype {other:?}"))),
        };
        Ok(TensorData::new(values, shape.to_vec()))
    }
}
