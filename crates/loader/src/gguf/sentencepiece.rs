//! `tokenizer.ggml.model == "llama"`: a SentencePiece BPE vocabulary (Llama 1/2, Mistral,
//! TinyLlama, ...) as a `tokenizers` BPE with byte fallback, built the way transformers
//! builds it from the same GGUF (`GGUFLlamaConverter`) and as Llama 2's own
//! `tokenizer.json` is laid out:
//!
//! - model: BPE over `tokenizer.ggml.tokens` (ids are positions), `fuse_unk`, byte fallback
//!   to the `<0xNN>` tokens, unknown token `tokenizer.ggml.unknown_token_id`. SentencePiece
//!   files hold scores, not merges: a merge `(l, r)` exists for every token `l + r` whose two
//!   parts are tokens, ranked by the merged token's score (higher first), ties in vocabulary
//!   order (transformers' `SentencePieceExtractor`);
//! - normaliser: spaces become `▁`, and a `▁` is prepended to each run of text when
//!   `tokenizer.ggml.add_space_prefix` is true (the default), as llama.cpp does after the
//!   start and after every special token;
//! - no pre-tokenizer; decoder: `▁` → space, byte fallback, fuse, strip one leading space.
//!
//! BOS is added to raw prompts unless `tokenizer.ggml.add_bos_token` is false (llama.cpp's
//! default for SentencePiece is true).

use super::file::GgufModel;
use flint_core::LoadError;
use std::collections::HashMap;
use tokenizers::Tokenizer;
use tokenizers::decoders::DecoderWrapper;
use tokenizers::decoders::byte_fallback::ByteFallback;
use tokenizers::decoders::fuse::Fuse;
use tokenizers::decoders::sequence::Sequence as DecoderSequence;
use tokenizers::decoders::strip::Strip;
use tokenizers::models::bpe::{BPE, Vocab};
use tokenizers::normalizers::{NormalizerWrapper, Prepend, Replace, Sequence};

const SPACE: &str = "\u{2581}";

/// The BPE model, normaliser and decoder of a SentencePiece vocabulary; special tokens and
/// the BOS/EOS template are added by the caller, as for every GGUF tokenizer.
pub fn sentencepiece_tokenizer(
    model: &GgufModel,
    tokens: &[String],
) -> Result<Tokenizer, LoadError> {
    let path = model.path();
    let merges = match model.file().get("tokenizer.ggml.merges") {
        Some(_) => super::tokenizer::read_merges(model)?,
        None => merges_from_scores(tokens, &scores(model, tokens.len())?),
    };
    let vocab: Vocab = tokens
        .iter()
        .enumerate()
        .map(|(id, t)| (t.clone(), id as u32))
        .collect();
    let mut builder = BPE::builder()
        .vocab_and_merges(vocab, merges)
        .fuse_unk(true)
        .byte_fallback(true);
    if let Some((_, unk)) = model.token_text("tokenizer.ggml.unknown_token_id")? {
        builder = builder.unk_token(unk.to_string());
    }
    let bpe = builder.build().map_err(|e| LoadError::Tokenizer {
        path: path.to_path_buf(),
        message: format!("building the SentencePiece BPE model: {e}"),
    })?;

    let err = |e: Box<dyn std::error::Error + Send + Sync>| LoadError::Tokenizer {
        path: path.to_path_buf(),
        message: e.to_string(),
    };
    let mut tokenizer = Tokenizer::new(bpe);
    let mut normalizers: Vec<NormalizerWrapper> = Vec::new();
    let add_prefix = model
        .opt_bool("tokenizer.ggml.add_space_prefix")?
        .unwrap_or(true);
    if add_prefix {
        normalizers.push(Prepend::new(SPACE.to_string()).into());
    }
    normalizers.push(Replace::new(" ", SPACE).map_err(err)?.into());
    tokenizer.with_normalizer(Some(Sequence::new(normalizers)));
    let mut decoders: Vec<DecoderWrapper> = vec![
        Replace::new(SPACE, " ").map_err(err)?.into(),
        ByteFallback::new().into(),
        Fuse::new().into(),
    ];
    if add_prefix {
        decoders.push(Strip::new(' ', 1, 0).into());
    }
    tokenizer.with_decoder(Some(DecoderSequence::new(decoders)));
    Ok(tokenizer)
}

/// `tokenizer.ggml.scores`, one per token.
fn scores(model: &GgufModel, n: usize) -> Result<Vec<f32>, LoadError> {
    let key = "tokenizer.ggml.scores";
    let scores = model
        .file()
        .get_f32_array(key)
        .map_err(|e| model.error(e))?;
    if scores.len() != n {
        return Err(LoadError::config(
            model.path(),
            key,
            format!("{} scores for {n} tokens", scores.len()),
        ));
    }
    Ok(scores.to_vec())
}

/// transformers' `SentencePieceExtractor.extract`: every split of every token into two
/// tokens is a merge, ranked by the whole token's score (stable, so equal scores keep
/// vocabulary order, and the splits of one token are ordered by the parts' ids).
pub fn merges_from_scores(tokens: &[String], scores: &[f32]) -> Vec<(String, String)> {
    let ids: HashMap<&str, usize> = tokens
        .iter()
        .enumerate()
        .map(|(i, t)| (t.as_str(), i))
        .collect();
    let mut merges: Vec<(usize, usize, f32)> = Vec::new();
    for (token, &score) in tokens.iter().zip(scores) {
        let mut local: Vec<(usize, usize, f32)> = token
            .char_indices()
            .skip(1)
            .filter_map(|(at, _)| {
                let (l, r) = token.split_at(at);
                Some((*ids.get(l)?, *ids.get(r)?, score))
            })
            .collect();
        local.sort_by_key(|&(l, r, _)| (l, r));
        merges.extend(local);
    }
    merges.sort_by(|a, b| b.2.total_cmp(&a.2));
    merges
        .into_iter()
        .map(|(l, r, _)| (tokens[l].clone(), tokens[r].clone()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::merges_from_scores;

    #[test]
    fn merges_follow_the_merged_token_scores() {
        let tokens: Vec<String> = ["a", "b", "c", "ab", "bc", "abc"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let scores = [0.0, 0.0, 0.0, -1.0, -0.5, -2.0];
        let merges = merges_from_scores(&tokens, &scores);
        let pairs: Vec<(&str, &str)> = merges
            .iter()
            .map(|(l, r)| (l.as_str(), r.as_str()))
            .collect();
        // "bc" (-0.5) before "ab" (-1); "abc" splits as a+bc and ab+c, ordered by the ids.
        assert_eq!(pairs, [("b", "c"), ("a", "b"), ("a", "bc"), ("ab", "c")]);
    }
}
