//! Pieces every decoder's attention shares: the per-layer KV cache, the additive mask
//! (causal, optionally limited to a sliding window) and the grouped-query attention itself.

use crate::cpu;
use burn::tensor::activation::softmax;
use burn::tensor::{Device, Tensor, TensorData, s};

/// Keys and values of the tokens seen so far, `[batch, kv_heads, positions, head_dim]`.
///
/// The tensors have room for more positions than they hold, and a new token's keys and
/// values are written into that room in place (Burn reuses a tensor's buffer when nothing
/// else refers to it). Concatenating instead would copy the whole history for every token:
/// 7 MB per decode step for SmolLM2 at 160 positions, a tenth of its decode time. The
/// attention reads a view of the used prefix: in place in flint's decode kernel
/// ([`grouped_attention`]), through Burn's strided matmul for prompts. The room doubles when
/// full, so a long generation copies its history about `log2(positions)` times in all.
#[derive(Debug, Clone, Default)]
pub struct KvCache {
    kv: Option<(Tensor<4>, Tensor<4>)>,
    len: usize,
}

/// Positions the first allocation holds at least.
const MIN_CAPACITY: usize = 64;

impl KvCache {
    /// Appends the new keys/values `[batch, kv_heads, new, head_dim]` and returns views of
    /// the full history.
    pub fn append(&mut self, k: Tensor<4>, v: Tensor<4>) -> (Tensor<4>, Tensor<4>) {
        let new = k.dims()[2];
        let end = self.len + new;
        let (mut keys, mut values) = match self.kv.take() {
            Some((keys, values)) if keys.dims()[2] >= end => (keys, values),
            old => {
                let [b, h, _, d] = k.dims();
                let capacity = end.next_power_of_two().max(MIN_CAPACITY);
                let room = |like: &Tensor<4>| {
                    Tensor::<4>::zeros([b, h, capacity, d], (&like.device(), like.dtype()))
                };
                let (mut keys, mut values) = (room(&k), room(&v));
                if let Some((old_k, old_v)) = old
                    && self.len > 0
                {
                    let used = s![.., .., 0..self.len];
                    keys = keys.slice_assign(used, old_k.narrow(2, 0, self.len));
                    values = values.slice_assign(used, old_v.narrow(2, 0, self.len));
                }
                (keys, values)
            }
        };
        let span = s![.., .., self.len..end];
        keys = keys.slice_assign(span, k);
        values = values.slice_assign(span, v);
        self.len = end;
        let history = (
            keys.clone().narrow(2, 0, end),
            values.clone().narrow(2, 0, end),
        );
        self.kv = Some((keys, values));
        history
    }

    /// Keeps the first `len` positions.
    pub fn truncate(&mut self, len: usize) {
        self.len = self.len.min(len);
        if self.len == 0 {
            self.kv = None;
        }
    }

    pub fn clear(&mut self) {
        self.kv = None;
        self.len = 0;
    }
}

/// The KV caches of every layer of a decoder and the number of positions they hold: what
/// `CausalLm::{reset, truncate, cached_tokens}` act on, the same for every architecture.
#[derive(Debug, Clone)]
pub struct DecoderCache {
    layers: Vec<KvCache>,
    position: usize,
}

impl DecoderCache {
    pub fn new(layers: usize) -> Self {
        Self {
            layers: vec![KvCache::default(); layers],
            position: 0,
        }
    }

    /// Positions cached so far: where the next token goes.
    pub fn position(&self) -> usize {
        self.position
    }

    /// Each layer's cache, for a forward pass over `new_tokens` tokens starting at
    /// [`Self::position`], which this advances past them.
    pub fn layers_for(&mut self, new_tokens: usize) -> std::slice::IterMut<'_, KvCache> {
        self.position += new_tokens;
        self.layers.iter_mut()
    }

    pub fn reset(&mut self) {
        self.layers.iter_mut().for_each(KvCache::clear);
        self.position = 0;
    }

    /// Keeps the first `len` positions (nothing to do when fewer are cached).
    pub fn truncate(&mut self, len: usize) {
        if len >= self.position {
            return;
        }
        for cache in &mut self.layers {
            cache.truncate(len);
        }
        self.position = len;
    }
}

/// How a layer turns queries and keys into attention weights.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScoreOptions {
    /// Multiplies `q · k` (usually `1 / sqrt(head_dim)`).
    pub scale: f64,
    /// Soft cap on the scaled scores: `cap * tanh(score / cap)` (Gemma 2 style).
    pub softcap: Option<f64>,
    /// Sliding window: a query sees only the last `w` positions, itself included.
    pub window: Option<usize>,
}

/// Grouped-query attention of `s` new tokens at positions `start..start + s`.
///
/// `q` is `[batch, kv_heads, group * s, head_dim]`: the query heads that share a K/V head
/// are stacked as rows, so one batched product serves the group without repeating K and V
/// in memory. `k` and `v` are `[batch, kv_heads, start + s, head_dim]`, the whole cache.
/// Returns `[batch, kv_heads, group * s, head_dim]`.
///
/// A decode step on burn-flex runs flint's kernel on the cache in place
/// ([`cpu::flex::attention`]); everything else runs on Burn's ops.
pub fn grouped_attention(
    q: Tensor<4>,
    k: Tensor<4>,
    v: Tensor<4>,
    group: usize,
    s: usize,
    start: usize,
    options: ScoreOptions,
) -> Tensor<4> {
    if s == 1 {
        let end = start + 1;
        let first = options.window.map_or(0, |w| end.saturating_sub(w));
        let scores = cpu::attention::Scores {
            scale: options.scale as f32,
            softcap: options.softcap.map(|c| c as f32),
        };
        if let Some(out) = cpu::flex::attention(&q, &k, &v, first..end, scores) {
            return out;
        }
    }
    let mut scores = q.matmul(k.swap_dims(2, 3)) * options.scale;
    if let Some(cap) = options.softcap {
        scores = softcap(scores, cap);
    }
    if let Some(mask) = attention_mask(group, s, start, options.window, &scores.device()) {
        scores = scores + mask;
    }
    softmax(scores, 3).matmul(v)
}

/// `cap * tanh(x / cap)`: bounds scores or logits smoothly to `(-cap, cap)`.
pub fn softcap<const D: usize>(x: Tensor<D>, cap: f64) -> Tensor<D> {
    (x / cap).tanh() * cap
}

/// Additive mask `[1, 1, group * s, start + s]` for `s` new queries at positions
/// `start..start + s`, or `None` when nothing is masked. Row `r` is query `r % s` (query
/// heads sharing a K/V head are stacked as rows); it may see keys at positions `<=` its own
/// and, with `window = Some(w)`, only the last `w` of them (`pos - key < w`, as
/// transformers' and llama.cpp's sliding-window attention).
pub fn attention_mask(
    group: usize,
    s: usize,
    start: usize,
    window: Option<usize>,
    device: &Device,
) -> Option<Tensor<4>> {
    let total = start + s;
    let windowed = window.is_some_and(|w| total > w);
    if s == 1 && !windowed {
        return None;
    }
    let mut mask = vec![0f32; group * s * total];
    for r in 0..group * s {
        let pos = start + r % s;
        let row = &mut mask[r * total..(r + 1) * total];
        row[pos + 1..].fill(f32::NEG_INFINITY);
        if let Some(w) = window
            && pos + 1 > w
        {
            row[..pos + 1 - w].fill(f32::NEG_INFINITY);
        }
    }
    Some(Tensor::<2>::from_data(TensorData::new(mask, [group * s, total]), device).unsqueeze::<4>())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(mask: Tensor<4>) -> Vec<Vec<bool>> {
        let [_, _, r, c] = mask.dims();
        let v = mask.into_data().try_to_vec::<f32>().unwrap();
        (0..r)
            .map(|i| (0..c).map(|j| v[i * c + j] == 0.0).collect())
            .collect()
    }

    #[test]
    fn causal_and_sliding_masks_allow_exactly_the_window() {
        let dev = Device::flex();
        // 3 queries at positions 2..5, window 2: position p sees p-1 and p.
        let m = rows(attention_mask(1, 3, 2, Some(2), &dev).unwrap());
        assert_eq!(
            m,
            [
                [false, true, true, false, false],
                [false, false, true, true, false],
                [false, false, false, true, true],
            ]
        );
        // No window: causal only; the stacked group repeats the rows.
        let m = rows(attention_mask(2, 2, 1, None, &dev).unwrap());
        assert_eq!(m[0], [true, true, false]);
        assert_eq!(m[1], [true, true, true]);
        assert_eq!(m[2], m[0]);
        // One query sees everything unless the window cuts it.
        assert!(attention_mask(1, 1, 9, None, &dev).is_none());
        assert!(attention_mask(1, 1, 9, Some(10), &dev).is_none());
        let m = rows(attention_mask(1, 1, 9, Some(4), &dev).unwrap());
        assert_eq!(m[0].iter().filter(|&&x| x).count(), 4);
        assert!(m[0][6..].iter().all(|&x| x));
    }

    /// A decode step through the KV cache on flex (flint's kernel, the cache read in place)
    /// against the same step on burn-ndarray (Burn's ops with the additive mask), with a
    /// sliding window shorter than the context and a soft cap, as Gemma's local layers.
    #[test]
    fn a_decode_step_on_flex_matches_burns_ops_with_window_and_softcap() {
        #[allow(deprecated)] // burn-ndarray is deprecated upstream but named by flint's design
        let ndarray = Device::ndarray();
        let (kv_heads, group, dim, context) = (2, 3, 8, 11);
        let random = |shape: [usize; 4]| {
            Tensor::<4>::random(
                shape,
                burn::tensor::Distribution::Normal(0.0, 1.0),
                &Device::flex(),
            )
        };
        let keys = random([1, kv_heads, context, dim]);
        let values = random([1, kv_heads, context, dim]);
        let q = random([1, kv_heads, group, dim]);
        for window in [None, Some(4)] {
            let options = ScoreOptions {
                scale: 0.3,
                softcap: Some(2.0),
                window,
            };
            let step = |device: &Device| {
                let on = |t: &Tensor<4>| Tensor::<4>::from_data(t.to_data(), device);
                // The prompt fills the cache, then one token is decoded against it.
                let mut cache = KvCache::default();
                let prompt = context - 1;
                cache.append(
                    on(&keys.clone().narrow(2, 0, prompt)),
                    on(&values.clone().narrow(2, 0, prompt)),
                );
                let (k, v) = cache.append(
                    on(&keys.clone().narrow(2, prompt, 1)),
                    on(&values.clone().narrow(2, prompt, 1)),
                );
                let out = grouped_attention(on(&q), k, v, group, 1, prompt, options);
                out.into_data().try_to_vec::<f32>().unwrap()
            };
            let (fused, burn) = (step(&Device::flex()), step(&ndarray));
            for (a, b) in fused.iter().zip(&burn) {
                assert!((a - b).abs() < 1e-5, "window {window:?}: {a} vs {b}");
            }
        }
    }
}
