//! Translating tensor names between Hugging Face and GGUF, using the tables of
//! [`super::conventions`]: an architecture's own renames first, then the shared table.

use super::conventions::{
    DERIVED_LAYER_TENSORS, GGUF_LAYER_PREFIX, GLOBAL_TENSORS, GgufArchitecture, HF_LAYER_PREFIX,
    LAYER_TENSORS, Permutation,
};

/// One tensor under both names, with how its GGUF values differ from the Hugging Face ones.
#[derive(Debug, Clone, PartialEq)]
pub struct Translated {
    pub hf: String,
    pub gguf: String,
    /// Rows permuted by the converter (only meaningful when the architecture is
    /// `qk_permuted`).
    pub permutation: Permutation,
    /// Added to every value by the converter ([`GgufArchitecture::stored_offset`]).
    pub offset: f32,
}

/// `model.layers.3.self_attn.q_proj.weight` → `blk.3.attn_q.weight` (Q permuted), or `None`
/// when the convention tables have no such tensor.
pub fn hf_to_gguf(arch: &GgufArchitecture, hf: &str) -> Option<Translated> {
    if let Some((_, gguf)) = GLOBAL_TENSORS.iter().find(|(h, _)| *h == hf) {
        return Some(translated(
            arch,
            hf.to_string(),
            gguf.to_string(),
            Permutation::None,
        ));
    }
    let (layer, suffix) = split_layer(hf, HF_LAYER_PREFIX)?;
    let (gguf, permutation) = layer_rows(arch)
        .find(|(h, _, _)| *h == suffix)
        .map(|(_, g, p)| (g, p))?;
    Some(translated(
        arch,
        hf.to_string(),
        format!("{GGUF_LAYER_PREFIX}{layer}.{gguf}"),
        permutation,
    ))
}

/// `blk.3.attn_q.weight` → `model.layers.3.self_attn.q_proj.weight` (Q permuted), or `None`
/// for a tensor the tables do not know.
pub fn gguf_to_hf(arch: &GgufArchitecture, gguf: &str) -> Option<Translated> {
    if let Some((hf, _)) = GLOBAL_TENSORS.iter().find(|(_, g)| *g == gguf) {
        return Some(translated(
            arch,
            hf.to_string(),
            gguf.to_string(),
            Permutation::None,
        ));
    }
    let (layer, suffix) = split_layer(gguf, GGUF_LAYER_PREFIX)?;
    let (hf, permutation) = layer_rows(arch)
        .find(|(_, g, _)| *g == suffix)
        .map(|(h, _, p)| (h, p))?;
    Some(translated(
        arch,
        format!("{HF_LAYER_PREFIX}{layer}.{hf}"),
        gguf.to_string(),
        permutation,
    ))
}

/// The architecture's renames, then the shared rows whose names no rename took (a shared
/// row never shadows a rename in either direction).
fn layer_rows(
    arch: &GgufArchitecture,
) -> impl Iterator<Item = (&'static str, &'static str, Permutation)> + '_ {
    let renamed = arch
        .layer_renames
        .iter()
        .map(|&(h, g)| (h, g, Permutation::None));
    let shared = LAYER_TENSORS
        .iter()
        .filter(|(h, g, _)| !arch.layer_renames.iter().any(|(rh, rg)| rh == h || rg == g))
        .copied();
    renamed.chain(shared)
}

fn translated(
    arch: &GgufArchitecture,
    hf: String,
    gguf: String,
    permutation: Permutation,
) -> Translated {
    let offset = arch.stored_offset(&hf);
    Translated {
        hf,
        gguf,
        permutation,
        offset,
    }
}

/// Whether an unused GGUF tensor may be left unused (it only holds values the model
/// recomputes, see [`DERIVED_LAYER_TENSORS`]).
pub fn is_derived(gguf: &str) -> bool {
    split_layer(gguf, GGUF_LAYER_PREFIX)
        .is_some_and(|(_, suffix)| DERIVED_LAYER_TENSORS.contains(&suffix))
}

/// The GGUF layer suffix of `gguf` (`blk.3.attn_q.bias` → `attn_q.bias`).
pub fn gguf_layer_suffix(gguf: &str) -> Option<&str> {
    split_layer(gguf, GGUF_LAYER_PREFIX).map(|(_, suffix)| suffix)
}

/// `prefix` + decimal layer index + `.` + suffix. The index must be canonical (no sign, no
/// leading zero), so `blk.03.x` and `blk.3.x` never both map to one name.
fn split_layer<'a>(name: &'a str, prefix: &str) -> Option<(usize, &'a str)> {
    let rest = name.strip_prefix(prefix)?;
    let (index, suffix) = rest.split_once('.')?;
    let canonical = !index.is_empty()
        && index.bytes().all(|b| b.is_ascii_digit())
        && (index == "0" || !index.starts_with('0'));
    if !canonical {
        return None;
    }
    Some((index.parse().ok()?, suffix))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gguf::conventions::architecture;

    #[test]
    fn names_translate_both_ways() {
        let llama = architecture("llama").unwrap();
        for (hf, gguf, perm) in [
            (
                "model.layers.3.self_attn.q_proj.weight",
                "blk.3.attn_q.weight",
                Permutation::QueryHeads,
            ),
            (
                "model.layers.12.self_attn.k_proj.bias",
                "blk.12.attn_k.bias",
                Permutation::KeyValueHeads,
            ),
            (
                "model.layers.0.mlp.down_proj.weight",
                "blk.0.ffn_down.weight",
                Permutation::None,
            ),
            (
                "model.layers.0.post_attention_layernorm.weight",
                "blk.0.ffn_norm.weight",
                Permutation::None,
            ),
            (
                "model.embed_tokens.weight",
                "token_embd.weight",
                Permutation::None,
            ),
            ("lm_head.weight", "output.weight", Permutation::None),
        ] {
            let t = hf_to_gguf(llama, hf).unwrap();
            assert_eq!(
                (t.gguf.as_str(), t.permutation, t.offset),
                (gguf, perm, 0.0)
            );
            assert_eq!(gguf_to_hf(llama, gguf), Some(t));
        }
    }

    /// Gemma 3's renames win over the shared rows in both directions, and its norm weights
    /// (all of them, q/k norms included) carry llama.cpp's +1.
    #[test]
    fn an_architecture_s_renames_and_offsets_apply() {
        let gemma = architecture("gemma3").unwrap();
        for (hf, gguf, offset) in [
            (
                "model.layers.2.post_attention_layernorm.weight",
                "blk.2.post_attention_norm.weight",
                1.0,
            ),
            (
                "model.layers.2.pre_feedforward_layernorm.weight",
                "blk.2.ffn_norm.weight",
                1.0,
            ),
            (
                "model.layers.2.post_feedforward_layernorm.weight",
                "blk.2.post_ffw_norm.weight",
                1.0,
            ),
            (
                "model.layers.2.self_attn.q_norm.weight",
                "blk.2.attn_q_norm.weight",
                1.0,
            ),
            ("model.norm.weight", "output_norm.weight", 1.0),
            (
                "model.layers.2.self_attn.q_proj.weight",
                "blk.2.attn_q.weight",
                0.0,
            ),
        ] {
            let t = hf_to_gguf(gemma, hf).unwrap();
            assert_eq!((t.gguf.as_str(), t.offset), (gguf, offset), "{hf}");
            assert_eq!(gguf_to_hf(gemma, gguf).as_ref(), Some(&t), "{gguf}");
        }
    }

    #[test]
    fn unknown_or_non_canonical_names_do_not_translate() {
        let llama = architecture("llama").unwrap();
        assert_eq!(
            hf_to_gguf(llama, "model.layers.3.self_attn.rotary.weight"),
            None
        );
        assert_eq!(
            hf_to_gguf(llama, "model.layers.03.self_attn.q_proj.weight"),
            None
        );
        assert_eq!(gguf_to_hf(llama, "blk.-1.attn_q.weight"), None);
        assert_eq!(gguf_to_hf(llama, "rope_freqs.weight"), None);
        assert_eq!(gguf_to_hf(llama, "blk.0.post_ffw_norm.weight"), None);
        assert!(is_derived("blk.7.attn_rot_embd.weight"));
        assert!(!is_derived("rope_freqs.weight"));
    }
}
