//! A `tokenizers::Tokenizer` built from GGUF tokenizer metadata, equal to the Hugging Face
//! `tokenizer.json` the GGUF was converted from.
//!
//! Supported `tokenizer.ggml.model` values:
//! - `gpt2`: byte-level BPE from `tokenizer.ggml.tokens` (ids are positions) and
//!   `tokenizer.ggml.merges` (rank order, `"left right"`). Control tokens (`token_type` 3)
//!   become special added tokens, user-defined ones (4) plain added tokens. The
//!   pre-tokenizer follows `tokenizer.ggml.pre` (see [`PRE_TOKENIZERS`]); the decoder is
//!   byte-level.
//! - `llama`: SentencePiece BPE with byte fallback, see [`super::sentencepiece`].
//!
//! Any other value is an error naming the file and key. A BOS (EOS) token is added to raw
//! prompts when `tokenizer.ggml.add_bos_token` (`add_eos_token`) is true; when the key is
//! absent, BOS is added for `llama` (llama.cpp's default) and not for `gpt2`.

use super::file::GgufModel;
use flint_core::LoadError;
use flint_gguf::MetadataArray;
use std::collections::HashSet;
use tokenizers::models::bpe::{BPE, Vocab};
use tokenizers::normalizers::unicode::NFC;
use tokenizers::pre_tokenizers::byte_level::ByteLevel;
use tokenizers::pre_tokenizers::digits::Digits;
use tokenizers::pre_tokenizers::sequence::Sequence;
use tokenizers::pre_tokenizers::split::{Split, SplitPattern};
use tokenizers::processors::sequence::Sequence as ProcessorSequence;
use tokenizers::processors::template::TemplateProcessing;
use tokenizers::{
    AddedToken, PostProcessorWrapper, PreTokenizerWrapper, SplitDelimiterBehavior, Tokenizer,
};

/// llama.cpp's `llama_token_type`.
const TOKEN_CONTROL: i64 = 3;
const TOKEN_USER_DEFINED: i64 = 4;

/// The split regexes of Llama 3 and Qwen 2 tokenizers (their `tokenizer.json` `Split`).
const LLAMA3_REGEX: &str = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";
const QWEN2_REGEX: &str = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

/// How a `tokenizer.ggml.pre` value splits text before BPE, in `tokenizers` terms (the same
/// splits llama.cpp's `llama-vocab.cpp` applies for that value).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PreTokenizer {
    /// GPT-2's regex alone.
    Gpt2,
    /// Every digit on its own (`\p{N}`), then GPT-2's regex.
    DigitsThenGpt2,
    /// Llama 3's regex (numbers in groups of up to three).
    Llama3,
    /// Qwen 2's regex (single digits), after NFC normalisation.
    Qwen2,
}

/// Supported `tokenizer.ggml.pre` values.
const PRE_TOKENIZERS: &[(&str, PreTokenizer)] = &[
    ("gpt-2", PreTokenizer::Gpt2),
    ("smollm", PreTokenizer::DigitsThenGpt2),
    ("starcoder", PreTokenizer::DigitsThenGpt2),
    ("refact", PreTokenizer::DigitsThenGpt2),
    ("llama-bpe", PreTokenizer::Llama3),
    ("llama3", PreTokenizer::Llama3),
    ("qwen2", PreTokenizer::Qwen2),
];

pub fn build_tokenizer(model: &GgufModel) -> Result<Tokenizer, LoadError> {
    let kind = model.str("tokenizer.ggml.model")?;
    let tokens = model.str_array("tokenizer.ggml.tokens")?;
    let byte_level = match kind {
        "gpt2" => true,
        "llama" => false,
        other => {
            return Err(LoadError::config(
                model.path(),
                "tokenizer.ggml.model",
                format!("unsupported tokenizer model `{other}` (supported: gpt2, llama)"),
            ));
        }
    };
    check_unique(model, tokens)?;
    let mut tokenizer = if byte_level {
        byte_level_bpe(model, tokens)?
    } else {
        super::sentencepiece::sentencepiece_tokenizer(model, tokens)?
    };
    tokenizer.with_post_processor(post_processor(model, byte_level)?);

    // Control tokens are special (skipped when decoding); user-defined ones are matched
    // whole, like llama.cpp does, but decoded as text.
    let types = token_types(model, tokens.len())?;
    let added: Vec<AddedToken> = tokens
        .iter()
        .zip(&types)
        .filter(|(_, t)| matches!(**t, TOKEN_CONTROL | TOKEN_USER_DEFINED))
        .map(|(text, t)| {
            AddedToken::from(text.clone(), *t == TOKEN_CONTROL)
                .normalized(false)
                .lstrip(false)
                .rstrip(false)
                .single_word(false)
        })
        .collect();
    tokenizer.add_special_tokens(&added);
    Ok(tokenizer)
}

/// Ids are positions in `tokenizer.ggml.tokens`, so a string may appear only once.
fn check_unique(model: &GgufModel, tokens: &[String]) -> Result<(), LoadError> {
    let mut seen = HashSet::with_capacity(tokens.len());
    for (id, token) in tokens.iter().enumerate() {
        if !seen.insert(token.as_str()) {
            return Err(LoadError::config(
                model.path(),
                "tokenizer.ggml.tokens",
                format!("token {token:?} appears twice (second time as id {id})"),
            ));
        }
    }
    Ok(())
}

/// `tokenizer.ggml.merges`: `"left right"` pairs in rank order.
pub(super) fn read_merges(model: &GgufModel) -> Result<Vec<(String, String)>, LoadError> {
    model
        .str_array("tokenizer.ggml.merges")?
        .iter()
        .enumerate()
        .map(|(rank, m)| {
            m.split_once(' ')
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .ok_or_else(|| {
                    LoadError::config(
                        model.path(),
                        "tokenizer.ggml.merges",
                        format!("merge #{rank} {m:?} is not two tokens separated by a space"),
                    )
                })
        })
        .collect()
}

fn byte_level_bpe(model: &GgufModel, tokens: &[String]) -> Result<Tokenizer, LoadError> {
    let path = model.path();
    let vocab: Vocab = tokens
        .iter()
        .enumerate()
        .map(|(id, t)| (t.clone(), id as u32))
        .collect();
    let bpe = BPE::builder()
        .vocab_and_merges(vocab, read_merges(model)?)
        .fuse_unk(false)
        .byte_fallback(false)
        .build()
        .map_err(|e| LoadError::Tokenizer {
            path: path.to_path_buf(),
            message: format!("building the BPE model from tokenizer.ggml.merges: {e}"),
        })?;

    let mut tokenizer = Tokenizer::new(bpe);
    let pre = pre_tokenizer(model)?;
    if pre == PreTokenizer::Qwen2 {
        tokenizer.with_normalizer(Some(NFC));
    }
    tokenizer.with_pre_tokenizer(Some(pre_tokenizer_wrapper(pre, path)?));
    tokenizer.with_decoder(Some(ByteLevel::new(true, true, true)));
    Ok(tokenizer)
}

/// `tokenizer.ggml.token_type`, one integer per token (all "normal" when absent).
fn token_types(model: &GgufModel, n: usize) -> Result<Vec<i64>, LoadError> {
    let key = "tokenizer.ggml.token_type";
    if model.file().get(key).is_none() {
        return Ok(vec![1; n]);
    }
    let array = model.file().get_array(key).map_err(|e| model.error(e))?;
    let types: Option<Vec<i64>> = match array {
        MetadataArray::I32(v) => Some(v.iter().map(|&t| t.into()).collect()),
        MetadataArray::U32(v) => Some(v.iter().map(|&t| t.into()).collect()),
        MetadataArray::I8(v) => Some(v.iter().map(|&t| t.into()).collect()),
        MetadataArray::U8(v) => Some(v.iter().map(|&t| t.into()).collect()),
        _ => None,
    };
    match types {
        Some(t) if t.len() == n => Ok(t),
        Some(t) => Err(LoadError::config(
            model.path(),
            key,
            format!("{} entries for {n} tokens", t.len()),
        )),
        None => Err(LoadError::config(
            model.path(),
            key,
            format!(
                "array of {} where integers are expected",
                array.element_type_name()
            ),
        )),
    }
}

fn pre_tokenizer(model: &GgufModel) -> Result<PreTokenizer, LoadError> {
    let key = "tokenizer.ggml.pre";
    let Some(pre) = model.opt_str(key)? else {
        return Err(LoadError::config(
            model.path(),
            key,
            "missing: the pre-tokenizer of a gpt2 tokenizer cannot be guessed",
        ));
    };
    PRE_TOKENIZERS
        .iter()
        .find(|(name, _)| *name == pre)
        .map(|(_, p)| *p)
        .ok_or_else(|| {
            let known: Vec<&str> = PRE_TOKENIZERS.iter().map(|(n, _)| *n).collect();
            LoadError::config(
                model.path(),
                key,
                format!(
                    "unsupported pre-tokenizer `{pre}` (supported: {})",
                    known.join(", ")
                ),
            )
        })
}

fn pre_tokenizer_wrapper(
    pre: PreTokenizer,
    path: &std::path::Path,
) -> Result<PreTokenizerWrapper, LoadError> {
    let split = |regex: &str| {
        Split::new(
            SplitPattern::Regex(regex.to_string()),
            SplitDelimiterBehavior::Isolated,
            false,
        )
        .map_err(|e| LoadError::Tokenizer {
            path: path.to_path_buf(),
            message: format!("pre-tokenizer regex: {e}"),
        })
    };
    Ok(match pre {
        PreTokenizer::Gpt2 => ByteLevel::new(false, true, true).into(),
        PreTokenizer::DigitsThenGpt2 => Sequence::new(vec![
            Digits::new(true).into(),
            ByteLevel::new(false, true, true).into(),
        ])
        .into(),
        PreTokenizer::Llama3 => Sequence::new(vec![
            split(LLAMA3_REGEX)?.into(),
            ByteLevel::new(false, true, false).into(),
        ])
        .into(),
        PreTokenizer::Qwen2 => Sequence::new(vec![
            split(QWEN2_REGEX)?.into(),
            ByteLevel::new(false, false, false).into(),
        ])
        .into(),
    })
}

/// Byte-level offsets (for byte-level BPE), plus BOS/EOS around raw prompts when the file
/// asks for them.
fn post_processor(
    model: &GgufModel,
    byte_level: bool,
) -> Result<Option<PostProcessorWrapper>, LoadError> {
    let mut processors: Vec<PostProcessorWrapper> = Vec::new();
    if byte_level {
        processors.push(ByteLevel::new(true, false, true).into());
    }
    let mut single = Vec::new();
    let mut pair = Vec::new();
    let mut specials = Vec::new();
    // llama.cpp adds BOS by default for SentencePiece vocabularies only.
    let bos = add_token(model, "bos", !byte_level)?;
    let eos = add_token(model, "eos", false)?;
    if let Some((id, text)) = &bos {
        single.push(text.clone());
        pair.push(text.clone());
        specials.push((text.clone(), *id));
    }
    single.push("$A".to_string());
    pair.push("$A".to_string());
    if let Some((id, text)) = &eos {
        single.push(text.clone());
        pair.push(text.clone());
        if specials.iter().all(|(t, _)| t != text) {
            specials.push((text.clone(), *id));
        }
    }
    if specials.is_empty() {
        return Ok(processors.pop());
    }
    pair.push("$B:1".to_string());
    let err = |e: String| LoadError::Tokenizer {
        path: model.path().to_path_buf(),
        message: format!("BOS/EOS template: {e}"),
    };
    let template = TemplateProcessing::builder()
        .try_single(single)
        .map_err(err)?
        .try_pair(pair)
        .map_err(err)?
        .special_tokens(specials)
        .build()
        .map_err(|e| err(e.to_string()))?;
    processors.push(template.into());
    Ok(match processors.len() {
        1 => processors.pop(),
        _ => Some(ProcessorSequence::new(processors).into()),
    })
}

/// `(id, text)` of the BOS or EOS token when `tokenizer.ggml.add_{which}_token` is true
/// (`default` when absent).
fn add_token(
    model: &GgufModel,
    which: &str,
    default: bool,
) -> Result<Option<(u32, String)>, LoadError> {
    let add = model
        .opt_bool(&format!("tokenizer.ggml.add_{which}_token"))?
        .unwrap_or(default);
    if !add {
        return Ok(None);
    }
    let key = format!("tokenizer.ggml.{which}_token_id");
    match model.token_text(&key)? {
        Some((id, text)) => Ok(Some((id, text.to_string()))),
        None => Err(LoadError::config(
            model.path(),
            &key,
            format!("missing, but tokenizer.ggml.add_{which}_token is true"),
        )),
    }
}
