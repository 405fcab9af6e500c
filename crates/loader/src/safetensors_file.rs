//! One safetensors file: mapped once, header parsed and validated, tensors located.

use crate::mapped_file::MappedFile;
use crate::timings::OpenTimes;
use flint_core::LoadError;
use safetensors::{Dtype, SafeTensorError, SafeTensors};
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;

/// The safetensors crate refuses longer headers; nothing larger is parsed here either.
const MAX_HEADER_LEN: usize = 100_000_000;

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
    pub open_times: OpenTimes,
}

impl SafetensorsFile {
    /// Maps `path` and validates its header (see [`parse_header`]).
    pub fn open(path: &Path) -> Result<Self, LoadError> {
        let start = Instant::now();
        let file = MappedFile::open(path)?;
        let mapped = Instant::now();
        let tensors = parse_header(path, file.bytes())?;
        let open_times = OpenTimes {
            map: mapped - start,
            header: mapped.elapsed(),
        };
        Ok(Self {
            file,
            tensors,
            open_times,
        })
    }
}

/// Validates the safetensors header of `bytes` (a whole file; `path` only names it in
/// errors): offsets in bounds, contiguous and non-overlapping, each tensor's byte size equal
/// to its shape times its dtype size, no tensor name twice. Every returned range lies inside
/// `bytes`. Nothing is sized from the header before it is checked against `bytes.len()`.
pub fn parse_header(path: &Path, bytes: &[u8]) -> Result<BTreeMap<String, TensorEntry>, LoadError> {
    // serde keeps the last of two equal keys, so a duplicate would silently shadow a tensor
    // (or surface as a confusing offset gap): it is named first.
    let checkable = header_json(bytes).filter(|h| h.len() <= MAX_HEADER_LEN);
    if let Some(name) = checkable.and_then(duplicate_name) {
        return Err(LoadError::Tensor {
            path: path.to_path_buf(),
            tensor: name,
            message: "named twice in the header".into(),
        });
    }
    let (header_len, metadata) =
        SafeTensors::read_metadata(bytes).map_err(|e| header_error(path, bytes, e))?;
    let data_start = 8 + header_len;
    Ok(metadata
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
        .collect())
}

/// The first top-level key that appears twice in a JSON object, if any.
fn duplicate_name(header: &[u8]) -> Option<String> {
    struct Keys(Option<String>);
    impl<'de> serde::Deserialize<'de> for Keys {
        fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            struct Visit;
            impl<'de> serde::de::Visitor<'de> for Visit {
                type Value = Keys;
                fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                    f.write_str("a JSON object")
                }
                fn visit_map<A: serde::de::MapAccess<'de>>(
                    self,
                    mut map: A,
                ) -> Result<Keys, A::Error> {
                    let mut seen = std::collections::HashSet::new();
                    while let Some(key) = map.next_key::<String>()? {
                        map.next_value::<serde::de::IgnoredAny>()?;
                        if !seen.insert(key.clone()) {
                            return Ok(Keys(Some(key)));
                        }
                    }
                    Ok(Keys(None))
                }
            }
            d.deserialize_map(Visit)
        }
    }
    serde_json::from_slice::<Keys>(header).ok()?.0
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
        SafeTensorError::HeaderTooLarge => LoadError::Header {
            path,
            message: format!(
                "header claims {} bytes, more than the 100 MB safetensors allows",
                claimed_header_len(bytes)
            ),
        },
        SafeTensorError::InvalidHeaderLength => {
            let claimed = claimed_header_len(bytes);
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

/// The header length the first 8 bytes claim (0 when there are fewer).
fn claimed_header_len(bytes: &[u8]) -> u64 {
    bytes
        .get(..8)
        .map(|b| u64::from_le_bytes(b.try_into().unwrap_or([0; 8])))
        .unwrap_or(0)
}

/// The JSON header's bytes, if the length prefix fits the file.
fn header_json(bytes: &[u8]) -> Option<&[u8]> {
    let n = usize::try_from(u64::from_le_bytes(bytes.get(..8)?.try_into().ok()?)).ok()?;
    bytes.get(8..8usize.checked_add(n)?)
}

/// Raw header entries, parsed again only to explain an error.
fn raw_header(bytes: &[u8]) -> Option<serde_json::Map<String, serde_json::Value>> {
    match serde_json::from_slice::<serde_json::Value>(header_json(bytes)?).ok()? {
        serde_json::Value::Object(map) => Some(map),
        _ => None,
    }
}

/// The tensor whose data ends last, and the absolute file offset where it ends.
fn describe_data_end(bytes: &[u8]) -> Option<(String, usize)> {
    let n = header_json(bytes)?.len();
    let header = raw_header(bytes)?;
    let (name, end) = header
        .iter()
        .filter(|(k, _)| *k != "__metadata__")
        .filter_map(|(k, v)| Some((k, v.get("data_offsets")?.get(1)?.as_u64()?)))
        .max_by_key(|(_, end)| *end)?;
    Some((
        name.clone(),
        (8 + n).checked_add(usize::try_from(end).ok()?)?,
    ))
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
