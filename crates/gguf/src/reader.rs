//! [`GgufFile`]: a parsed, validated GGUF file over its (usually memory-mapped) bytes.

use std::collections::BTreeMap;
use std::fs::File;
use std::path::Path;

use memmap2::Mmap;

use crate::dequant::dequantize_to_vec;
use crate::error::{ErrorKind, GgufError};
use crate::layout::{Layout, parse_layout};
use crate::metadata::{MetadataArray, MetadataValue};
use crate::tensor_info::TensorInfo;

/// The bytes behind a [`GgufFile`].
enum Storage {
    Mmap(Mmap),
    Owned(Vec<u8>),
    /// Bytes someone else mapped (the loader, which also decides when to release pages).
    Shared(Box<dyn AsRef<[u8]> + Send + Sync>),
}

impl Storage {
    fn bytes(&self) -> &[u8] {
        match self {
            Storage::Mmap(m) => m,
            Storage::Owned(v) => v,
            Storage::Shared(b) => b.as_ref().as_ref(),
        }
    }
}

/// A GGUF file whose header, metadata and tensor infos have been fully validated: every
/// tensor's data lies inside the file, aligned and without overlap.
pub struct GgufFile {
    origin: String,
    storage: Storage,
    layout: Layout,
}

impl std::fmt::Debug for GgufFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GgufFile")
            .field("origin", &self.origin)
            .field("version", &self.layout.version)
            .field("metadata_entries", &self.layout.metadata.len())
            .field("tensors", &self.layout.tensors.len())
            .finish()
    }
}

impl GgufFile {
    /// Memory-maps `path` read-only and parses it. Tensor data is not read until asked for.
    ///
    /// As with any memory map, the file must not be modified while the `GgufFile` lives.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, GgufError> {
        let path = path.as_ref();
        let origin = path.display().to_string();
        let io = |e| GgufError::new(origin.clone(), ErrorKind::Io(e));
        let file = File::open(path).map_err(io)?;
        let len = file.metadata().map_err(io)?.len();
        // Mapping an empty file fails on some platforms; an empty Vec gives the proper
        // "truncated" error instead.
        let storage = if len == 0 {
            Storage::Owned(Vec::new())
        } else {
            // SAFETY: the map is read-only; the caller must not modify the file meanwhile
            // (documented above), which is the usual contract for mapping model files.
            Storage::Mmap(unsafe { Mmap::map(&file) }.map_err(io)?)
        };
        Self::from_storage(origin, storage)
    }

    /// Parses a GGUF file held in memory (the bytes are copied). Errors name `<memory>`.
    pub fn parse(bytes: &[u8]) -> Result<Self, GgufError> {
        let layout = parse_layout(bytes).map_err(|k| GgufError::new("<memory>", k))?;
        Ok(Self {
            origin: "<memory>".into(),
            storage: Storage::Owned(bytes.to_vec()),
            layout,
        })
    }

    /// Parses bytes the caller already holds, typically its own memory map, without copying
    /// them; `origin` names them in errors.
    pub fn from_shared(
        origin: impl Into<String>,
        bytes: impl AsRef<[u8]> + Send + Sync + 'static,
    ) -> Result<Self, GgufError> {
        Self::from_storage(origin.into(), Storage::Shared(Box::new(bytes)))
    }

    fn from_storage(origin: String, storage: Storage) -> Result<Self, GgufError> {
        match parse_layout(storage.bytes()) {
            Ok(layout) => Ok(Self {
                origin,
                storage,
                layout,
            }),
            Err(kind) => Err(GgufError::new(origin, kind)),
        }
    }

    fn error(&self, kind: ErrorKind) -> GgufError {
        GgufError::new(self.origin.clone(), kind)
    }

    /// The path given to [`GgufFile::open`], or `<memory>`.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// GGUF version (2 or 3).
    pub fn version(&self) -> u32 {
        self.layout.version
    }

    /// Data alignment in bytes (`general.alignment`, default 32).
    pub fn alignment(&self) -> u64 {
        self.layout.alignment
    }

    /// Absolute file offset where the tensor data section starts.
    pub fn data_offset(&self) -> u64 {
        self.layout.data_start
    }

    /// The whole file.
    pub fn as_bytes(&self) -> &[u8] {
        self.storage.bytes()
    }

    /// All metadata, sorted by key.
    pub fn metadata(&self) -> &BTreeMap<String, MetadataValue> {
        &self.layout.metadata
    }

    /// One metadata value, if present.
    pub fn get(&self, key: &str) -> Option<&MetadataValue> {
        self.layout.metadata.get(key)
    }

    /// Tensor infos in file order.
    pub fn tensors(&self) -> &[TensorInfo] {
        &self.layout.tensors
    }

    /// The tensor called `name`, if present.
    pub fn tensor(&self, name: &str) -> Option<&TensorInfo> {
        let index = *self.layout.by_name.get(name)?;
        self.layout.tensors.get(index)
    }

    /// The raw bytes of a tensor of this file. (An info from another file whose range does
    /// not fit gives an empty slice, which dequantizing then rejects.)
    pub fn tensor_bytes(&self, info: &TensorInfo) -> &[u8] {
        self.as_bytes().get(info.data_range()).unwrap_or_default()
    }

    /// A tensor's values as f32, in ggml element order (`ne0` fastest), decoded in parallel.
    pub fn dequantize_tensor(&self, info: &TensorInfo) -> Result<Vec<f32>, GgufError> {
        let n = usize::try_from(info.n_elements()).unwrap_or(usize::MAX);
        dequantize_to_vec(info.ggml_type(), self.tensor_bytes(info), n).map_err(|source| {
            self.error(ErrorKind::Dequant {
                tensor: info.name().to_owned(),
                source,
            })
        })
    }

    // ---- typed metadata getters -------------------------------------------------------
    // Each fails with an error naming the file and key when the key is missing or has the
    // wrong type. Integer getters accept any integer type whose value fits, since writers
    // disagree on widths (e.g. token ids as u32 or i32).

    fn require(&self, key: &str) -> Result<&MetadataValue, GgufError> {
        self.get(key).ok_or_else(|| {
            self.error(ErrorKind::MissingKey {
                key: key.to_owned(),
            })
        })
    }

    fn typed<'s, T>(
        &'s self,
        key: &str,
        expected: &'static str,
        convert: impl FnOnce(&'s MetadataValue) -> Option<T>,
    ) -> Result<T, GgufError> {
        let value = self.require(key)?;
        convert(value).ok_or_else(|| {
            let found = match value.as_i128() {
                Some(v) => format!("{} {v}", value.type_name()),
                None => value.type_name(),
            };
            self.error(ErrorKind::WrongType {
                key: key.to_owned(),
                expected,
                found,
            })
        })
    }

    pub fn get_u32(&self, key: &str) -> Result<u32, GgufError> {
        self.typed(key, "an integer in u32 range", |v| {
            v.as_i128().and_then(|i| i.try_into().ok())
        })
    }

    pub fn get_u64(&self, key: &str) -> Result<u64, GgufError> {
        self.typed(key, "an integer in u64 range", |v| {
            v.as_i128().and_then(|i| i.try_into().ok())
        })
    }

    pub fn get_i32(&self, key: &str) -> Result<i32, GgufError> {
        self.typed(key, "an integer in i32 range", |v| {
            v.as_i128().and_then(|i| i.try_into().ok())
        })
    }

    pub fn get_i64(&self, key: &str) -> Result<i64, GgufError> {
        self.typed(key, "an integer in i64 range", |v| {
            v.as_i128().and_then(|i| i.try_into().ok())
        })
    }

    /// An `f32` value (an `f64` is refused rather than rounded).
    pub fn get_f32(&self, key: &str) -> Result<f32, GgufError> {
        self.typed(key, "f32", MetadataValue::as_f32)
    }

    /// An `f32` or `f64` value.
    pub fn get_f64(&self, key: &str) -> Result<f64, GgufError> {
        self.typed(key, "f32 or f64", MetadataValue::as_f64)
    }

    pub fn get_bool(&self, key: &str) -> Result<bool, GgufError> {
        self.typed(key, "bool", MetadataValue::as_bool)
    }

    pub fn get_str(&self, key: &str) -> Result<&str, GgufError> {
        self.typed(key, "string", MetadataValue::as_str)
    }

    pub fn get_array(&self, key: &str) -> Result<&MetadataArray, GgufError> {
        self.typed(key, "array", MetadataValue::as_array)
    }

    pub fn get_str_array(&self, key: &str) -> Result<&[String], GgufError> {
        self.typed(key, "array of string", |v| match v.as_array()? {
            MetadataArray::String(s) => Some(s.as_slice()),
            _ => None,
        })
    }

    pub fn get_u32_array(&self, key: &str) -> Result<&[u32], GgufError> {
        self.typed(key, "array of u32", |v| match v.as_array()? {
            MetadataArray::U32(s) => Some(s.as_slice()),
            _ => None,
        })
    }

    pub fn get_i32_array(&self, key: &str) -> Result<&[i32], GgufError> {
        self.typed(key, "array of i32", |v| match v.as_array()? {
            MetadataArray::I32(s) => Some(s.as_slice()),
            _ => None,
        })
    }

    pub fn get_f32_array(&self, key: &str) -> Result<&[f32], GgufError> {
        self.typed(key, "array of f32", |v| match v.as_array()? {
            MetadataArray::F32(s) => Some(s.as_slice()),
            _ => None,
        })
    }
}
