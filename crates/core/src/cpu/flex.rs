//! Running the [`matvec`](super::matvec) kernel on tensors that live on burn-flex, reading
//! their storage in place (no copy of the weight, one small copy of the activations).

use super::matvec::{WeightRows, matmul_transposed as kernel};
use burn::backend::Flex;
use burn::tensor::{Device, Tensor, TensorData, bf16};
use half::slice::HalfFloatSliceExt;

/// Rows of activations up to which the multi-threaded kernel beats Burn's matmul: decode
/// steps and short prompts. Longer prompts are matrix-matrix products, gemm's strength.
pub const MAX_ROWS: usize = 8;

/// Whether `device` computes with the kernels of this module (bf16 weights included).
pub fn is_flex(device: &Device) -> bool {
    *device == Device::flex()
}

/// `x Wᵀ` for `x` `[m, d_in]` (f32) and `w` `[d_out, d_in]` (f32 or bf16), both on flex,
/// with `m <= MAX_ROWS`; `None` (the caller uses Burn's matmul) for anything else.
pub fn matmul_transposed(x: &Tensor<2>, w: &Tensor<2>) -> Option<Tensor<2>> {
    let [m, d_in] = x.dims();
    let [d_out, w_in] = w.dims();
    if m > MAX_ROWS || m == 0 || d_in != w_in || !is_flex(&x.device()) {
        return None;
    }
    let w_store = w.clone().try_into_primitive::<Flex>().ok()?;
    let weights = if let Some(values) = w_store.as_slice::<f32>() {
        WeightRows::F32(values)
    } else {
        WeightRows::Bf16(w_store.as_slice::<bf16>()?.reinterpret_cast())
    };
    let x_store = x.clone().try_into_primitive::<Flex>().ok()?;
    let contiguous;
    let x_values = match x_store.as_slice::<f32>() {
        Some(values) => values,
        None => {
            contiguous = x_store.to_contiguous();
            contiguous.as_slice::<f32>()?
        }
    };
    let y = kernel(x_values, m, weights, d_out);
    Some(Tensor::from_data(
        TensorData::new(y, [m, d_out]),
        &x.device(),
    ))
}
