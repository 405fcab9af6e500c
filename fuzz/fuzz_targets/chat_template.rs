//! `tokenizer_config.json` → its chat template → a rendered prompt.
#![no_main]

use flint_loader::{ChatMessage, ChatTemplate};
use libfuzzer_sys::fuzz_target;
use std::path::Path;

#[global_allocator]
static ALLOC: flint_fuzz::BoundedAlloc = flint_fuzz::BoundedAlloc;

/// Rendering may legitimately expand a template (a loop prints its body many times), but
/// not without bound.
const RENDER_BOUND: usize = 256 << 20;

fuzz_target!(init: {
    // libfuzzer-sys aborts in its panic hook, before unwinding; `ChatTemplate::render`
    // catches the template engine's panics, so they must unwind. A panic anywhere else still
    // reaches libfuzzer-sys's own `catch_unwind`, which aborts: a crash as before.
    std::panic::set_hook(Box::new(|_| {}));
}, |data: &[u8]| {
    let path = Path::new("tokenizer_config.json");
    let messages = [
        ChatMessage {
            role: "system".into(),
            content: "Be brief.".into(),
        },
        ChatMessage {
            role: "user".into(),
            content: "Hi {{ there }}".into(),
        },
        ChatMessage {
            role: "assistant".into(),
            content: "Hello.".into(),
        },
        ChatMessage {
            role: "user".into(),
            content: "Bye".into(),
        },
    ];
    flint_fuzz::bounded(RENDER_BOUND, || {
        let Ok(json) = serde_json::from_slice::<serde_json::Value>(data) else {
            return;
        };
        match ChatTemplate::from_tokenizer_config(&json, path) {
            Ok(Some(template)) => {
                if let Err(e) = template.render(&messages) {
                    assert!(e.to_string().contains("tokenizer_config.json"), "{e}");
                }
            }
            Ok(None) => {}
            Err(e) => assert!(e.to_string().contains("tokenizer_config.json"), "{e}"),
        }
    });
});
