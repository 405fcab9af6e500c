use super::lazy_param;
use burn::module::{Module, Param};
use burn::tensor::{Device, FloatDType, Tensor};

/// Root-mean-square layer norm: `x / sqrt(mean(x²) + eps) * (offset + weight)`.
///
/// `offset` is 0 for Llama-style checkpoints and 1 for Gemma's, which store the scale with
/// the identity at zero (transformers' `GemmaRMSNorm` multiplies by `1 + weight`).
#[derive(Module, Debug)]
pub struct RmsNorm {
    pub weight: Param<Tensor<1>>,
    pub eps: f64,
    pub offset: f64,
}

impl RmsNorm {
    pub fn new(dim: usize, eps: f64, device: &Device) -> Self {
        Self {
            weight: lazy_param([dim], device),
            eps,
            offset: 0.0,
        }
    }

    /// A norm whose scale is `1 + weight` (Gemma).
    pub fn with_unit_offset(dim: usize, eps: f64, device: &Device) -> Self {
        Self {
            offset: 1.0,
            ..Self::new(dim, eps, device)
        }
    }

    /// Normalises over the last dimension, in f32 whatever the tensors' float type: the
    /// mean of squares overflows f16 as soon as an activation passes 256 (no-op casts on
    /// the CPU backends, which compute in f32).
    pub fn forward<const D: usize>(&self, x: Tensor<D>) -> Tensor<D> {
        let weight = self.weight.val();
        if let Some(y) = crate::cpu::flex::rms_norm(&x, &weight, self.eps, self.offset) {
            return y;
        }
        let dtype = x.dtype();
        let x = x.cast(FloatDType::F32);
        let rms = (x.clone().square().mean_dim(D - 1) + self.eps).sqrt();
        let weight = weight.cast(FloatDType::F32);
        let scale = if self.offset == 0.0 {
            weight
        } else {
            weight + self.offset
        };
        ((x / rms) * scale.unsqueeze()).cast(dtype)
    }
}
