//! Translating tensor names between Hugging Face and GGUF, using the tables of
//! [`super::conventions`].

use super::conventions::{
    DERIVED_LAYER_TENSORS, GGUF_LAYER_PREFIX, GLOBAL_TENSORS, HF_LAYER_PREFIX, LAYER_TENSORS,
    Permutation,
};

/// A Hugging Face tensor name's GGUF counterpart and how its rows are stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Translated {
    pub gguf: String,
    pub permutation: Permutation,
}

/// `model.layers.3.self_attn.q_proj.weight` → `blk.3.attn_q.weight` (Q permuted), or `None`
/// when the convention table has no such tensor.
pub fn hf_to_gguf(hf: &str) -> Option<Translated> {
    if let Some((_, gguf)) = GLOBAL_TENSORS.iter().find(|(h, _)| *h == hf) {
        return Some(Translated {
            gguf: gguf.to_string(),
            permutation: Permutation::None,
        });
    }
    let (layer, suffix) = split_layer(hf, HF_LAYER_PREFIX)?;
    let (_, gguf, permutation) = LAYER_TENSORS.iter().find(|(h, _, _)| *h == suffix)?;
    Some(Translated {
        gguf: format!("{GGUF_LAYER_PREFIX}{layer}.{gguf}"),
        permutation: *permutation,
    })
}

/// `blk.3.attn_q.weight` → (`model.layers.3.self_attn.q_proj.weight`, Q permuted), or `None`
/// for a tensor the table does not know.
pub fn gguf_to_hf(gguf: &str) -> Option<(String, Permutation)> {
    if let Some((hf, _)) = GLOBAL_TENSORS.iter().find(|(_, g)| *g == gguf) {
        return Some((hf.to_string(), Permutation::None));
    }
    let (layer, suffix) = split_layer(gguf, GGUF_LAYER_PREFIX)?;
    let (hf, _, permutation) = LAYER_TENSORS.iter().find(|(_, g, _)| *g == suffix)?;
    Some((format!("{HF_LAYER_PREFIX}{layer}.{hf}"), *permutation))
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

    #[test]
    fn names_translate_both_ways() {
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
                "model.embed_tokens.weight",
                "token_embd.weight",
                Permutation::None,
            ),
            ("lm_head.weight", "output.weight", Permutation::None),
        ] {
            let t = hf_to_gguf(hf).unwrap();
            assert_eq!((t.gguf.as_str(), t.permutation), (gguf, perm));
            assert_eq!(gguf_to_hf(gguf), Some((hf.to_string(), perm)));
        }
    }

    #[test]
    fn unknown_or_non_canonical_names_do_not_translate() {
        assert_eq!(hf_to_gguf("model.layers.3.self_attn.rotary.weight"), None);
        assert_eq!(hf_to_gguf("model.layers.03.self_attn.q_proj.weight"), None);
        assert_eq!(gguf_to_hf("blk.-1.attn_q.weight"), None);
        assert_eq!(gguf_to_hf("rope_freqs.weight"), None);
        assert!(is_derived("blk.7.attn_rot_embd.weight"));
        assert!(!is_derived("rope_freqs.weight"));
    }
}
