//! `config.json` → the architecture registry → each architecture's validated config.
#![no_main]

use flint_model_gemma3::Gemma3Config;
use flint_model_llama::LlamaConfig;
use libfuzzer_sys::fuzz_target;
use std::path::Path;

#[global_allocator]
static ALLOC: flint_fuzz::BoundedAlloc = flint_fuzz::BoundedAlloc;

fuzz_target!(|data: &[u8]| {
    let path = Path::new("config.json");
    flint_fuzz::bounded(flint_fuzz::bound_for(data.len()), || {
        let Ok(json) = serde_json::from_slice::<serde_json::Value>(data) else {
            return;
        };
        let _ = flint_core::find_architecture(&json, path);
        match LlamaConfig::from_json(&json, path) {
            Ok(cfg) => {
                assert!(cfg.head_dim() > 0 && cfg.head_dim() % 2 == 0);
                assert_eq!(cfg.num_attention_heads % cfg.kv_heads(), 0);
                assert!(cfg.parameter_count() >= cfg.vocab_size as u64);
            }
            Err(e) => assert!(e.to_string().contains("config.json"), "{e}"),
        }
        match Gemma3Config::from_json(&json, path) {
            Ok(cfg) => {
                let kinds = cfg.layer_kinds(path).expect("validated");
                assert_eq!(kinds.len(), cfg.num_hidden_layers);
                assert!(cfg.attention_scale().is_finite());
                cfg.global_rope(path).expect("validated");
                let _ = cfg.local_rope();
                assert!(cfg.parameter_count() >= cfg.vocab_size as u64);
            }
            Err(e) => assert!(e.to_string().contains("config.json"), "{e}"),
        }
    });
});
