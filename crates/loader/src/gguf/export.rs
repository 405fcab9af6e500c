//! `flint convert`: a GGUF file written out as a Hugging Face model directory.
//!
//! `model.safetensors` holds every tensor under its Hugging Face name, Q/K un-permuted, in
//! the chosen dtype (bf16/f16 rounded to nearest even). Tensors are produced one at a time
//! while the file is written (the safetensors writer asks each for its bytes in turn), so
//! memory holds one tensor, never the model. The directory also gets `config.json`,
//! `generation_config.json`, `tokenizer.json` and `tokenizer_config.json`. The output is a
//! pure function of the GGUF bytes and the dtype (sorted keys, fixed tensor order).

use super::conventions::Permutation;
use super::file::GgufModel;
use super::names::{gguf_to_hf, is_derived};
use super::tensor::read_f32;
use super::{config::hf_config, special_tokens, tokenizer::build_tokenizer};
use crate::config::write_json;
use crate::convert::{FloatDtype, from_f32};
use flint_core::LoadError;
use flint_gguf::{TensorInfo, can_dequantize};
use safetensors::Dtype;
use safetensors::tensor::View;
use std::borrow::Cow;
use std::cell::RefCell;
use std::path::{Path, PathBuf};

/// What a conversion wrote.
#[derive(Debug, Clone)]
pub struct ConvertReport {
    pub out_dir: PathBuf,
    pub tensors: usize,
    pub weight_bytes: usize,
    /// GGUF tensors left out because the model recomputes them.
    pub skipped: Vec<String>,
}

/// Converts the GGUF file `input` into a Hugging Face directory `out_dir` (created if
/// needed; files of the same names are replaced).
pub fn convert_gguf(
    input: &Path,
    out_dir: &Path,
    dtype: FloatDtype,
) -> Result<ConvertReport, LoadError> {
    let model = GgufModel::open(input)?;
    // Everything that can fail on metadata fails before anything is written.
    let mut config = hf_config(&model)?;
    config["torch_dtype"] = dtype.torch_name().into();
    let tokenizer = build_tokenizer(&model)?;
    let tokenizer_config = special_tokens::tokenizer_config(&model, &tokenizer)?;
    let generation_config = special_tokens::generation_config(&model)?;
    let (plan, skipped) = plan(&model)?;

    std::fs::create_dir_all(out_dir).map_err(|e| LoadError::io(out_dir, e))?;
    let weights = out_dir.join(crate::SINGLE_FILE);
    let weight_bytes = write_weights(&model, &plan, dtype, &weights)?;
    write_json(&out_dir.join("config.json"), &config)?;
    write_json(&out_dir.join("generation_config.json"), &generation_config)?;
    write_json(&out_dir.join("tokenizer_config.json"), &tokenizer_config)?;
    let tokenizer_path = out_dir.join("tokenizer.json");
    let text = tokenizer
        .to_string(true)
        .map_err(|e| LoadError::Tokenizer {
            path: tokenizer_path.clone(),
            message: e.to_string(),
        })?;
    std::fs::write(&tokenizer_path, text + "\n").map_err(|e| LoadError::io(&tokenizer_path, e))?;
    Ok(ConvertReport {
        out_dir: out_dir.to_path_buf(),
        tensors: plan.len(),
        weight_bytes,
        skipped,
    })
}

/// One tensor to write.
struct Planned<'a> {
    hf: String,
    info: &'a TensorInfo,
    shape: Vec<usize>,
    permuted_heads: Option<usize>,
    offset: f32,
}

/// Every GGUF tensor with its Hugging Face name; unknown names and undecodable types are
/// errors, derived tensors are skipped.
fn plan(model: &GgufModel) -> Result<(Vec<Planned<'_>>, Vec<String>), LoadError> {
    let arch = model.architecture()?;
    let heads = if arch.qk_permuted {
        Some(model.head_counts()?)
    } else {
        None
    };
    let mut planned = Vec::new();
    let mut skipped = Vec::new();
    for info in model.file().tensors() {
        let Some(translated) = gguf_to_hf(arch, info.name()) else {
            if is_derived(info.name()) {
                skipped.push(info.name().to_string());
                continue;
            }
            return Err(LoadError::Tensor {
                path: model.path().to_path_buf(),
                tensor: info.name().to_string(),
                message: "no Hugging Face name for this tensor in flint's GGUF conventions".into(),
            });
        };
        if !can_dequantize(info.ggml_type()) {
            return Err(LoadError::DtypeMismatch {
                path: model.path().to_path_buf(),
                tensor: info.name().to_string(),
                found: info.ggml_type().to_string(),
                supported: "the types flint-gguf dequantizes".into(),
            });
        }
        let permuted_heads = match (heads, translated.permutation) {
            (Some((q, _)), Permutation::QueryHeads) => Some(q),
            (Some((_, kv)), Permutation::KeyValueHeads) => Some(kv),
            _ => None,
        };
        planned.push(Planned {
            hf: translated.hf,
            offset: translated.offset,
            info,
            shape: info.shape_row_major().iter().map(|&d| d as usize).collect(),
            permuted_heads,
        });
    }
    Ok((planned, skipped))
}

/// A tensor whose bytes are computed when the writer asks for them.
struct LazyTensor<'a> {
    model: &'a GgufModel,
    tensor: &'a Planned<'a>,
    dtype: FloatDtype,
    /// The first failure; the writer cannot be told, so it gets zeros and the file is
    /// deleted afterwards.
    error: &'a RefCell<Option<LoadError>>,
}

impl View for LazyTensor<'_> {
    fn dtype(&self) -> Dtype {
        self.dtype.safetensors()
    }

    fn shape(&self) -> &[usize] {
        &self.tensor.shape
    }

    fn data_len(&self) -> usize {
        self.tensor.info.n_elements() as usize * self.dtype.size()
    }

    fn data(&self) -> Cow<'_, [u8]> {
        let t = self.tensor;
        match read_f32(self.model, t.info, t.permuted_heads, t.offset) {
            Ok(values) => {
                self.model.release_tensor_pages(t.info);
                Cow::Owned(from_f32(&values, self.dtype))
            }
            Err(e) => {
                self.error.borrow_mut().get_or_insert(e);
                Cow::Owned(vec![0; self.data_len()])
            }
        }
    }
}

/// Streams every tensor into `path` (through a temporary file renamed at the end).
fn write_weights(
    model: &GgufModel,
    plan: &[Planned<'_>],
    dtype: FloatDtype,
    path: &Path,
) -> Result<usize, LoadError> {
    let partial = path.with_extension("safetensors.partial");
    let error = RefCell::new(None);
    let views = plan.iter().map(|tensor| {
        let view = LazyTensor {
            model,
            tensor,
            dtype,
            error: &error,
        };
        (tensor.hf.clone(), view)
    });
    let metadata = [("format".to_string(), "pt".to_string())].into();
    let written = safetensors::serialize_to_file(views, Some(metadata), &partial);
    let failed = error.into_inner();
    if written.is_err() || failed.is_some() {
        let _ = std::fs::remove_file(&partial);
    }
    if let Some(err) = failed {
        return Err(err);
    }
    written.map_err(|e| LoadError::Io {
        path: path.to_path_buf(),
        error: std::io::Error::other(e.to_string()),
    })?;
    std::fs::rename(&partial, path).map_err(|e| LoadError::io(path, e))?;
    Ok(plan
        .iter()
        .map(|t| t.info.n_elements() as usize * dtype.size())
        .sum())
}
