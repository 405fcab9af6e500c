//! Peak resident memory of this process, as the kernel tracks it.

/// `VmHWM` from `/proc/self/status`: the high-water mark of resident memory, in bytes.
/// It counts touched pages of mapped files too, which is what a user sees in `top`.
pub fn peak_rss_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map(|kb| kb * 1024)
        .unwrap_or_else(ru_maxrss_bytes)
}

/// Fallback where `/proc` is unavailable: `getrusage`'s `ru_maxrss` (kilobytes on Linux).
fn ru_maxrss_bytes() -> u64 {
    // SAFETY: getrusage only writes the struct it is given.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let rc = unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) };
    if rc == 0 {
        usage.ru_maxrss as u64 * 1024
    } else {
        0
    }
}
