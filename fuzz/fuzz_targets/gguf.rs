//! A GGUF file: header, metadata, tensor infos, and a dequantization of every tensor the
//! reader accepts.
#![no_main]

use flint_gguf::{GgufFile, can_dequantize};
use libfuzzer_sys::fuzz_target;

#[global_allocator]
static ALLOC: flint_fuzz::BoundedAlloc = flint_fuzz::BoundedAlloc;

fuzz_target!(|data: &[u8]| {
    flint_fuzz::bounded(flint_fuzz::bound_for(data.len()), || {
        let Ok(file) = GgufFile::parse(data) else {
            return;
        };
        for info in file.tensors() {
            let range = info.data_range();
            assert!(
                range.start <= range.end && range.end <= data.len(),
                "{}",
                info.name()
            );
            assert_eq!(range.len() as u64, info.n_bytes());
            if can_dequantize(info.ggml_type()) {
                let values = file
                    .dequantize_tensor(info)
                    .expect("an accepted tensor dequantizes");
                assert_eq!(values.len() as u64, info.n_elements());
            }
        }
    });
});
