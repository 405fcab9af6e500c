//! One GGUF tensor as f32 values in Hugging Face layout: dequantized once, in parallel, with
//! llama.cpp's Q/K row permutation undone in the same pass and a converter's offset (Gemma's
//! norm `+1`) taken off in place.
//!
//! llama.cpp's converter stores Q and K rows as `W.reshape(n_head, 2, hd/2, n_in)
//! .swapaxes(1, 2)` of the Hugging Face matrix (interleaved RoPE pairs). Undoing it is a
//! row gather: Hugging Face row `h·hd + a·hd/2 + b` is GGUF row `h·hd + 2b + a`. Rows never
//! share a quantization block (a row is whole blocks), so each GGUF row is decoded straight
//! into its Hugging Face place and no second buffer exists.

use super::file::GgufModel;
use flint_core::LoadError;
use flint_gguf::{GgmlType, TensorInfo, can_dequantize, dequantize};
use rayon::prelude::*;

/// Rows per parallel task at least (rows of small models are short).
const MIN_ROWS_PER_TASK: usize = 64;

/// `info`'s values in row-major order over its reversed (Hugging Face) shape, minus
/// `offset`. With `permuted_heads = Some(n)`, the rows are un-permuted as the Q/K of `n`
/// heads.
pub fn read_f32(
    model: &GgufModel,
    info: &TensorInfo,
    permuted_heads: Option<usize>,
    offset: f32,
) -> Result<Vec<f32>, LoadError> {
    let mut values = dequantize_hf_rows(model, info, permuted_heads)?;
    if offset != 0.0 {
        values.par_iter_mut().for_each(|v| *v -= offset);
    }
    Ok(values)
}

fn dequantize_hf_rows(
    model: &GgufModel,
    info: &TensorInfo,
    permuted_heads: Option<usize>,
) -> Result<Vec<f32>, LoadError> {
    let ty = info.ggml_type();
    if !can_dequantize(ty) {
        return Err(LoadError::DtypeMismatch {
            path: model.path().to_path_buf(),
            tensor: info.name().to_string(),
            found: ty.to_string(),
            supported: supported_types(),
        });
    }
    let Some(heads) = permuted_heads else {
        return model
            .file()
            .dequantize_tensor(info)
            .map_err(|e| model.error(e));
    };

    let n = info.n_elements() as usize;
    let shape = info.shape();
    // A matrix's rows are its ne0-long runs; a vector (a bias) permutes single elements.
    let (rows, row_len) = match shape {
        [ne0, rest @ ..] if !rest.is_empty() => (n / *ne0 as usize, *ne0 as usize),
        _ => (n, 1),
    };
    let head_dim = if heads > 0 && rows.is_multiple_of(heads) {
        rows / heads
    } else {
        0
    };
    if head_dim == 0 || !head_dim.is_multiple_of(2) {
        return Err(LoadError::Tensor {
            path: model.path().to_path_buf(),
            tensor: info.name().to_string(),
            message: format!(
                "{rows} rows cannot be un-permuted as {heads} RoPE heads of even size"
            ),
        });
    }
    let bytes = model.file().tensor_bytes(info);
    let mut out = vec![0f32; n];
    if row_len.is_multiple_of(ty.block_size()) {
        let row_bytes = row_len / ty.block_size() * ty.type_size();
        out.par_chunks_mut(row_len)
            .with_min_len(MIN_ROWS_PER_TASK)
            .enumerate()
            .try_for_each(|(row, dst)| {
                let src = gguf_row(row, head_dim) * row_bytes;
                dequantize(ty, &bytes[src..src + row_bytes], row_len, dst)
            })
            .map_err(|source| dequant_error(model, info, source))?;
    } else {
        // A quantized vector: decode whole (it is small), then gather.
        let flat = model
            .file()
            .dequantize_tensor(info)
            .map_err(|e| model.error(e))?;
        for (row, dst) in out.chunks_mut(row_len).enumerate() {
            let src = gguf_row(row, head_dim) * row_len;
            dst.copy_from_slice(&flat[src..src + row_len]);
        }
    }
    Ok(out)
}

/// The GGUF row that holds Hugging Face row `row` of a permuted Q/K.
pub fn gguf_row(row: usize, head_dim: usize) -> usize {
    let half = head_dim / 2;
    let (head, within) = (row / head_dim, row % head_dim);
    let (a, b) = (within / half, within % half);
    head * head_dim + 2 * b + a
}

fn dequant_error(
    model: &GgufModel,
    info: &TensorInfo,
    source: flint_gguf::DequantError,
) -> LoadError {
    LoadError::Tensor {
        path: model.path().to_path_buf(),
        tensor: info.name().to_string(),
        message: source.to_string(),
    }
}

fn supported_types() -> String {
    GgmlType::all()
        .filter(|t| can_dequantize(*t))
        .map(|t| t.name())
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::gguf_row;

    /// The gather equals numpy's `W.reshape(n_head, hd/2, 2, n_in).swapaxes(1, 2)`.
    #[test]
    fn row_gather_matches_the_reshape_swapaxes_definition() {
        let (heads, hd) = (3, 8);
        // permute (HF -> GGUF) as llama.cpp does: gguf[h, b, a] = hf[h, a, b].
        let hf: Vec<usize> = (0..heads * hd).collect();
        let mut gguf = vec![0; heads * hd];
        for h in 0..heads {
            for a in 0..2 {
                for b in 0..hd / 2 {
                    gguf[h * hd + b * 2 + a] = hf[h * hd + a * (hd / 2) + b];
                }
            }
        }
        let undone: Vec<usize> = (0..heads * hd).map(|r| gguf[gguf_row(r, hd)]).collect();
        assert_eq!(undone, hf);
    }
}
