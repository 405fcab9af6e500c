//! GGUF files through the same load path as safetensors.
//!
//! - The real SmolLM2 Q4_1 GGUF, loaded directly, against the numpy reference run on the
//!   same dequantized weights (`hf-f32-exact`): same prompt ids, same greedy tokens, logits
//!   within 1e-3; bit-identical logits to its own f32 conversion; its converted tokenizer
//!   against the reference ids.
//! - Tiny GGUFs written by the test: the loader undoes llama.cpp's Q/K permutation (same
//!   logits as the safetensors checkpoint holding the same values); a SentencePiece
//!   vocabulary; bad files give errors naming the file and the key or tensor.

use crate::reference::check_model;
use flint_core::{Backend, LoadError};
use flint_loader::{
    ChatTemplate, FloatDtype, TextTokenizer, convert_gguf, eos_token_ids, load_model,
};
use flint_tests::smollm2_gguf;
use flint_tests::tiny::{self, Meta};
use std::path::Path;

/// The strict proof: the numpy reference run on the GGUF's dequantized weights *unrounded*
/// (`hf-f32-exact`, dequantized by the PyPI `gguf` package, un-permuted by the fixture
/// script): the direct GGUF path must give its greedy tokens exactly and its logits within
/// 1e-3, as the safetensors directories do against theirs.
#[test]
fn smollm2_gguf_matches_the_exact_reference() {
    for backend in Backend::ALL {
        check_model(
            &smollm2_gguf(),
            &flint_tests::reference_cases(flint_tests::EXPECTED_EXACT),
            backend,
            1e-3,
        );
    }
}

/// The direct GGUF path and its f32 conversion hold the very same weights: loading either
/// gives bit-identical logits.
#[test]
fn smollm2_gguf_equals_its_f32_conversion_bit_for_bit() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("f32");
    convert_gguf(&smollm2_gguf(), &dir, FloatDtype::F32).unwrap();
    let prompt = [504, 3575, 282, 4649, 314];
    for backend in Backend::ALL {
        let mut gguf = load_model(&smollm2_gguf(), backend).unwrap().model;
        let mut st = load_model(&dir, backend).unwrap().model;
        let (mut a, mut b) = (gguf.forward(&prompt), st.forward(&prompt));
        for _ in 0..3 {
            assert_eq!(a, b, "{backend}");
            let next = flint_tests::argmax(&a);
            (a, b) = (gguf.forward(&[next]), st.forward(&[next]));
        }
    }
}

/// `convert_gguf`'s `tokenizer.json` and `tokenizer_config.json` (as `flint convert` writes
/// them) encode every reference prompt, raw or rendered chat, to the reference's ids.
#[test]
fn converted_tokenizer_encodes_the_reference_prompts() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("hf");
    convert_gguf(&smollm2_gguf(), &dir, FloatDtype::BF16).unwrap();
    let tokenizer = TextTokenizer::from_dir(&dir).unwrap();
    let template = ChatTemplate::from_dir(&dir).unwrap().unwrap();
    for case in flint_tests::reference_cases(flint_tests::EXPECTED) {
        let ids = match (&case.prompt, &case.messages) {
            (Some(prompt), _) => tokenizer.encode(prompt, true).unwrap(),
            (None, Some(messages)) => {
                let messages: Vec<flint_loader::ChatMessage> =
                    serde_json::from_value(messages.clone()).unwrap();
                let text = template.render(&messages).unwrap();
                assert_eq!(text, case.prompt_text, "{}", case.name);
                tokenizer.encode(&text, false).unwrap()
            }
            _ => unreachable!(),
        };
        assert_eq!(ids, case.prompt_ids, "{}", case.name);
    }
    assert_eq!(eos_token_ids(&dir).unwrap(), vec![2]);
}

#[test]
fn smollm2_gguf_metadata_gives_eos_template_strings_and_tokenizer() {
    let path = smollm2_gguf();
    assert_eq!(eos_token_ids(&path).unwrap(), vec![2]);
    let tokenizer = TextTokenizer::from_model_path(&path).unwrap();
    // Digits split one by one (the `smollm` pre-tokenizer), no BOS on raw prompts.
    let ids = tokenizer.encode("12345", true).unwrap();
    assert_eq!(ids.len(), 5);
    assert_eq!(tokenizer.decode(&ids).unwrap(), "12345");
    let text = "Café 12345 日本語\n  indented\tcode() {}";
    assert_eq!(
        tokenizer
            .decode(&tokenizer.encode(text, true).unwrap())
            .unwrap(),
        text
    );
    let chat = tokenizer
        .encode("<|im_start|>user\nHi<|im_end|>", false)
        .unwrap();
    assert_eq!((chat[0], *chat.last().unwrap()), (1, 2));
    let template = ChatTemplate::from_model_path(&path).unwrap().unwrap();
    let prompt = template
        .render(&[flint_loader::ChatMessage {
            role: "user".into(),
            content: "Hi".into(),
        }])
        .unwrap();
    assert!(prompt.ends_with("<|im_start|>assistant\n"), "{prompt}");
}

// ---------------------------------------------------------------- tiny files

fn write_tiny_gguf(path: &Path, arch: &str, permute: bool) {
    tiny::write_gguf(
        path,
        &tiny::gguf_metadata(arch),
        &tiny::gguf_tensors(permute),
    );
}

fn load_err(path: &Path) -> LoadError {
    match load_model(path, Backend::Flex) {
        Ok(_) => panic!("{} loaded but should not", path.display()),
        Err(e) => e,
    }
}

#[test]
fn permuted_qk_are_restored_to_the_hugging_face_layout() {
    let tmp = tempfile::tempdir().unwrap();
    let st = tmp.path().join("st");
    tiny::write(&st, &tiny::config(), &tiny::tensor_shapes());
    let gguf = tmp.path().join("tiny.gguf");
    write_tiny_gguf(&gguf, "llama", true);
    let tokens = [1, 5, 9, 3];
    for backend in Backend::ALL {
        let expected = load_model(&st, backend).unwrap().model.forward(&tokens);
        let got = load_model(&gguf, backend).unwrap().model.forward(&tokens);
        assert_eq!(got, expected, "{backend}: same weights, same logits");
    }
    // The test can tell: the same rows left in llama.cpp's order give other logits.
    let unpermuted = tmp.path().join("unpermuted.gguf");
    write_tiny_gguf(&unpermuted, "llama", false);
    let expected = load_model(&st, Backend::Flex)
        .unwrap()
        .model
        .forward(&tokens);
    let wrong = load_model(&unpermuted, Backend::Flex)
        .unwrap()
        .model
        .forward(&tokens);
    assert_ne!(wrong, expected);
}

#[test]
fn a_file_without_the_gguf_extension_is_recognised_by_its_magic() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("model.bin");
    write_tiny_gguf(&path, "llama", true);
    let mut loaded = load_model(&path, Backend::Flex).unwrap();
    assert_eq!(loaded.model.forward(&[1, 2]).len(), tiny::VOCAB);
}

#[test]
fn truncated_gguf_names_the_file() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("tiny.gguf");
    write_tiny_gguf(&path, "llama", true);
    let bytes = std::fs::read(&path).unwrap();
    for cut in [0, 3, 30, bytes.len() / 3, bytes.len() - 1] {
        std::fs::write(&path, &bytes[..cut]).unwrap();
        let err = load_err(&path);
        assert!(
            matches!(err, LoadError::Truncated { .. }),
            "cut {cut}: {err:?}"
        );
        assert!(err.to_string().contains("tiny.gguf"), "{err}");
    }
}

#[test]
fn unknown_general_architecture_names_the_file_and_key() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("tiny.gguf");
    write_tiny_gguf(&path, "mamba9000", true);
    let err = load_err(&path);
    let msg = err.to_string();
    assert!(matches!(err, LoadError::Config { .. }), "{err:?}");
    assert!(
        msg.contains("tiny.gguf")
            && msg.contains("general.architecture")
            && msg.contains("mamba9000"),
        "{msg}"
    );
    // Known to the GGUF conventions but claimed by no plugin: the registry says so.
    write_tiny_gguf(&path, "qwen2", false);
    let err = load_err(&path);
    assert!(
        matches!(err, LoadError::UnknownArchitecture { .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("tiny.gguf"), "{err}");
}

#[test]
fn missing_metadata_key_is_named() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("tiny.gguf");
    let mut metadata = tiny::gguf_metadata("llama");
    metadata.retain(|(k, _)| k != "llama.embedding_length");
    tiny::write_gguf(&path, &metadata, &tiny::gguf_tensors(true));
    let err = load_err(&path);
    let msg = err.to_string();
    assert!(
        msg.contains("tiny.gguf") && msg.contains("llama.embedding_length"),
        "{msg}"
    );
}

#[test]
fn unused_tensors_are_reported_unless_derived() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("tiny.gguf");
    let mut tensors = tiny::gguf_tensors(true);
    // RoPE inverse frequencies are recomputed from rope.freq_base: ignorable.
    tensors.push((
        "blk.0.attn_rot_embd.weight".into(),
        vec![2],
        vec![1.0, 0.01],
    ));
    tiny::write_gguf(&path, &tiny::gguf_metadata("llama"), &tensors);
    load_model(&path, Backend::Flex).unwrap();
    // Per-frequency RoPE factors change the model: never silently dropped.
    tensors.push(("rope_freqs.weight".into(), vec![2], vec![1.0, 8.0]));
    tiny::write_gguf(&path, &tiny::gguf_metadata("llama"), &tensors);
    let err = load_err(&path);
    assert!(
        matches!(err, LoadError::UnexpectedTensors { .. }),
        "{err:?}"
    );
    let msg = err.to_string();
    assert!(
        msg.contains("tiny.gguf") && msg.contains("rope_freqs.weight"),
        "{msg}"
    );
    assert!(!msg.contains("attn_rot_embd"), "{msg}");
}

#[test]
fn wrong_shape_and_missing_tensor_name_the_gguf_tensor() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("tiny.gguf");
    let mut tensors = tiny::gguf_tensors(true);
    let v = tensors
        .iter_mut()
        .find(|(n, _, _)| n == "blk.1.attn_v.weight")
        .unwrap();
    v.1 = vec![tiny::HIDDEN, tiny::HIDDEN / tiny::HEADS / 2];
    v.2.truncate(tiny::HIDDEN * tiny::HIDDEN / tiny::HEADS / 2);
    tiny::write_gguf(&path, &tiny::gguf_metadata("llama"), &tensors);
    let err = load_err(&path);
    assert!(matches!(err, LoadError::ShapeMismatch { .. }), "{err:?}");
    assert!(err.to_string().contains("blk.1.attn_v.weight"), "{err}");

    let tensors: Vec<_> = tiny::gguf_tensors(true)
        .into_iter()
        .filter(|(n, _, _)| n != "output_norm.weight")
        .collect();
    tiny::write_gguf(&path, &tiny::gguf_metadata("llama"), &tensors);
    let err = load_err(&path);
    assert!(matches!(err, LoadError::MissingTensors { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(
        msg.contains("tiny.gguf")
            && msg.contains("model.norm.weight")
            && msg.contains("output_norm.weight"),
        "{msg}"
    );
}

/// A SentencePiece (`llama`) vocabulary: `<unk> <s> </s>`, the 256 byte tokens, then
/// pieces whose scores rank the merges.
fn write_sentencepiece_gguf(path: &Path, extra: Vec<(String, Meta)>) {
    let mut tokens: Vec<String> = vec!["<unk>".into(), "<s>".into(), "</s>".into()];
    let mut types = vec![2, 3, 3];
    let mut scores = vec![0.0, 0.0, 0.0];
    for b in 0..=255u8 {
        tokens.push(format!("<0x{b:02X}>"));
        types.push(6);
        scores.push(0.0);
    }
    let pieces = [
        ("\u{2581}", -100.0),
        ("h", -100.0),
        ("e", -100.0),
        ("l", -100.0),
        ("o", -100.0),
        ("\u{2581}h", -1.0),
        ("he", -2.0),
        ("ll", -3.0),
        ("lo", -4.0),
        ("\u{2581}he", -5.0),
        ("llo", -6.0),
        ("\u{2581}hello", -7.0),
        ("hello", -8.0),
    ];
    for (piece, score) in pieces {
        tokens.push(piece.to_string());
        types.push(1);
        scores.push(score);
    }
    let mut metadata = vec![
        (
            "general.architecture".to_string(),
            Meta::Str("llama".into()),
        ),
        (
            "tokenizer.ggml.model".to_string(),
            Meta::Str("llama".into()),
        ),
        ("tokenizer.ggml.tokens".to_string(), Meta::Strs(tokens)),
        ("tokenizer.ggml.token_type".to_string(), Meta::I32s(types)),
        ("tokenizer.ggml.scores".to_string(), Meta::F32s(scores)),
        ("tokenizer.ggml.unknown_token_id".to_string(), Meta::U32(0)),
        ("tokenizer.ggml.bos_token_id".to_string(), Meta::U32(1)),
        ("tokenizer.ggml.eos_token_id".to_string(), Meta::U32(2)),
    ];
    metadata.extend(extra);
    tiny::write_gguf(path, &metadata, &[]);
}

#[test]
fn sentencepiece_vocabulary_tokenizes_like_llama_cpp() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("spm.gguf");
    write_sentencepiece_gguf(&path, vec![]);
    let tok = TextTokenizer::from_model_path(&path).unwrap();
    let id = |t: &str| tok.token_to_id(t).unwrap();
    let hello = id("\u{2581}hello");
    // BOS by default; a space prefix; merges ranked by score.
    assert_eq!(tok.encode("hello", true).unwrap(), vec![1, hello]);
    assert_eq!(
        tok.encode("hello hello", false).unwrap(),
        vec![hello, hello]
    );
    // Unknown characters fall back to their UTF-8 bytes, and decode back.
    let ids = tok.encode("hé", false).unwrap();
    assert_eq!(ids, vec![id("\u{2581}h"), id("<0xC3>"), id("<0xA9>")]);
    assert_eq!(tok.decode(&ids).unwrap(), "hé");
    // Special tokens are matched whole, and the text after one gets its space prefix.
    assert_eq!(tok.encode("<s>hello", false).unwrap(), vec![1, hello]);
    assert_eq!(tok.decode(&[1, hello, 2]).unwrap(), "hello");

    // add_bos_token false and no space prefix, as the file says.
    write_sentencepiece_gguf(
        &path,
        vec![
            ("tokenizer.ggml.add_bos_token".into(), Meta::Bool(false)),
            ("tokenizer.ggml.add_space_prefix".into(), Meta::Bool(false)),
        ],
    );
    let tok = TextTokenizer::from_model_path(&path).unwrap();
    assert_eq!(tok.encode("hello", true).unwrap(), vec![id("hello")]);
}

#[test]
fn unknown_tokenizer_model_or_pre_tokenizer_is_a_clear_error() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("tiny.gguf");
    for (key, value, expected) in [
        ("tokenizer.ggml.model", "bert", "tokenizer.ggml.model"),
        ("tokenizer.ggml.pre", "klingon", "tokenizer.ggml.pre"),
    ] {
        let mut metadata = tiny::gguf_metadata("llama");
        for (k, v) in &mut metadata {
            if k == key {
                *v = Meta::Str(value.into());
            }
        }
        tiny::write_gguf(&path, &metadata, &tiny::gguf_tensors(true));
        // The weights load; only the tokenizer is refused, naming the file and key.
        load_model(&path, Backend::Flex).unwrap();
        let err = match TextTokenizer::from_model_path(&path) {
            Ok(_) => panic!("{key} = {value} was accepted"),
            Err(e) => e.to_string(),
        };
        assert!(
            err.contains("tiny.gguf") && err.contains(expected) && err.contains(value),
            "{err}"
        );
    }
}
