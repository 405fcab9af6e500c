//! An opened GGUF model file: the validated, memory-mapped [`GgufFile`] with its path, and
//! metadata getters whose errors name the file and key.

use super::conventions::{self, ARCHITECTURES, GgufArchitecture};
use super::error::load_error;
use crate::mapped_file::MappedFile;
use crate::timings::OpenTimes;
use flint_core::LoadError;
use flint_gguf::{GgufError, GgufFile, TensorInfo};
use std::path::{Path, PathBuf};
use std::time::Instant;

pub struct GgufModel {
    file: GgufFile,
    /// The same map the `GgufFile` parses, kept to release pages behind dequantization.
    mapped: MappedFile,
    path: PathBuf,
    /// Mapping the file, then parsing its header, metadata and tensor infos.
    pub open_times: OpenTimes,
}

impl GgufModel {
    /// Maps `path` and validates its header, metadata and tensor infos (no tensor data is
    /// read).
    pub fn open(path: &Path) -> Result<Self, LoadError> {
        let start = Instant::now();
        let mapped = MappedFile::open(path)?;
        let map_done = Instant::now();
        let file = GgufFile::from_shared(path.display().to_string(), mapped.clone())
            .map_err(|e| load_error(path, e))?;
        let open_times = OpenTimes {
            map: map_done - start,
            header: map_done.elapsed(),
        };
        Ok(Self {
            file,
            mapped,
            path: path.to_path_buf(),
            open_times,
        })
    }

    /// Drops `info`'s mapped pages from resident memory once its data has been copied.
    pub fn release_tensor_pages(&self, info: &TensorInfo) {
        self.mapped.release(info.data_range());
    }

    /// Errs if the file was rewritten since it was mapped.
    pub fn check_unchanged(&self) -> Result<(), LoadError> {
        self.mapped.check_unchanged()
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn file(&self) -> &GgufFile {
        &self.file
    }

    pub fn error(&self, err: GgufError) -> LoadError {
        load_error(&self.path, err)
    }

    /// `general.architecture`.
    pub fn architecture_name(&self) -> Result<&str, LoadError> {
        self.file
            .get_str("general.architecture")
            .map_err(|e| self.error(e))
    }

    /// The convention row for `general.architecture`; an architecture the table lacks is an
    /// error naming the file and key.
    pub fn architecture(&self) -> Result<&'static GgufArchitecture, LoadError> {
        let name = self.architecture_name()?;
        conventions::architecture(name).ok_or_else(|| {
            let known: Vec<&str> = ARCHITECTURES.iter().map(|a| a.gguf).collect();
            LoadError::config(
                &self.path,
                "general.architecture",
                format!(
                    "`{name}` is not in flint's table of llama.cpp conventions (known: {})",
                    known.join(", ")
                ),
            )
        })
    }

    /// Query and key/value head counts (`{arch}.attention.head_count[_kv]`).
    pub fn head_counts(&self) -> Result<(usize, usize), LoadError> {
        let arch = self.architecture_name()?;
        let heads = self.u32(&format!("{arch}.attention.head_count"))?;
        let kv = self
            .opt_u32(&format!("{arch}.attention.head_count_kv"))?
            .unwrap_or(heads);
        Ok((heads as usize, kv as usize))
    }

    pub fn u32(&self, key: &str) -> Result<u32, LoadError> {
        self.file.get_u32(key).map_err(|e| self.error(e))
    }

    pub fn str(&self, key: &str) -> Result<&str, LoadError> {
        self.file.get_str(key).map_err(|e| self.error(e))
    }

    pub fn str_array(&self, key: &str) -> Result<&[String], LoadError> {
        self.file.get_str_array(key).map_err(|e| self.error(e))
    }

    /// `None` when absent; a present key of the wrong type is an error.
    pub fn opt_u32(&self, key: &str) -> Result<Option<u32>, LoadError> {
        self.opt(key, GgufFile::get_u32)
    }

    pub fn opt_f64(&self, key: &str) -> Result<Option<f64>, LoadError> {
        self.opt(key, GgufFile::get_f64)
    }

    pub fn opt_bool(&self, key: &str) -> Result<Option<bool>, LoadError> {
        self.opt(key, GgufFile::get_bool)
    }

    pub fn opt_str(&self, key: &str) -> Result<Option<&str>, LoadError> {
        self.opt(key, GgufFile::get_str)
    }

    fn opt<'s, T>(
        &'s self,
        key: &str,
        get: impl FnOnce(&'s GgufFile, &str) -> Result<T, GgufError>,
    ) -> Result<Option<T>, LoadError> {
        if self.file.get(key).is_none() {
            return Ok(None);
        }
        get(&self.file, key).map(Some).map_err(|e| self.error(e))
    }

    /// The token string of a token id key (`tokenizer.ggml.bos_token_id`, ...), if the key is
    /// present; an id outside the vocabulary is an error naming the key.
    pub fn token_text(&self, id_key: &str) -> Result<Option<(u32, &str)>, LoadError> {
        let Some(id) = self.opt_u32(id_key)? else {
            return Ok(None);
        };
        let tokens = self.str_array("tokenizer.ggml.tokens")?;
        match tokens.get(id as usize) {
            Some(text) => Ok(Some((id, text))),
            None => Err(LoadError::config(
                &self.path,
                id_key,
                format!(
                    "token id {id} is outside the {}-token vocabulary",
                    tokens.len()
                ),
            )),
        }
    }

    /// Total bytes of tensor data.
    pub fn data_bytes(&self) -> usize {
        self.file
            .tensors()
            .iter()
            .map(|t| t.n_bytes() as usize)
            .sum()
    }
}
