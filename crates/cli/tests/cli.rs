//! The `flint` binary's contract: stdout holds only the generated text (or one JSON object),
//! diagnostics go to stderr, bad input exits non-zero with nothing on stdout.

use flint_tests::{smollm2, tiny};
use std::process::{Command, Output};

fn flint(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_flint"))
        .args(args)
        .output()
        .expect("flint runs")
}

#[test]
fn generate_continues_the_capital_of_france_with_paris() {
    let model = smollm2().join("hf-bf16");
    let out = flint(&[
        "generate",
        "--model",
        model.to_str().unwrap(),
        "--prompt",
        "The capital of France is",
        "--max-new-tokens",
        "3",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(stdout.starts_with(" Paris."), "stdout: {stdout:?}");
    // Only the text: the statistics line is on stderr.
    assert!(!stdout.contains("tok/s"));
    assert!(String::from_utf8_lossy(&out.stderr).contains("tok/s"));
}

#[test]
fn generate_json_with_chat_messages_stops_at_eos() {
    let model = smollm2().join("hf-bf16-sharded");
    let tmp = tempfile::tempdir().unwrap();
    let messages = tmp.path().join("chat.json");
    std::fs::write(
        &messages,
        r#"[{"role": "user", "content": "What is the capital of France?"}]"#,
    )
    .unwrap();
    let out = flint(&[
        "generate",
        "--model",
        model.to_str().unwrap(),
        "--messages",
        messages.to_str().unwrap(),
        "--json",
        "--backend",
        "ndarray",
        "--max-new-tokens",
        "40",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON object");
    let text = json["text"].as_str().unwrap();
    assert!(text.contains("Paris"), "{text}");
    assert_eq!(json["finish_reason"], "eos");
    let tokens = json["tokens"].as_array().unwrap();
    assert!(
        !tokens.is_empty() && !tokens.contains(&serde_json::json!(2)),
        "EOS not in tokens"
    );
    assert!(
        json["prompt_tokens"].as_u64().unwrap() > 20,
        "default system prompt inserted"
    );
    for key in ["load_ms", "prefill_tokens_per_s", "decode_tokens_per_s"] {
        assert!(json["timings"][key].as_f64().unwrap() > 0.0, "{key}");
    }
}

#[test]
fn bad_model_exits_non_zero_with_empty_stdout() {
    let tmp = tempfile::tempdir().unwrap();
    tiny::write(tmp.path(), &tiny::config(), &tiny::tensor_shapes());
    let weights = tmp.path().join("model.safetensors");
    let bytes = std::fs::read(&weights).unwrap();
    std::fs::write(&weights, &bytes[..bytes.len() / 2]).unwrap();
    let out = flint(&[
        "generate",
        "--model",
        tmp.path().to_str().unwrap(),
        "--prompt",
        "hi",
    ]);
    assert!(!out.status.success());
    assert!(out.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("model.safetensors") && stderr.contains("truncated"),
        "{stderr}"
    );
}

#[test]
fn inspect_reads_headers_and_totals() {
    let model = smollm2().join("hf-bf16-sharded");
    let out = flint(&["inspect", model.to_str().unwrap(), "--json"]);
    assert!(out.status.success());
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["total_tensors"], 272);
    assert_eq!(json["total_parameters"], 134_515_008u64);
    assert_eq!(json["total_bytes"], 269_030_016u64);
}

#[test]
fn models_lists_llama() {
    let out = flint(&["models"]);
    assert!(out.status.success());
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        stdout
            .lines()
            .any(|l| l.starts_with("llama") && l.contains("LlamaForCausalLM"))
    );
}
