//! What every flint fuzz target shares: an allocation bound and a way to split one input
//! into several files.

use std::alloc::{GlobalAlloc, Layout, System};
use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};

/// A global allocator that aborts (a libFuzzer crash) on any single allocation above the
/// current bound, so a header that claims 2^60 elements is a finding rather than an OOM
/// kill or a slow swap.
pub struct BoundedAlloc;

static BOUND: AtomicUsize = AtomicUsize::new(usize::MAX);

fn check(size: usize) {
    if size > BOUND.load(Ordering::Relaxed) {
        // No formatting: it would allocate. Stderr is unbuffered.
        let _ = std::io::stderr().write_all(b"flint-fuzz: allocation beyond the input's bound\n");
        std::process::abort();
    }
}

// SAFETY: every call forwards to `System` with the caller's arguments unchanged.
unsafe impl GlobalAlloc for BoundedAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        check(layout.size());
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        check(layout.size());
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        check(new_size);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
}

/// Runs `f` with single allocations bounded by `bound` bytes.
pub fn bounded<R>(bound: usize, f: impl FnOnce() -> R) -> R {
    BOUND.store(bound, Ordering::Relaxed);
    let r = f();
    BOUND.store(usize::MAX, Ordering::Relaxed);
    r
}

/// What a parser may allocate for `len` input bytes: dequantizing 2.6-bit weights to f32
/// is the largest legitimate expansion (about 12x), plus a fixed allowance.
pub fn bound_for(len: usize) -> usize {
    16 * len + (1 << 20)
}

/// Separates the files of a multi-file input (an index and its shards).
pub const FILE_SEPARATOR: &[u8] = b"\n--flint-fuzz-file--\n";

/// Splits `data` at each [`FILE_SEPARATOR`].
pub fn split_files(data: &[u8]) -> Vec<&[u8]> {
    let mut parts = Vec::new();
    let mut rest = data;
    while let Some(at) = rest
        .windows(FILE_SEPARATOR.len())
        .position(|w| w == FILE_SEPARATOR)
    {
        parts.push(&rest[..at]);
        rest = &rest[at + FILE_SEPARATOR.len()..];
    }
    parts.push(rest);
    parts
}
