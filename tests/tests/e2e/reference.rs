//! The real SmolLM2-135M weights against the independent numpy reference: same prompt ids,
//! same greedy tokens, last-prompt-position logits within 1e-3, for the single-file bf16,
//! the sharded bf16 and the f32 copy, on both CPU backends.

use flint_core::Backend;
use flint_loader::{ChatMessage, ChatTemplate, TextTokenizer, eos_token_ids, load_model};
use flint_tests::{EXPECTED, ReferenceCase, argmax, reference_cases, smollm2};
use std::path::Path;

const LOGIT_TOLERANCE: f32 = 1e-3;

fn check_directory(dir_name: &str, backend: Backend) {
    check_model(
        &smollm2().join(dir_name),
        &reference_cases(EXPECTED),
        backend,
        LOGIT_TOLERANCE,
    );
}

/// Runs every reference case on the model at `path` (a directory or a GGUF file): prompt
/// ids and rendered chat prompts must be equal, last-prompt-position logits within
/// `tolerance`, and greedy generation (stopping at the model's EOS ids, as the reference
/// does) must produce the reference's tokens exactly.
pub(crate) fn check_model(path: &Path, cases: &[ReferenceCase], backend: Backend, tolerance: f32) {
    let label = path.file_name().unwrap().to_string_lossy().into_owned();
    let mut loaded = load_model(path, backend).unwrap();
    let tokenizer = TextTokenizer::from_model_path(path).unwrap();
    let template = ChatTemplate::from_model_path(path).unwrap();
    let eos = eos_token_ids(path).unwrap();
    assert!(!cases.is_empty());
    for case in cases {
        let ids = match (&case.prompt, &case.messages) {
            (Some(prompt), _) => tokenizer.encode(prompt, true).unwrap(),
            (None, Some(messages)) => {
                let messages: Vec<ChatMessage> = serde_json::from_value(messages.clone()).unwrap();
                let template = template.as_ref().expect("chat cases need a chat template");
                let text = template.render(&messages).unwrap();
                assert_eq!(
                    text, case.prompt_text,
                    "{}: rendered chat prompt",
                    case.name
                );
                tokenizer.encode(&text, false).unwrap()
            }
            _ => panic!("{}: neither prompt nor messages", case.name),
        };
        assert_eq!(ids, case.prompt_ids, "{}: prompt token ids", case.name);

        let model = &mut loaded.model;
        model.reset();
        let logits = model.forward(&ids);
        let worst = logits
            .iter()
            .zip(&case.prompt_logits)
            .map(|(a, b)| (a - b).abs())
            .fold(0f32, f32::max);
        assert!(
            worst <= tolerance,
            "{label}/{backend}/{}: max |logit diff| {worst} > {tolerance}",
            case.name
        );

        let mut generated = Vec::new();
        let mut next = argmax(&logits);
        while generated.len() < case.max_new_tokens && !eos.contains(&next) {
            generated.push(next);
            next = argmax(&model.forward(&[next]));
        }
        assert_eq!(
            generated, case.generated_ids,
            "{label}/{backend}/{}: greedy tokens (reference text {:?})",
            case.name, case.generated_text
        );
    }
}

#[test]
fn bf16_single_file_flex() {
    check_directory("hf-bf16", Backend::Flex);
}

#[test]
fn bf16_single_file_ndarray() {
    check_directory("hf-bf16", Backend::NdArray);
}

#[test]
fn bf16_sharded_flex() {
    check_directory("hf-bf16-sharded", Backend::Flex);
}

#[test]
fn bf16_sharded_ndarray() {
    check_directory("hf-bf16-sharded", Backend::NdArray);
}

#[test]
fn f32_zero_copy_flex() {
    check_directory("hf-f32", Backend::Flex);
}

#[test]
fn f32_ndarray() {
    check_directory("hf-f32", Backend::NdArray);
}
