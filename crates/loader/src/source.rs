//! Serving a checkpoint's tensors to [`flint_core::assign_parameters`]: check, then hand
//! over the mapped bytes (zero-copy) or one converted copy, releasing the mapped pages behind.

use crate::checkpoint::Checkpoint;
use crate::convert::{FloatDtype, to_f32_vec};
use crate::finite::check_finite;
use crate::weights::WeightSource;
use burn::tensor::{DType, TensorData};
use flint_core::burn;
use flint_core::burn::tensor::{AllocationProperty, Bytes};
use flint_core::{Backend, LoadError, Target, TensorSource};
use std::collections::BTreeSet;
use std::path::Path;

/// How the tensors of one load were materialised, for reports and tests.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct AssignStats {
    /// Tensors whose parameter points straight into the mapped file.
    pub zero_copy: usize,
    pub zero_copy_bytes: usize,
    /// Tensors copied (and converted where the dtype differs) once into an owned buffer.
    pub copied: usize,
    pub copied_bytes: usize,
    /// Bytes of the file(s) read so far (stored sizes, before any conversion).
    pub stored_bytes: usize,
}

pub struct CheckpointSource<'a> {
    checkpoint: &'a Checkpoint,
    backend: Backend,
    /// Widen bf16 weights to f32 even where the layer could compute on them as stored.
    f32_weights: bool,
    taken: BTreeSet<String>,
    stats: AssignStats,
}

impl<'a> CheckpointSource<'a> {
    pub fn new(checkpoint: &'a Checkpoint, backend: Backend, f32_weights: bool) -> Self {
        Self {
            checkpoint,
            backend,
            f32_weights,
            taken: BTreeSet::new(),
            stats: AssignStats::default(),
        }
    }
}

impl WeightSource for CheckpointSource<'_> {
    fn unused(&self) -> Vec<String> {
        self.checkpoint
            .tensors
            .keys()
            .filter(|n| !self.taken.contains(*n))
            .cloned()
            .collect()
    }

    fn stats(&self) -> AssignStats {
        self.stats
    }

    fn data_bytes(&self) -> usize {
        self.checkpoint.data_bytes()
    }

    fn check_unchanged(&self) -> Result<(), LoadError> {
        self.checkpoint
            .files
            .iter()
            .try_for_each(|f| f.file.check_unchanged())
    }
}

impl TensorSource for CheckpointSource<'_> {
    fn origin(&self) -> &Path {
        &self.checkpoint.origin
    }

    fn take(
        &mut self,
        name: &str,
        shape: &[usize],
        target: &Target,
    ) -> Result<TensorData, LoadError> {
        let Some((file_index, entry)) = self.checkpoint.tensors.get(name) else {
            return Err(LoadError::MissingTensors {
                path: self.checkpoint.origin.clone(),
                names: vec![name.to_string()],
            });
        };
        let file = &self.checkpoint.files[*file_index].file;
        if entry.shape != shape {
            return Err(LoadError::ShapeMismatch {
                path: file.path().to_path_buf(),
                tensor: name.to_string(),
                expected: shape.to_vec(),
                found: entry.shape.clone(),
            });
        }
        let Some(stored) = FloatDtype::from_safetensors(entry.dtype) else {
            return Err(LoadError::DtypeMismatch {
                path: file.path().to_path_buf(),
                tensor: name.to_string(),
                found: format!("{:?}", entry.dtype),
                supported: "F32, F16, BF16".into(),
            });
        };
        self.taken.insert(name.to_string());
        let range = entry.range.clone();
        self.stats.stored_bytes += range.len();
        let bytes = &file.bytes()[range.clone()];
        let aligned = (bytes.as_ptr() as usize).is_multiple_of(stored.size());
        let in_place = match stored {
            FloatDtype::F32 => Some(DType::F32),
            FloatDtype::BF16 if target.accepts_bf16 && !self.f32_weights => Some(DType::BF16),
            _ => None,
        };

        if let Some(dtype) = in_place
            && aligned
            && self.backend.keeps_mapped_bytes()
        {
            // Zero-copy: the parameter *is* the mapped file region.
            self.stats.zero_copy += 1;
            self.stats.zero_copy_bytes += range.len();
            let shared = Bytes::from_shared(file.shared_slice(range), AllocationProperty::File);
            return TensorData::try_from_bytes(shared, shape.to_vec(), dtype).map_err(|e| {
                LoadError::Tensor {
                    path: file.path().to_path_buf(),
                    tensor: name.to_string(),
                    message: e.to_string(),
                }
            });
        }

        // One copy, converting on the way; then the source pages leave our resident set.
        let values = to_f32_vec(bytes, stored);
        file.release(range.clone());
        check_finite(&values, file.path(), name)?;
        self.stats.copied += 1;
        self.stats.copied_bytes += values.len() * 4;
        Ok(TensorData::new(values, shape.to_vec()))
    }
}
