//! Error types. A [`GgufError`] always names its origin (the file path, or `<memory>` for
//! [`crate::GgufFile::parse`]) and, through its [`ErrorKind`], the key or tensor involved, so a
//! bad model file can be diagnosed from the message alone.

use crate::GgmlType;

/// An error reading a GGUF file: where ([`GgufError::origin`]) and what ([`GgufError::kind`]).
#[derive(Debug, thiserror::Error)]
#[error("{origin}: {kind}")]
pub struct GgufError {
    origin: String,
    kind: ErrorKind,
}

impl GgufError {
    pub(crate) fn new(origin: impl Into<String>, kind: ErrorKind) -> Self {
        Self {
            origin: origin.into(),
            kind,
        }
    }

    /// The file path, or `<memory>` for bytes given to [`crate::GgufFile::parse`].
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// What went wrong; match on it to tell failures apart.
    pub fn kind(&self) -> &ErrorKind {
        &self.kind
    }
}

/// What went wrong. `context` strings say where in the file, e.g. `metadata value 'general.name'`
/// or `tensor 'blk.0.attn_q.weight'`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ErrorKind {
    #[error("I/O error: {0}")]
    Io(#[source] std::io::Error),

    #[error(
        "truncated: reading {context} at byte {offset} needs {needed} bytes, only {available} left"
    )]
    Truncated {
        context: String,
        offset: u64,
        needed: u64,
        available: u64,
    },

    #[error("bad magic {found:02x?}, expected \"GGUF\"")]
    BadMagic { found: [u8; 4] },

    #[error("unsupported GGUF version {version:#x} (supported: 2 and 3, little-endian)")]
    UnsupportedVersion { version: u32 },

    /// A count or length that the rest of the file cannot possibly hold; checked before
    /// allocating so a hostile header cannot exhaust memory.
    #[error("{context} claims {count} {unit}, more than the {available} bytes left can hold")]
    TooLarge {
        context: String,
        count: u64,
        unit: &'static str,
        available: u64,
    },

    #[error("{context} is not valid UTF-8")]
    InvalidUtf8 { context: String },

    #[error("{context} has unknown metadata value type {type_id}")]
    UnknownValueType { context: String, type_id: u32 },

    #[error("{context} has a bool byte {value}, expected 0 or 1")]
    InvalidBool { context: String, value: u8 },

    #[error("{context} nests arrays deeper than {max} levels")]
    NestingTooDeep { context: String, max: usize },

    #[error("duplicate metadata key '{key}'")]
    DuplicateKey { key: String },

    #[error("general.alignment must be a u32 power of two, got {value}")]
    BadAlignment { value: String },

    #[error("duplicate tensor name '{tensor}'")]
    DuplicateTensor { tensor: String },

    #[error("tensor '{tensor}' has {n_dims} dimensions, at most 4 are allowed")]
    TooManyDims { tensor: String, n_dims: u32 },

    #[error("tensor '{tensor}' shape {shape:?} overflows")]
    ShapeOverflow { tensor: String, shape: Vec<u64> },

    #[error("tensor '{tensor}' has unknown ggml type {type_id}")]
    UnknownGgmlType { tensor: String, type_id: u32 },

    #[error(
        "tensor '{tensor}' of type {ggml_type} has row length {ne0}, not a multiple of its block size {block_size}"
    )]
    RowNotBlockAligned {
        tensor: String,
        ggml_type: GgmlType,
        ne0: u64,
        block_size: u64,
    },

    #[error(
        "tensor '{tensor}' data offset {offset} is not a multiple of the alignment {alignment}"
    )]
    MisalignedOffset {
        tensor: String,
        offset: u64,
        alignment: u64,
    },

    #[error(
        "tensor '{tensor}' data (bytes {start}..{end}) lies beyond the end of the file ({file_len} bytes)"
    )]
    TensorOutOfRange {
        tensor: String,
        start: u64,
        end: u64,
        file_len: u64,
    },

    #[error("tensors '{first}' and '{second}' overlap")]
    TensorOverlap { first: String, second: String },

    #[error("missing metadata key '{key}'")]
    MissingKey { key: String },

    #[error("metadata key '{key}' is {found}, expected {expected}")]
    WrongType {
        key: String,
        expected: &'static str,
        found: String,
    },

    #[error("tensor '{tensor}': {source}")]
    Dequant {
        tensor: String,
        #[source]
        source: DequantError,
    },
}

/// An error from [`crate::dequantize`]: raised before any output is written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DequantError {
    #[error("dequantizing {0} is not supported")]
    Unsupported(GgmlType),

    #[error("{n_elements} elements is not a whole number of {ggml_type} blocks of {block_size}")]
    NotBlockMultiple {
        ggml_type: GgmlType,
        n_elements: usize,
        block_size: usize,
    },

    #[error("{n_elements} {ggml_type} elements need {expected} bytes, got {actual}")]
    ByteLength {
        ggml_type: GgmlType,
        n_elements: usize,
        expected: usize,
        actual: usize,
    },

    #[error("output holds {actual} floats, expected {expected}")]
    OutputLength { expected: usize, actual: usize },
}
