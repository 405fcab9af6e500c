//! A strict, memory-mapped GGUF reader and bit-exact ggml dequantizer.
//!
//! Format only: this crate knows GGUF's container layout and ggml's element encodings, but
//! nothing about model architectures or tensor libraries.
//!
//! ```no_run
//! # fn main() -> Result<(), flint_gguf::GgufError> {
//! let file = flint_gguf::GgufFile::open("model.gguf")?;
//! let layers = file.get_u32("llama.block_count")?;
//! let info = file.tensor("token_embd.weight").expect("present");
//! let values: Vec<f32> = file.dequantize_tensor(info)?; // row-major over shape_row_major()
//! # let _ = (layers, values); Ok(()) }
//! ```
//!
//! Parsing never panics and never allocates more than the file could describe: every count
//! and length is checked against the bytes left before use, and every tensor's data range
//! is checked to lie inside the file, aligned, and apart from the others.

mod cursor;
mod dequant;
mod error;
mod ggml_type;
mod layout;
mod metadata;
mod reader;
mod tensor_info;

pub use dequant::{can_dequantize, dequantize, dequantize_par, dequantize_to_vec};
pub use error::{DequantError, ErrorKind, GgufError};
pub use ggml_type::GgmlType;
pub use layout::{ALIGNMENT_KEY, DEFAULT_ALIGNMENT};
pub use metadata::{MAX_ARRAY_NESTING, MetadataArray, MetadataValue};
pub use reader::GgufFile;
pub use tensor_info::{MAX_DIMS, TensorInfo};
