//! A Hugging Face `config.json`, synthesised from GGUF metadata, so the architecture
//! registry and the plugins read GGUF models exactly as they read safetensors ones.
//!
//! | config.json | GGUF metadata (`{arch}` = `general.architecture`) |
//! | --- | --- |
//! | `model_type`, `architectures` | `general.architecture` via [`super::conventions::ARCHITECTURES`] |
//! | `num_hidden_layers` | `{arch}.block_count` |
//! | `hidden_size` | `{arch}.embedding_length` |
//! | `intermediate_size` | `{arch}.feed_forward_length` |
//! | `num_attention_heads`, `num_key_value_heads` | `{arch}.attention.head_count`, `.head_count_kv` (default: head_count) |
//! | `head_dim` | `{arch}.attention.key_length` (default: hidden / heads); must equal `.rope.dimension_count` and `.attention.value_length` when present |
//! | `rms_norm_eps` | `{arch}.attention.layer_norm_rms_epsilon` |
//! | `rope_theta` | `{arch}.rope.freq_base` |
//! | `rope_scaling` | `{arch}.rope.scaling.type`, `.factor`, `.original_context_length` (or the older `.rope.scale_linear`) |
//! | `max_position_embeddings` | `{arch}.context_length` |
//! | `vocab_size` | length of `tokenizer.ggml.tokens` (else `{arch}.vocab_size`) |
//! | `tie_word_embeddings` | no `output.weight` tensor |
//! | `attention_bias`, `mlp_bias` | bias tensors present ([`super::conventions::PRESENCE_FLAGS`]) |
//! | `bos_token_id`, `eos_token_id`, `pad_token_id` | `tokenizer.ggml.bos_token_id`, `.eos_token_id`, `.padding_token_id` |
//! | `sliding_window` | `{arch}.attention.sliding_window` |
//! | `final_logit_softcapping`, `attn_logit_softcapping` | `{arch}.final_logit_softcapping`, `.attn_logit_softcapping` |
//! | anything else the architecture needs | [`GgufArchitecture::implied_config`](super::conventions::GgufArchitecture::implied_config) (what llama.cpp hard-codes) |
//!
//! GGUF stores most floats as f32: `1e-5` arrives as `9.99999974e-06`. They are written as
//! the shortest decimal that reads back as the same f32 (`1e-5`), which is what the
//! original `config.json` held.

use super::file::GgufModel;
use super::names::gguf_layer_suffix;
use flint_core::LoadError;
use flint_gguf::MetadataValue;
use serde_json::{Map, Value, json};

pub fn hf_config(model: &GgufModel) -> Result<Value, LoadError> {
    let conv = model.architecture()?;
    let arch = conv.gguf;
    let key = |suffix: &str| format!("{arch}.{suffix}");
    let mut c = Map::new();
    c.insert("model_type".into(), json!(conv.model_type));
    c.insert("architectures".into(), json!([conv.class_name]));

    let hidden = model.u32(&key("embedding_length"))?;
    let (heads, kv_heads) = model.head_counts()?;
    c.insert(
        "num_hidden_layers".into(),
        json!(model.u32(&key("block_count"))?),
    );
    c.insert("hidden_size".into(), json!(hidden));
    c.insert(
        "intermediate_size".into(),
        json!(model.u32(&key("feed_forward_length"))?),
    );
    c.insert("num_attention_heads".into(), json!(heads));
    c.insert("num_key_value_heads".into(), json!(kv_heads));
    if let Some(head_dim) = head_dim(model, arch, hidden as usize, heads)? {
        c.insert("head_dim".into(), json!(head_dim));
    }
    if let Some(eps) = short_float(model, &key("attention.layer_norm_rms_epsilon"))? {
        c.insert("rms_norm_eps".into(), json!(eps));
    }
    if let Some(theta) = short_float(model, &key("rope.freq_base"))? {
        c.insert("rope_theta".into(), json!(theta));
    }
    c.insert("rope_scaling".into(), rope_scaling(model, arch)?);
    if let Some(ctx) = model.opt_u32(&key("context_length"))? {
        c.insert("max_position_embeddings".into(), json!(ctx));
    }
    c.insert("vocab_size".into(), json!(vocab_size(model, arch)?));

    let tensors = model.file().tensors();
    let has_output = tensors.iter().any(|t| t.name() == "output.weight");
    c.insert("tie_word_embeddings".into(), json!(!has_output));
    for (flag, suffixes) in super::conventions::PRESENCE_FLAGS {
        let present = tensors
            .iter()
            .filter_map(|t| gguf_layer_suffix(t.name()))
            .any(|s| suffixes.contains(&s));
        c.insert(flag.to_string(), json!(present));
    }
    for (config_key, gguf_key) in [
        ("bos_token_id", "tokenizer.ggml.bos_token_id"),
        ("eos_token_id", "tokenizer.ggml.eos_token_id"),
        ("pad_token_id", "tokenizer.ggml.padding_token_id"),
    ] {
        if let Some(id) = model.opt_u32(gguf_key)? {
            c.insert(config_key.into(), json!(id));
        }
    }
    if let Some(window) = model.opt_u32(&key("attention.sliding_window"))? {
        c.insert("sliding_window".into(), json!(window));
    }
    for name in ["final_logit_softcapping", "attn_logit_softcapping"] {
        if let Some(cap) = short_float(model, &key(name))? {
            c.insert(name.into(), json!(cap));
        }
    }
    let implied: Map<String, Value> = serde_json::from_str(conv.implied_config)
        .expect("the implied_config of every conventions row is a JSON object");
    for (k, v) in implied {
        c.entry(k).or_insert(v);
    }
    Ok(Value::Object(c))
}

/// `attention.key_length`, else `hidden / heads`. flint's attention has one head size for
/// Q, K, V and RoPE over the whole head, so a file that says otherwise is refused here.
fn head_dim(
    model: &GgufModel,
    arch: &str,
    hidden: usize,
    heads: usize,
) -> Result<Option<usize>, LoadError> {
    let key_length = model.opt_u32(&format!("{arch}.attention.key_length"))?;
    let head_dim = match key_length {
        Some(k) => k as usize,
        None if heads > 0 && hidden.is_multiple_of(heads) => hidden / heads,
        // Let the plugin's own validation name the bad key.
        None => return Ok(None),
    };
    for suffix in ["attention.value_length", "rope.dimension_count"] {
        let key = format!("{arch}.{suffix}");
        if let Some(v) = model.opt_u32(&key)?
            && v as usize != head_dim
        {
            return Err(LoadError::config(
                model.path(),
                &key,
                format!(
                    "{v} differs from the head size {head_dim}: partial rotary embeddings and \
                     unequal key/value head sizes are not supported"
                ),
            ));
        }
    }
    Ok(Some(head_dim))
}

fn vocab_size(model: &GgufModel, arch: &str) -> Result<usize, LoadError> {
    if model.file().get("tokenizer.ggml.tokens").is_some() {
        return Ok(model.str_array("tokenizer.ggml.tokens")?.len());
    }
    Ok(model.u32(&format!("{arch}.vocab_size"))? as usize)
}

/// `rope_scaling` in transformers' form, or `null`.
fn rope_scaling(model: &GgufModel, arch: &str) -> Result<Value, LoadError> {
    let key = |suffix: &str| format!("{arch}.rope.{suffix}");
    let kind = model.opt_str(&key("scaling.type"))?;
    let factor = short_float(model, &key("scaling.factor"))?;
    let original = model.opt_u32(&key("scaling.original_context_length"))?;
    let legacy_linear = short_float(model, &key("scale_linear"))?;
    let scaling = match (kind, legacy_linear) {
        (None | Some("none"), None) => return Ok(Value::Null),
        (None | Some("none"), Some(factor)) => json!({"rope_type": "linear", "factor": factor}),
        (Some(kind), _) => {
            let mut s = Map::new();
            s.insert("rope_type".into(), json!(kind));
            if let Some(f) = factor {
                s.insert("factor".into(), json!(f));
            }
            if let Some(o) = original {
                s.insert("original_max_position_embeddings".into(), json!(o));
            }
            Value::Object(s)
        }
    };
    Ok(scaling)
}

/// A float metadata value; an f32 is given as the shortest decimal that reads back as it.
fn short_float(model: &GgufModel, key: &str) -> Result<Option<f64>, LoadError> {
    match model.file().get(key) {
        Some(MetadataValue::F32(v)) => Ok(Some(shortest_f32(*v))),
        _ => model.opt_f64(key),
    }
}

fn shortest_f32(v: f32) -> f64 {
    // Rust prints the shortest representation that round-trips through f32.
    v.to_string().parse().unwrap_or(v as f64)
}

#[cfg(test)]
mod tests {
    use super::shortest_f32;

    #[test]
    fn f32_metadata_becomes_the_decimal_it_was_written_from() {
        assert_eq!(shortest_f32(1e-5f32), 1e-5);
        assert_eq!(shortest_f32(100000.0), 100000.0);
        assert_eq!(shortest_f32(1e-6f32), 1e-6);
        assert_eq!(shortest_f32(0.1f32), 0.1);
    }
}
