//! Tensor infos: name, shape, element type and where the data lies.
//!
//! Everything that can be checked from one info alone (dimension count, known type, shape
//! overflow, whole blocks per row) is checked here; checks that need the whole file (data
//! range, alignment, overlap, duplicates) are in [`crate::reader`].

use std::ops::Range;

use crate::cursor::Cursor;
use crate::error::ErrorKind;
use crate::ggml_type::GgmlType;

/// ggml's `GGML_MAX_DIMS`.
pub const MAX_DIMS: u32 = 4;

/// One tensor's description, validated against the file it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TensorInfo {
    pub(crate) name: String,
    pub(crate) shape: Vec<u64>,
    pub(crate) ggml_type: GgmlType,
    pub(crate) n_elements: u64,
    pub(crate) n_bytes: u64,
    /// Offset relative to the start of the data section, as stored in the file.
    pub(crate) offset: u64,
    /// Absolute file offset of the first data byte (filled in once the data section start
    /// is known).
    pub(crate) start: u64,
}

impl TensorInfo {
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The shape in GGUF/ggml order: `shape()[0]` is `ne0`, the contiguous (fastest) axis.
    pub fn shape(&self) -> &[u64] {
        &self.shape
    }

    /// The shape in row-major (numpy/PyTorch/Burn) order: [`TensorInfo::shape`] reversed,
    /// so the last axis is the contiguous one.
    pub fn shape_row_major(&self) -> Vec<u64> {
        self.shape.iter().rev().copied().collect()
    }

    pub fn ggml_type(&self) -> GgmlType {
        self.ggml_type
    }

    /// Number of elements (product of the shape; 1 for a zero-dimensional tensor).
    pub fn n_elements(&self) -> u64 {
        self.n_elements
    }

    /// Size of the tensor's data in bytes.
    pub fn n_bytes(&self) -> u64 {
        self.n_bytes
    }

    /// Offset of the data relative to the data section, as stored in the file.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// Absolute byte range of the data within the file.
    pub fn data_range(&self) -> Range<usize> {
        // `reader` checked start + n_bytes <= file length, which fits in usize.
        self.start as usize..(self.start + self.n_bytes) as usize
    }
}

/// Reads one tensor info and checks what it can on its own.
pub(crate) fn read_tensor_info(cur: &mut Cursor, index: u64) -> Result<TensorInfo, ErrorKind> {
    cur.context = format!("the name of tensor #{index}");
    let name = cur.string()?;
    cur.context = format!("tensor '{name}'");

    let n_dims = cur.u32()?;
    if n_dims > MAX_DIMS {
        return Err(ErrorKind::TooManyDims {
            tensor: name,
            n_dims,
        });
    }
    let mut shape = Vec::with_capacity(n_dims as usize);
    for _ in 0..n_dims {
        shape.push(cur.u64()?);
    }
    let type_id = cur.u32()?;
    let offset = cur.u64()?;

    let Some(ggml_type) = GgmlType::from_id(type_id) else {
        return Err(ErrorKind::UnknownGgmlType {
            tensor: name,
            type_id,
        });
    };
    // ggml keeps element counts and byte sizes in int64_t; stay within that.
    let n_elements = shape
        .iter()
        .try_fold(1u64, |acc, &d| acc.checked_mul(d))
        .filter(|&n| n <= i64::MAX as u64);
    let Some(n_elements) = n_elements else {
        return Err(ErrorKind::ShapeOverflow {
            tensor: name,
            shape,
        });
    };
    let ne0 = shape.first().copied().unwrap_or(1);
    let block_size = ggml_type.block_size() as u64;
    if !ne0.is_multiple_of(block_size) {
        return Err(ErrorKind::RowNotBlockAligned {
            tensor: name,
            ggml_type,
            ne0,
            block_size,
        });
    }
    let Some(n_bytes) = ggml_type.bytes_for(n_elements) else {
        return Err(ErrorKind::ShapeOverflow {
            tensor: name,
            shape,
        });
    };

    Ok(TensorInfo {
        name,
        shape,
        ggml_type,
        n_elements,
        n_bytes,
        offset,
        start: 0,
    })
}
