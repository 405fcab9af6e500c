//! The chat template and special tokens a GGUF file carries in its tokenizer metadata, and
//! the `tokenizer_config.json` / `generation_config.json` they make.

use super::file::GgufModel;
use flint_core::LoadError;
use serde_json::{Map, Value, json};

/// Special-token metadata keys, by the name transformers gives them.
const SPECIAL_TOKENS: &[(&str, &str)] = &[
    ("bos_token", "tokenizer.ggml.bos_token_id"),
    ("eos_token", "tokenizer.ggml.eos_token_id"),
    ("pad_token", "tokenizer.ggml.padding_token_id"),
    ("unk_token", "tokenizer.ggml.unknown_token_id"),
];

/// End-of-generation ids beside EOS: llama.cpp also stops at end-of-turn and end-of-message
/// tokens.
const EXTRA_EOG_KEYS: &[&str] = &["tokenizer.ggml.eot_token_id", "tokenizer.ggml.eom_token_id"];

/// `tokenizer.chat_template`, if the file has one.
pub fn chat_template(model: &GgufModel) -> Result<Option<String>, LoadError> {
    Ok(model
        .opt_str("tokenizer.chat_template")?
        .map(str::to_string))
}

/// The text of a special token (`"bos_token"`, `"eos_token"`, ...), empty when absent.
pub fn token_string(model: &GgufModel, name: &str) -> Result<String, LoadError> {
    let Some((_, key)) = SPECIAL_TOKENS.iter().find(|(n, _)| *n == name) else {
        return Ok(String::new());
    };
    Ok(model
        .token_text(key)?
        .map(|(_, text)| text.to_string())
        .unwrap_or_default())
}

/// Ids that end generation: EOS, then end-of-turn/end-of-message when present; sorted,
/// without duplicates.
pub fn eos_token_ids(model: &GgufModel) -> Result<Vec<u32>, LoadError> {
    let mut ids = Vec::new();
    for key in std::iter::once(&"tokenizer.ggml.eos_token_id").chain(EXTRA_EOG_KEYS) {
        if let Some((id, _)) = model.token_text(key)? {
            ids.push(id);
        }
    }
    ids.sort_unstable();
    ids.dedup();
    Ok(ids)
}

/// A transformers-style `tokenizer_config.json`: the chat template, the special-token
/// strings, whether BOS/EOS are added, and every added token.
pub fn tokenizer_config(
    model: &GgufModel,
    tokenizer: &tokenizers::Tokenizer,
) -> Result<Value, LoadError> {
    let mut c = Map::new();
    for which in ["bos", "eos"] {
        let add = model
            .opt_bool(&format!("tokenizer.ggml.add_{which}_token"))?
            .unwrap_or(false);
        c.insert(format!("add_{which}_token"), json!(add));
    }
    let mut added = Map::new();
    let mut decoder: Vec<(u32, Value)> = tokenizer
        .get_added_tokens_decoder()
        .into_iter()
        .map(|(id, t)| {
            let entry = json!({
                "content": t.content,
                "lstrip": t.lstrip,
                "normalized": t.normalized,
                "rstrip": t.rstrip,
                "single_word": t.single_word,
                "special": t.special,
            });
            (id, entry)
        })
        .collect();
    decoder.sort_by_key(|(id, _)| *id);
    for (id, entry) in decoder {
        added.insert(id.to_string(), entry);
    }
    c.insert("added_tokens_decoder".into(), Value::Object(added));
    for (name, key) in SPECIAL_TOKENS {
        let value = match model.token_text(key)? {
            Some((_, text)) => json!(text),
            None => Value::Null,
        };
        c.insert(name.to_string(), value);
    }
    c.insert(
        "chat_template".into(),
        chat_template(model)?.map_or(Value::Null, Value::String),
    );
    c.insert("clean_up_tokenization_spaces".into(), json!(false));
    if let Some(ctx) = model.opt_u32(&format!("{}.context_length", model.architecture_name()?))? {
        c.insert("model_max_length".into(), json!(ctx));
    }
    // The generic class that reads `tokenizer.json` as it is.
    c.insert("tokenizer_class".into(), json!("PreTrainedTokenizerFast"));
    Ok(Value::Object(c))
}

/// `generation_config.json`: the special-token ids (greedy decoding, as in the file's
/// absence of sampling settings).
pub fn generation_config(model: &GgufModel) -> Result<Value, LoadError> {
    let mut c = Map::new();
    if let Some(id) = model.opt_u32("tokenizer.ggml.bos_token_id")? {
        c.insert("bos_token_id".into(), json!(id));
    }
    match eos_token_ids(model)?.as_slice() {
        [] => {}
        [one] => {
            c.insert("eos_token_id".into(), json!(one));
        }
        many => {
            c.insert("eos_token_id".into(), json!(many));
        }
    }
    if let Some(id) = model.opt_u32("tokenizer.ggml.padding_token_id")? {
        c.insert("pad_token_id".into(), json!(id));
    }
    Ok(Value::Object(c))
}
