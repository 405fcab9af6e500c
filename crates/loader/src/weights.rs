//! What the load pipeline needs from an opened checkpoint (beyond [`TensorSource`]'s
//! `take` and `origin`), whatever its file format
//! (safetensors: [`crate::source::CheckpointSource`]; GGUF: [`crate::gguf::GgufSource`]).

use crate::source::AssignStats;
use flint_core::TensorSource;

pub(crate) trait WeightSource: TensorSource {
    /// Tensors of the file no parameter asked for (minus those the format marks as
    /// recomputed by the model): a non-empty list fails the load.
    fn unused(&self) -> Vec<String>;
    /// How the tensors handed out so far were materialised.
    fn stats(&self) -> AssignStats;
    /// Bytes of tensor data in the file(s).
    fn data_bytes(&self) -> usize;
    /// Errs if a file was rewritten since it was mapped (its length or mtime changed).
    fn check_unchanged(&self) -> Result<(), flint_core::LoadError>;
}
