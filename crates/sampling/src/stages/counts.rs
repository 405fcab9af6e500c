//! Token occurrence counts over the penalty window, shared by the penalty stages.
//!
//! A dense count array (one slot per vocabulary id, allocated once) makes counting O(window)
//! with no hashing or sorting, which matters for `repeat_last_n = -1` over long histories.
//! Only the touched slots are cleared afterwards.

/// The last `last_n` tokens of `history`: `0` → none, `-1` (any negative) → all of it.
pub(crate) fn window(history: &[u32], last_n: i32) -> &[u32] {
    match usize::try_from(last_n) {
        Ok(n) => &history[history.len().saturating_sub(n)..],
        Err(_) => history,
    }
}

#[derive(Clone, Debug, Default)]
pub(crate) struct TokenCounts {
    counts: Vec<u32>,
    /// Distinct tokens in first-occurrence order (a deterministic order to apply penalties).
    distinct: Vec<u32>,
}

impl TokenCounts {
    /// Counts `window`, ignoring ids `>= vocab_size` (they have no logit to penalise).
    pub(crate) fn count(&mut self, window: &[u32], vocab_size: usize) {
        self.clear();
        if self.counts.len() < vocab_size {
            self.counts.resize(vocab_size, 0);
        }
        for &id in window {
            if id as usize >= vocab_size {
                continue;
            }
            let count = &mut self.counts[id as usize];
            if *count == 0 {
                self.distinct.push(id);
            }
            *count += 1;
        }
    }

    /// `(token, count)` for each distinct token, count `>= 1`.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (u32, u32)> + '_ {
        self.distinct
            .iter()
            .map(|&id| (id, self.counts[id as usize]))
    }

    fn clear(&mut self) {
        for &id in &self.distinct {
            self.counts[id as usize] = 0;
        }
        self.distinct.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_sizes() {
        let h = [1, 2, 3, 4];
        assert_eq!(window(&h, 0), &[] as &[u32]);
        assert_eq!(window(&h, 2), &[3, 4]);
        assert_eq!(window(&h, 10), &h);
        assert_eq!(window(&h, -1), &h);
    }

    #[test]
    fn counts_and_reuse() {
        let mut c = TokenCounts::default();
        c.count(&[5, 1, 5, 9, 5, 100], 10);
        assert_eq!(c.iter().collect::<Vec<_>>(), vec![(5, 3), (1, 1), (9, 1)]);
        c.count(&[1], 10);
        assert_eq!(c.iter().collect::<Vec<_>>(), vec![(1, 1)]);
    }
}
