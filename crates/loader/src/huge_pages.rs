//! Asking the kernel for 2 MiB pages under the weights.
//!
//! Decoding streams every weight once per token, and with 4 KiB pages the address
//! translations, not the memory, set the pace: two cores stream 24 GB/s through 4 KiB pages
//! and 35 GB/s through 2 MiB pages on the CI machine (a VM, where a TLB miss walks two page
//! tables). SmolLM2's bf16 decode went from 62 to 71 tok/s.

/// Advises `MADV_HUGEPAGE` for the whole 2 MiB blocks inside `memory`: the mapped
/// checkpoint, the `--no-mmap` buffer, and widened copies, each before its pages are
/// touched. For a file map nothing is copied: pages later faulted in from disk arrive as
/// 2 MiB page-cache folios, which the kernel maps whole (it aligns large file maps to
/// 2 MiB); pages already cached in smaller folios stay as they are until they leave the page
/// cache. Advice only: a kernel without transparent huge pages, or another OS, ignores it.
pub fn advise(memory: &[u8]) {
    #[cfg(target_os = "linux")]
    {
        const HUGE: usize = 2 << 20;
        let start = (memory.as_ptr() as usize).next_multiple_of(HUGE);
        let end = (memory.as_ptr() as usize + memory.len()) / HUGE * HUGE;
        if end > start {
            // SAFETY: MADV_HUGEPAGE changes how pages are backed, never their contents, and
            // the range lies inside `memory`.
            unsafe {
                libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_HUGEPAGE);
            }
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = memory;
}
