//! One safetensors file: mapped once, header parsed and validated, tensors located.

use crate::mapped_file::MappedFile;
use flint_core::LoadError;
use safetensors::{Dtype, SafeTensorError, SafeTensors};
use std::collections::BTreeMap;
use std::path::Path;

/// Where one tensor's bytes lie inside a mapped file.
#[derive(Debug, Clone, PartialEq)]
pub struct TensorEntry {
    pub dtype: Dtype,
    pub shape: Vec<usize>,
    /// Absolute byte range in the file (header included).
    pub range: std::ops::Range<usize>,
}

pub struct SafetensorsFile {
    pub file: MappedFile,
    pub tensors: BTreeMap<String, TensorEntry>,
}

impl SafetensorsFile {
    /// Maps `path` and validates its header: offsets in bounds, contiguous and
    /// non-overlapping, each tensor's byte size equal to its shape times its dtype size.
    pub fn open(path: &Path) -> Result<Self, LoadError> {
        let file = MappedFile::open(path)?;
        let (header_len, metadata) = SafeTensors::read_metadata(file.bytes())
            .map_err(|e| header_error(path, file.bytes(), e))?;
        let data_start = 8 + header_len;
        let tensors = metadata
            .tensors()
            .into_iter()
            .map(|(name, info)| {
                let (s, e) = info.data_offsets;
                let entry = TensorEntry {
                    dtype: info.dtype,
                    shape: info.shape.clone(),
                    range: data_start + s..data_start + e,
                };
                (name, entry)
            })
            .collect();
        Ok(Self { file, tensors })
    }
}

/// Turns the safetensors crate's error into one that names the file and, where it can be
/// found, the tensor at fault.
fn header_error(path: &Path, bytes: &[u8], err: SafeTensorError) -> LoadError {
    let path = path.to_path_buf();
    match err {
        SafeTensorError::HeaderTooSmall => LoadError::Truncated {
            path,
            message: format!("{} bytes, too short for a safetensors header", bytes.len()),
        },
        SafeTensorError::InvalidHeaderLength => {
            let claimed = bytes
                .get(..8)
                .map(|b| u64::from_le_bytes(b.try_into().unwrap_or([0; 8])))
                .unwrap_or(0);
            LoadError::Truncated {
                path,
                message: format!(
                    "header claims {claimed} bytes but the file holds {}",
                    bytes.len().saturating_sub(8)
                ),
            }
        }
        SafeTensorError::MetadataIncompleteBuffer => {
            let needed = describe_data_end(bytes);
            match needed {
                Some((last, end)) if end > bytes.len() => LoadError::Truncated {
                    path,
                    message: format!(
                        "tensor `{last}` ends at byte {end}, the file holds {}",
                        bytes.len()
                    ),
                },
                Some((_, end)) => LoadError::Header {
                    path,
                    message: format!(
                        "{} trailing bytes after the last tensor (data ends at {end})",
                        bytes.len() - end
                    ),
                },
                None => LoadError::Header {
                    path,
                    message: "tensor data does not match the file length".into(),
                },
            }
        }
        SafeTensorError::InvalidOffset(name) => LoadError::Tensor {
            path,
            tensor: name,
            message: "data offsets out of order, overlapping or leaving a gap".into(),
        },
        SafeTensorError::TensorInvalidInfo => match find_size_lie(bytes) {
            Some((name, msg)) => LoadError::Tensor {
                path,
                tensor: name,
                message: msg,
            },
            None => LoadError::Header {
                path,
                message: "a tensor's byte range does not match its shape and dtype".into(),
            },
        },
        other => LoadError::Header {
            path,
            message: format!("invalid safetensors header: {other}"),
        },
    }
}

/// Raw header entries, parsed again only to explain an error.
fn raw_header(bytes: &[u8]) -> Option<serde_json::Map<String, serde_json::Value>> {
    let n = u64::from_le_bytes(bytes.get(..8)?.try_into().ok()?) as usize;
    let header = bytes.get(8..8usize.checked_add(n)?)?;
    match serde_json::from_slice::<serde_json::Value>(header).ok()? {
        serde_json::Value::Object(map) => Some(map),
        _ => None,
    }
}

/// The tensor whose data ends last, and the absolute file offset where it ends.
fn describe_data_end(bytes: &[u8]) -> Option<(String, usize)> {
    let n = u64::from_le_bytes(bytes.get(..8)?.try_into().ok()?) as usize;
    let header = raw_header(bytes)?;
    let (name, end) = header
        .iter()
        .filter(|(k, _)| *k != "__metadata__")
        .filter_map(|(k, v)| Some((k, v.get("data_offsets")?.get(1)?.as_u64()?)))
        .max_by_key(|(_, end)| *end)?;
    Some((name.clone(), (8 + n).checked_add(end as usize)?))
}

fn find_size_lie(bytes: &[u8]) -> Option<(String, String)> {
    let header = raw_header(bytes)?;
    for (name, v) in header.iter().filter(|(k, _)| *k != "__metadata__") {
        let dtype: Dtype = serde_json::from_value(v.get("dtype")?.clone()).ok()?;
        let shape: Vec<usize> = serde_json::from_value(v.get("shape")?.clone()).ok()?;
        let offs: Vec<usize> = serde_json::from_value(v.get("data_offsets")?.clone()).ok()?;
        let numel = shape.iter().try_fold(1usize, |a, &d| a.checked_mul(d));
        let expected = numel.and_then(|n| n.checked_mul(dtype.bitsize() / 8));
        let found = offs.get(1)?.checked_sub(*offs.first()?);
        if expected != found {
            return Some((
                name.clone(),
                format!(
                    "shape {shape:?} of {dtype:?} needs {} bytes but its data_offsets span {}",
                    expected.map_or("more than usize".into(), |e| e.to_string()),
                    found.map_or("a negative range".into(), |f| f.to_string())
                ),
            ));
        }
    }
    None
}
