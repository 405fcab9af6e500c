//! Pieces every decoder's attention shares: the per-layer KV cache and the additive mask
//! (causal, optionally limited to a sliding window).

use burn::tensor::{Device, Tensor, TensorData};

/// Keys and values of the tokens seen so far, `[batch, kv_heads, positions, head_dim]`.
#[derive(Debug, Clone, Default)]
pub struct KvCache {
    kv: Option<(Tensor<4>, Tensor<4>)>,
}

impl KvCache {
    /// Appends the new keys/values and returns the full history.
    pub fn append(&mut self, k: Tensor<4>, v: Tensor<4>) -> (Tensor<4>, Tensor<4>) {
        let (k, v) = match self.kv.take() {
            Some((pk, pv)) => (Tensor::cat(vec![pk, k], 2), Tensor::cat(vec![pv, v], 2)),
            None => (k, v),
        };
        self.kv = Some((k.clone(), v.clone()));
        (k, v)
    }

    /// Keeps the first `len` positions.
    pub fn truncate(&mut self, len: usize) {
        if let Some((k, v)) = self.kv.take()
            && len > 0
        {
            let len = len.min(k.dims()[2]);
            self.kv = Some((k.narrow(2, 0, len), v.narrow(2, 0, len)));
        }
    }

    pub fn clear(&mut self) {
        self.kv = None;
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
}
