use super::lazy_param;
use burn::module::{Module, Param};
use burn::tensor::{DType, Device, Tensor};

/// `y = x Wᵀ + b` with `W` stored `[out, in]`, as PyTorch and every checkpoint store it.
///
/// Keeping the stored layout means the loader can hand over the mapped bytes unchanged; on
/// burn-flex the weight may stay bf16 as stored, and decode-sized products run on flint's
/// multi-threaded kernel ([`crate::cpu`]), which reads it in place.
/// The product is computed as `(W xᵀ)ᵀ`: the big matrix is read row by row in its stored
/// layout and only the small activation is transposed, which every Burn CPU backend runs
/// without copying the weight (burn-ndarray copies a transposed weight view on every op).
#[derive(Module, Debug)]
pub struct Linear {
    pub weight: Param<Tensor<2>>,
    pub bias: Option<Param<Tensor<1>>>,
}

impl Linear {
    pub fn new(d_in: usize, d_out: usize, bias: bool, device: &Device) -> Self {
        Self {
            weight: lazy_param([d_out, d_in], device),
            bias: bias.then(|| lazy_param([d_out], device)),
        }
    }

    /// Applies the layer to `x` of shape `[batch, seq, d_in]`.
    pub fn forward(&self, x: Tensor<3>) -> Tensor<3> {
        let [batch, seq, d_in] = x.dims();
        let weight = self.weight.val();
        let d_out = weight.dims()[0];
        let rows = x.reshape([batch * seq, d_in]);
        let y = crate::cpu::flex::matmul_transposed(&rows, &weight)
            .unwrap_or_else(|| as_f32(weight).matmul(rows.transpose()).transpose());
        let y = match &self.bias {
            Some(bias) => y + bias.val().unsqueeze::<2>(),
            None => y,
        };
        y.reshape([batch, seq, d_out])
    }
}

/// A bf16 weight kept as stored, widened to f32 for Burn's matmul (prompts longer than
/// [`crate::cpu::flex::MAX_ROWS`] only); any other weight (f32, or f16 on a GPU) as it is.
pub(crate) fn as_f32<const D: usize>(w: Tensor<D>) -> Tensor<D> {
    if w.dtype() == DType::BF16 {
        w.cast(DType::F32)
    } else {
        w
    }
}
