//! Running flint's CPU kernels ([`matvec`](super::matvec), [`attention`](super::attention))
//! on tensors that live on burn-flex, reading their storage in place (no copy of the weight
//! or of the KV cache, one small copy of the activations).

use super::attention::{HeadRows, Scores, attend as kernel_attend};
use super::matvec::{WeightRows, matmul_transposed as kernel};
use burn::backend::Flex;
use burn::backend::flex::FlexTensor;
use burn::tensor::{DType, Device, Tensor, TensorData, bf16};
use half::slice::HalfFloatSliceExt;
use std::ops::Range;

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

/// Query rows (heads of a group × new tokens) up to which [`attention`] runs flint's
/// kernel: decode steps. Longer prompts are matrix products, Burn's strength.
pub const MAX_ATTENTION_ROWS: usize = 16;

/// `softmax(q kᵀ · scale) v` for `q` `[1, heads, rows, dim]` against `k`, `v`
/// `[1, heads, len, dim]` (views into the KV cache, read in place), every row seeing the
/// same `positions`; `None` (the caller uses Burn's ops) when not all on flex in f32, or
/// for more than [`MAX_ATTENTION_ROWS`] rows.
pub fn attention(
    q: &Tensor<4>,
    k: &Tensor<4>,
    v: &Tensor<4>,
    positions: Range<usize>,
    scores: Scores,
) -> Option<Tensor<4>> {
    let [batch, heads, rows, dim] = q.dims();
    let all_f32 = [q, k, v].iter().all(|t| t.dtype() == DType::F32);
    if batch != 1 || rows > MAX_ATTENTION_ROWS || !all_f32 || !is_flex(&q.device()) {
        return None;
    }
    let [_, k_heads, len, k_dim] = k.dims();
    if k_heads != heads || k_dim != dim || v.dims() != k.dims() || positions.end > len {
        return None;
    }
    let q_store = q.clone().try_into_primitive::<Flex>().ok()?.to_contiguous();
    let k_store = k.clone().try_into_primitive::<Flex>().ok()?;
    let v_store = v.clone().try_into_primitive::<Flex>().ok()?;
    let out = kernel_attend(
        q_store.as_slice::<f32>()?,
        heads,
        rows,
        head_rows(&k_store)?,
        head_rows(&v_store)?,
        positions,
        scores,
    );
    Some(Tensor::from_data(
        TensorData::new(out, [batch, heads, rows, dim]),
        &q.device(),
    ))
}

/// A `[1, heads, positions, dim]` f32 tensor's storage as [`HeadRows`], when its rows are
/// contiguous (any head and position strides).
fn head_rows(t: &FlexTensor) -> Option<HeadRows<'_>> {
    let layout = t.layout();
    let strides = layout.strides();
    let stride = |i: usize| usize::try_from(strides[i]).ok();
    if strides.len() != 4 || strides[3] != 1 {
        return None;
    }
    Some(HeadRows {
        data: t.storage::<f32>(),
        offset: layout.start_offset(),
        head_stride: stride(1)?,
        position_stride: stride(2)?,
    })
}
