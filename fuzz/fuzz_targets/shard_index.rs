//! `model.safetensors.index.json` against the headers of the shards it names. The input is
//! the index, then each shard in the index's (sorted) order, split by `FILE_SEPARATOR`.
#![no_main]

use flint_loader::{ShardIndex, parse_safetensors_header};
use libfuzzer_sys::fuzz_target;
use std::path::{Path, PathBuf};

#[global_allocator]
static ALLOC: flint_fuzz::BoundedAlloc = flint_fuzz::BoundedAlloc;

fuzz_target!(|data: &[u8]| {
    let files = flint_fuzz::split_files(data);
    let index_path = Path::new("model.safetensors.index.json");
    flint_fuzz::bounded(flint_fuzz::bound_for(data.len()), || {
        let index = match ShardIndex::parse(index_path, files[0]) {
            Ok(index) => index,
            Err(e) => {
                assert!(e.to_string().contains("index.json"), "{e}");
                return;
            }
        };
        let mut parsed = Vec::new();
        for (i, shard) in index.shards.iter().enumerate() {
            assert!(!shard.contains('/') && !shard.contains(".."), "{shard:?}");
            // A shard the input does not hold is a missing file: the loader stops there.
            let Some(bytes) = files.get(i + 1) else {
                return;
            };
            let path = PathBuf::from(shard);
            match parse_safetensors_header(&path, bytes) {
                Ok(header) => parsed.push((path, header)),
                Err(_) => return,
            }
        }
        let headers: Vec<_> = parsed.iter().map(|(p, h)| (p.as_path(), h)).collect();
        match index.match_headers(&headers) {
            Ok(tensors) => {
                // Every tensor of every shard is served, from the shard that holds it.
                let total: usize = headers.iter().map(|(_, h)| h.len()).sum();
                assert_eq!(tensors.len(), total);
                for (name, (i, entry)) in &tensors {
                    assert_eq!(headers[*i].1.get(name), Some(entry));
                }
            }
            Err(e) => assert!(
                e.to_string().contains(".safetensors") || e.to_string().contains("index"),
                "{e}"
            ),
        }
    });
});
