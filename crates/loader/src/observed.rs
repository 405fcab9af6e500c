//! Watching a load as it goes: the time tensors take to reach their device (the "to
//! device" step of the timings) and the progress a caller may draw.

use crate::weights::WeightSource;
use flint_core::burn::tensor::TensorData;
use flint_core::{LoadError, Target, TensorSource};
use std::path::Path;
use std::time::Duration;

/// Told how far a load has come; the CLI draws a progress bar with it. The loader itself
/// prints nothing.
pub trait LoadProgress {
    /// `done` of `total` bytes of the checkpoint's tensor data are loaded and placed.
    fn update(&self, done: u64, total: u64);
    /// The weights are all in place (called on success only).
    fn finish(&self);
}

/// A [`WeightSource`] passed through to the module, timing each placement and reporting
/// progress in stored bytes.
pub(crate) struct Observed<'a> {
    pub inner: &'a mut dyn WeightSource,
    pub progress: Option<&'a dyn LoadProgress>,
    /// Time spent placing tensors on the device so far.
    pub placing: Duration,
}

impl<'a> Observed<'a> {
    pub fn new(inner: &'a mut dyn WeightSource, progress: Option<&'a dyn LoadProgress>) -> Self {
        Self {
            inner,
            progress,
            placing: Duration::ZERO,
        }
    }
}

impl TensorSource for Observed<'_> {
    fn origin(&self) -> &Path {
        self.inner.origin()
    }

    fn take(
        &mut self,
        name: &str,
        shape: &[usize],
        target: &Target,
    ) -> Result<TensorData, LoadError> {
        self.inner.take(name, shape, target)
    }

    fn placed(&mut self, name: &str, elapsed: Duration) {
        self.placing += elapsed;
        self.inner.placed(name, elapsed);
        if let Some(progress) = self.progress {
            let done = self.inner.stats().stored_bytes as u64;
            progress.update(done, self.inner.data_bytes() as u64);
        }
    }
}
