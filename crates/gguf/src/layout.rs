//! Parsing a whole GGUF file's structure: header, metadata, tensor infos, data section.
//!
//! Layout (versions 2 and 3 are identical for little-endian files):
//! `"GGUF" | u32 version | u64 n_tensors | u64 n_kv | kv* | tensor_info* | pad | data`.
//! The data section starts at the first multiple of `general.alignment` (default 32) after
//! the tensor infos; tensor offsets are relative to it.

use std::collections::{BTreeMap, HashMap};

use crate::cursor::Cursor;
use crate::error::ErrorKind;
use crate::metadata::{MetadataValue, read_value};
use crate::tensor_info::{TensorInfo, read_tensor_info};

/// Alignment used when `general.alignment` is absent.
pub const DEFAULT_ALIGNMENT: u64 = 32;
/// The metadata key that overrides the alignment.
pub const ALIGNMENT_KEY: &str = "general.alignment";

/// Smallest metadata entry: empty key (8) + value type (4) + a one-byte value.
const MIN_KV_SIZE: u64 = 8 + 4 + 1;
/// Smallest tensor info: empty name (8) + n_dims (4) + type (4) + offset (8).
const MIN_TENSOR_INFO_SIZE: u64 = 8 + 4 + 4 + 8;

/// Everything about a file except its bytes.
#[derive(Debug)]
pub(crate) struct Layout {
    pub version: u32,
    pub alignment: u64,
    pub data_start: u64,
    pub metadata: BTreeMap<String, MetadataValue>,
    pub tensors: Vec<TensorInfo>,
    pub by_name: HashMap<String, usize>,
}

pub(crate) fn parse_layout(bytes: &[u8]) -> Result<Layout, ErrorKind> {
    let mut cur = Cursor::new(bytes);

    cur.context = "the magic".into();
    let magic = cur.take(4)?;
    if magic != b"GGUF" {
        let mut found = [0; 4];
        found.copy_from_slice(magic);
        return Err(ErrorKind::BadMagic { found });
    }
    cur.context = "the version".into();
    let version = cur.u32()?;
    if version != 2 && version != 3 {
        return Err(ErrorKind::UnsupportedVersion { version });
    }
    cur.context = "the tensor count".into();
    let n_tensors = cur.u64()?;
    cur.context = "the metadata count".into();
    let n_kv = cur.u64()?;

    let metadata = read_metadata(&mut cur, n_kv)?;
    let alignment = alignment(&metadata)?;

    cur.context = "the tensor count".into();
    let n_tensors = cur.check_count(n_tensors, MIN_TENSOR_INFO_SIZE, "tensor infos")?;
    let mut tensors = Vec::with_capacity(n_tensors);
    let mut by_name = HashMap::with_capacity(n_tensors);
    for index in 0..n_tensors {
        let info = read_tensor_info(&mut cur, index as u64)?;
        if by_name.insert(info.name.clone(), index).is_some() {
            return Err(ErrorKind::DuplicateTensor { tensor: info.name });
        }
        tensors.push(info);
    }

    let data_start = (cur.pos() as u64).next_multiple_of(alignment);
    place_tensors(&mut tensors, data_start, alignment, bytes.len() as u64)?;

    Ok(Layout {
        version,
        alignment,
        data_start,
        metadata,
        tensors,
        by_name,
    })
}

fn read_metadata(
    cur: &mut Cursor,
    n_kv: u64,
) -> Result<BTreeMap<String, MetadataValue>, ErrorKind> {
    let n_kv = cur.check_count(n_kv, MIN_KV_SIZE, "metadata entries")?;
    let mut metadata = BTreeMap::new();
    for index in 0..n_kv {
        cur.context = format!("the key of metadata entry #{index}");
        let key = cur.string()?;
        cur.context = format!("metadata value '{key}'");
        let type_id = cur.u32()?;
        let value = read_value(cur, type_id, 0)?;
        if metadata.contains_key(&key) {
            return Err(ErrorKind::DuplicateKey { key });
        }
        metadata.insert(key, value);
    }
    Ok(metadata)
}

/// `general.alignment`: a u32 power of two (as ggml requires), or the default.
fn alignment(metadata: &BTreeMap<String, MetadataValue>) -> Result<u64, ErrorKind> {
    match metadata.get(ALIGNMENT_KEY) {
        None => Ok(DEFAULT_ALIGNMENT),
        Some(MetadataValue::U32(a)) if a.is_power_of_two() => Ok(u64::from(*a)),
        Some(other) => Err(ErrorKind::BadAlignment {
            value: format!("{} {:?}", other.type_name(), other),
        }),
    }
}

/// Fixes each tensor's absolute start and checks alignment, bounds and overlap.
fn place_tensors(
    tensors: &mut [TensorInfo],
    data_start: u64,
    alignment: u64,
    file_len: u64,
) -> Result<(), ErrorKind> {
    for t in tensors.iter_mut() {
        if !t.offset.is_multiple_of(alignment) {
            return Err(ErrorKind::MisalignedOffset {
                tensor: t.name.clone(),
                offset: t.offset,
                alignment,
            });
        }
        let start = data_start.checked_add(t.offset);
        let end = start.and_then(|s| s.checked_add(t.n_bytes));
        match (start, end) {
            (Some(start), Some(end)) if end <= file_len => t.start = start,
            _ => {
                return Err(ErrorKind::TensorOutOfRange {
                    tensor: t.name.clone(),
                    start: start.unwrap_or(u64::MAX),
                    end: end.unwrap_or(u64::MAX),
                    file_len,
                });
            }
        }
    }

    // Sorted by start, non-empty ranges must not reach into the next one.
    let mut order: Vec<&TensorInfo> = tensors.iter().filter(|t| t.n_bytes > 0).collect();
    order.sort_by_key(|t| t.start);
    for pair in order.windows(2) {
        if pair[0].start + pair[0].n_bytes > pair[1].start {
            return Err(ErrorKind::TensorOverlap {
                first: pair[0].name.clone(),
                second: pair[1].name.clone(),
            });
        }
    }
    Ok(())
}
