//! A safetensors file: header, data offsets, and the f32 conversion of every float tensor
//! the header lets through.
#![no_main]

use flint_loader::{FloatDtype, parse_safetensors_header, to_f32_vec};
use libfuzzer_sys::fuzz_target;
use std::path::Path;

#[global_allocator]
static ALLOC: flint_fuzz::BoundedAlloc = flint_fuzz::BoundedAlloc;

fuzz_target!(|data: &[u8]| {
    let path = Path::new("fuzz.safetensors");
    flint_fuzz::bounded(
        flint_fuzz::bound_for(data.len()),
        || match parse_safetensors_header(path, data) {
            Ok(tensors) => {
                for (name, entry) in &tensors {
                    let range = entry.range.clone();
                    assert!(
                        range.start <= range.end && range.end <= data.len(),
                        "{name}"
                    );
                    let numel = entry
                        .shape
                        .iter()
                        .try_fold(1usize, |a, &d| a.checked_mul(d));
                    let bits = entry.dtype.bitsize();
                    assert_eq!(
                        numel.and_then(|n| n.checked_mul(bits)),
                        Some(range.len() * 8),
                        "{name}: size does not match shape"
                    );
                    if let Some(dtype) = FloatDtype::from_safetensors(entry.dtype) {
                        let values = to_f32_vec(&data[range], dtype);
                        assert_eq!(Some(values.len()), numel, "{name}");
                    }
                }
            }
            Err(e) => assert!(e.to_string().contains("fuzz.safetensors"), "{e}"),
        },
    );
});
