//! Running flint's CPU kernels ([`matvec`](super::matvec), [`attention`](super::attention),
//! [`rope`](super::rope), [`norm`](super::norm)) on tensors that live on burn-flex, reading
//! their storage in place (no copy of the weight or of the KV cache, at most one small copy
//! of the activations).

use super::attention::{HeadRows, Scores, attend as kernel_attend};
use super::matvec::{WeightRows, matmul_transposed as kernel};
use super::{norm, rope};
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
    let x_store = contiguous_f32(x)?;
    let y = kernel(x_store.as_slice()?, m, weights, d_out);
    Some(on_flex(y, [m, d_out]))
}

/// A kernel's output as a tensor on flex.
fn on_flex<const D: usize>(values: Vec<f32>, shape: [usize; D]) -> Tensor<D> {
    Tensor::from_data(TensorData::new(values, shape), &Device::flex())
}

/// An f32 tensor on flex as contiguous storage: its own when already contiguous (no copy),
/// else a contiguous copy; `None` for another device or dtype.
fn contiguous_f32<const D: usize>(t: &Tensor<D>) -> Option<FlexTensor> {
    if t.dtype() != DType::F32 || !is_flex(&t.device()) {
        return None;
    }
    let store = t.clone().try_into_primitive::<Flex>().ok()?;
    Some(if store.as_slice::<f32>().is_some() {
        store
    } else {
        store.to_contiguous()
    })
}

/// [`rope::rotate_half`] for `x` `[batch, heads, positions, dim]` with the cos/sin tables
/// `[table_positions, dim]`, all f32 on flex; `None` otherwise.
pub fn rotate_half(
    x: &Tensor<4>,
    cos: &Tensor<2>,
    sin: &Tensor<2>,
    start: usize,
) -> Option<Tensor<4>> {
    let [_, _, positions, dim] = x.dims();
    let (x_store, cos, sin) = (
        contiguous_f32(x)?,
        contiguous_f32(cos)?,
        contiguous_f32(sin)?,
    );
    let (cos, sin) = (cos.as_slice::<f32>()?, sin.as_slice::<f32>()?);
    if cos.len() < (start + positions) * dim {
        return None;
    }
    let out = rope::rotate_half(x_store.as_slice()?, positions, dim, cos, sin, start);
    Some(on_flex(out, x.dims()))
}

/// [`norm::rms_norm`] over the last dimension of `x`, with an f32 `weight`, all on flex;
/// `None` otherwise.
pub fn rms_norm<const D: usize>(
    x: &Tensor<D>,
    weight: &Tensor<1>,
    eps: f64,
    offset: f64,
) -> Option<Tensor<D>> {
    let (x_store, w_store) = (contiguous_f32(x)?, contiguous_f32(weight)?);
    let weight = w_store.as_slice::<f32>()?;
    if x.dims()[D - 1] != weight.len() {
        return None;
    }
    let out = norm::rms_norm(x_store.as_slice()?, weight, eps as f32, offset as f32);
    Some(on_flex(out, x.dims()))
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
    let kv_f32 = k.dtype() == DType::F32 && v.dtype() == DType::F32;
    if batch != 1 || rows > MAX_ATTENTION_ROWS || !kv_f32 {
        return None;
    }
    let [_, k_heads, len, k_dim] = k.dims();
    if k_heads != heads || k_dim != dim || v.dims() != k.dims() || positions.end > len {
        return None;
    }
    // `contiguous_f32` checks that q is f32 on flex; k and v then are on flex too.
    let q_store = contiguous_f32(q)?;
    let k_store = k.clone().try_into_primitive::<Flex>().ok()?;
    let v_store = v.clone().try_into_primitive::<Flex>().ok()?;
    let (k_rows, v_rows) = (head_rows(&k_store)?, head_rows(&v_store)?);
    let out = kernel_attend(
        q_store.as_slice()?,
        heads,
        rows,
        k_rows,
        v_rows,
        positions,
        scores,
    );
    Some(on_flex(out, [batch, heads, rows, dim]))
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

#[cfg(test)]
mod tests {
    //! Each fused kernel against the Burn ops it replaces, run on burn-ndarray (where no
    //! flint kernel applies).
    use crate::nn::RmsNorm;
    use crate::rope::{Rope, RopeConfig};
    use burn::module::Param;
    use burn::tensor::{Device, Distribution, Tensor};

    #[allow(deprecated)] // burn-ndarray is deprecated upstream but named by flint's design
    fn ndarray() -> Device {
        Device::ndarray()
    }

    fn close<const D: usize>(a: Tensor<D>, b: Tensor<D>) {
        let (a, b) = (
            a.into_data().try_to_vec::<f32>().unwrap(),
            b.into_data().try_to_vec::<f32>().unwrap(),
        );
        assert_eq!(a.len(), b.len());
        for (x, y) in a.iter().zip(&b) {
            assert!((x - y).abs() <= 1e-5 * (1.0 + y.abs()), "{x} vs {y}");
        }
    }

    fn random<const D: usize>(shape: [usize; D], device: &Device) -> Tensor<D> {
        let t = Tensor::<D>::random(shape, Distribution::Normal(0.0, 1.0), &Device::flex());
        Tensor::from_data(t.into_data(), device)
    }

    #[test]
    fn rope_in_one_pass_matches_burns_ops() {
        let config = RopeConfig {
            head_dim: 16,
            theta: 10_000.0,
            scaling: None,
        };
        let x = random([1, 3, 5, 16], &Device::flex());
        // Start past the initial table so the table grows first, as in a long generation.
        for start in [0, 7, 40] {
            let fused = Rope::new(&config, 8, &Device::flex()).apply(x.clone(), start);
            let x_nd = Tensor::<4>::from_data(x.to_data(), &ndarray());
            let burn = Rope::new(&config, 8, &ndarray()).apply(x_nd, start);
            close(fused, Tensor::from_data(burn.into_data(), &Device::flex()));
        }
    }

    #[test]
    fn rms_norm_in_one_pass_matches_burns_ops() {
        for offset in [0.0, 1.0] {
            let norm = |device: &Device, weight: Tensor<1>| RmsNorm {
                weight: Param::from_tensor(Tensor::from_data(weight.into_data(), device)),
                eps: 1e-6,
                offset,
            };
            let weight = random([24], &Device::flex());
            let x = random([2, 3, 24], &Device::flex());
            let fused = norm(&Device::flex(), weight.clone()).forward(x.clone());
            let x_nd = Tensor::<3>::from_data(x.into_data(), &ndarray());
            let burn = norm(&ndarray(), weight).forward(x_nd);
            close(fused, Tensor::from_data(burn.into_data(), &Device::flex()));
        }
    }
}
