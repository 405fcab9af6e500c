//! Serving a GGUF file's tensors to [`flint_core::assign_parameters`] under their Hugging
//! Face names: translate, check the shape, dequantize once (un-permuting Q/K), then release
//! the mapped pages behind the copy.

use super::conventions::{GgufArchitecture, Permutation};
use super::file::GgufModel;
use super::names::{hf_to_gguf, is_derived};
use super::tensor::read_f32;
use crate::source::AssignStats;
use crate::weights::WeightSource;
use flint_core::burn::tensor::TensorData;
use flint_core::{LoadError, Target, TensorSource};
use std::collections::BTreeSet;
use std::path::Path;

pub struct GgufSource<'a> {
    model: &'a GgufModel,
    arch: &'static GgufArchitecture,
    /// (query heads, key/value heads) when the architecture's Q/K rows are permuted.
    permuted_heads: Option<(usize, usize)>,
    /// GGUF names handed out.
    taken: BTreeSet<String>,
    stats: AssignStats,
}

impl<'a> GgufSource<'a> {
    pub fn new(model: &'a GgufModel) -> Result<Self, LoadError> {
        let arch = model.architecture()?;
        let permuted_heads = if arch.qk_permuted {
            Some(model.head_counts()?)
        } else {
            None
        };
        Ok(Self {
            model,
            arch,
            permuted_heads,
            taken: BTreeSet::new(),
            stats: AssignStats::default(),
        })
    }

    fn missing(&self, name: String) -> LoadError {
        LoadError::MissingTensors {
            path: self.model.path().to_path_buf(),
            names: vec![name],
        }
    }
}

impl TensorSource for GgufSource<'_> {
    fn origin(&self) -> &Path {
        self.model.path()
    }

    fn take(
        &mut self,
        name: &str,
        shape: &[usize],
        _target: &Target,
    ) -> Result<TensorData, LoadError> {
        let Some(translated) = hf_to_gguf(self.arch, name) else {
            return Err(self.missing(format!("{name} (no GGUF name for it)")));
        };
        let gguf = translated.gguf;
        let Some(info) = self.model.file().tensor(&gguf) else {
            return Err(self.missing(format!("{name} (GGUF `{gguf}`)")));
        };
        let found: Vec<usize> = info.shape_row_major().iter().map(|&d| d as usize).collect();
        if found != shape {
            return Err(LoadError::ShapeMismatch {
                path: self.model.path().to_path_buf(),
                tensor: format!("{gguf} ({name})"),
                expected: shape.to_vec(),
                found,
            });
        }
        let heads = match (self.permuted_heads, translated.permutation) {
            (Some((q, _)), Permutation::QueryHeads) => Some(q),
            (Some((_, kv)), Permutation::KeyValueHeads) => Some(kv),
            _ => None,
        };
        let values = read_f32(self.model, info, heads, translated.offset)?;
        self.model.release_tensor_pages(info);
        crate::finite::check_finite(&values, self.model.path(), &gguf)?;
        self.taken.insert(gguf);
        self.stats.copied += 1;
        self.stats.copied_bytes += values.len() * 4;
        self.stats.stored_bytes += info.data_range().len();
        Ok(TensorData::new(values, shape.to_vec()))
    }
}

impl WeightSource for GgufSource<'_> {
    fn unused(&self) -> Vec<String> {
        self.model
            .file()
            .tensors()
            .iter()
            .map(|t| t.name())
            .filter(|n| !self.taken.contains(*n) && !is_derived(n))
            .map(str::to_string)
            .collect()
    }

    fn stats(&self) -> AssignStats {
        self.stats
    }

    fn data_bytes(&self) -> usize {
        self.model.data_bytes()
    }

    fn check_unchanged(&self) -> Result<(), LoadError> {
        self.model.check_unchanged()
    }
}
