//! GGUF model files (llama.cpp's format), loaded through the same pipeline as safetensors.
//!
//! - [`conventions`]: llama.cpp's format conventions as data (architectures, which of them
//!   permute Q/K, tensor names, tensors the model recomputes);
//! - [`names`]: Hugging Face ⇄ GGUF tensor names;
//! - [`file`]: the opened, validated file and its metadata getters;
//! - [`config`]: a Hugging Face `config.json` synthesised from the metadata;
//! - `tensor`: one tensor dequantized to f32, Q/K un-permuted in the same pass;
//! - `source` ([`GgufSource`]): the [`flint_core::TensorSource`] the model's parameters
//!   are filled from;
//! - [`tokenizer`], [`sentencepiece`], [`special_tokens`]: the tokenizer (byte-level BPE or
//!   SentencePiece), chat template and special tokens from the metadata;
//! - [`export`]: `flint convert`, a GGUF file written out as a Hugging Face directory;
//! - `error`: flint-gguf errors as `LoadError`s naming the file and key or tensor.

pub mod config;
pub mod conventions;
mod error;
pub mod export;
pub mod file;
pub mod names;
pub mod sentencepiece;
mod source;
pub mod special_tokens;
mod tensor;
pub mod tokenizer;

pub use file::GgufModel;
pub use source::GgufSource;

use std::io::Read;
use std::path::Path;

/// Whether `path` is a GGUF file: a `.gguf` extension (any case; a missing file too, so the
/// error is about it) that is not a directory, or a file starting with the `GGUF` magic.
pub fn is_gguf(path: &Path) -> bool {
    if path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("gguf"))
    {
        return !path.is_dir();
    }
    if !path.is_file() {
        return false;
    }
    let mut magic = [0u8; 4];
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut magic))
        .is_ok()
        && &magic == b"GGUF"
}
