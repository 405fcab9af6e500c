//! `read-then-copy`: the naive baseline. Read the whole file (every shard) into a `Vec`, then
//! copy (and convert) each tensor into its own f32 buffer and assign it into the Llama module.

use crate::{checkpoint, llama_net};
use flint_core::burn::tensor::{Device, TensorData};
use flint_core::{CausalLm, LoadError, Target, TensorSource};
use half::{bf16, f16};
use safetensors::{Dtype, SafeTensors};
use std::path::Path;

/// The loaded model and the bytes of f32 copies it holds.
pub fn load(path: &Path, device: &Device) -> anyhow::Result<(Box<dyn CausalLm>, u64)> {
    let files = checkpoint::files(path)?
        .iter()
        .map(std::fs::read)
        .collect::<Result<Vec<_>, _>>()?;
    let tensors = files
        .iter()
        .map(|bytes| SafeTensors::deserialize(bytes))
        .collect::<Result<Vec<_>, _>>()?;
    let (net, finisher) = llama_net::build(path, device)?;
    let mut source = CopySource {
        tensors: &tensors,
        file: path,
        copied_bytes: 0,
    };
    let net = flint_core::assign_parameters(net, &mut source)?;
    Ok((finisher.finish(net), source.copied_bytes))
}

/// Serves tensors out of the in-memory files, one converting copy each.
struct CopySource<'a> {
    tensors: &'a [SafeTensors<'a>],
    file: &'a Path,
    copied_bytes: u64,
}

impl TensorSource for CopySource<'_> {
    fn origin(&self) -> &Path {
        self.file
    }

    fn take(&mut self, name: &str, shape: &[usize], _: &Target) -> Result<TensorData, LoadError> {
        let fail = |message: String| LoadError::Other {
            message: format!("{name}: {message}"),
        };
        let view = self
            .tensors
            .iter()
            .find_map(|t| t.tensor(name).ok())
            .ok_or_else(|| fail("in no file of the checkpoint".into()))?;
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
        self.copied_bytes += (values.len() * 4) as u64;
        Ok(TensorData::new(values, shape.to_vec()))
    }
}
