//! The working set of tokens that the stages narrow down.
//!
//! A step starts *raw*: the caller's logits row is read in place, with no copy. The first
//! stage that writes a whole-row value (a penalty, temperature) copies it into a reusable
//! buffer (*dense*); the first filter turns it into a list of `(id, logit)` pairs (*sparse*).
//! Top-k builds its list straight from the row, so the default chain never copies or sorts
//! the 262k-entry vocabulary.
//!
//! NaN policy: NaN reads as `-inf` everywhere. The whole-row state may hold NaN copied from
//! the caller (sanitising 262k values per step would cost a pass), so every row reader here
//! uses comparisons that are false for NaN; values written by a stage are never NaN, and
//! token lists never hold NaN.
//! A `-inf` logit means probability zero; filters drop such tokens. `sorted` means the
//! sparse list is in [`by_logit_desc`] order.

use std::cmp::Ordering;

use crate::softmax;

/// One candidate token and its (processed) logit.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TokenLogit {
    pub id: u32,
    pub logit: f32,
}

/// One token of a final distribution.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TokenProb {
    pub id: u32,
    pub prob: f32,
}

/// The crate-wide order: higher logit first, lower id on ties.
///
/// Total because NaN never enters a token list; the id tie-break makes every filter's
/// choice at a boundary deterministic (lowest id wins, as greedy does).
pub fn by_logit_desc(a: &TokenLogit, b: &TokenLogit) -> Ordering {
    b.logit
        .partial_cmp(&a.logit)
        .unwrap_or(Ordering::Equal)
        .then(a.id.cmp(&b.id))
}

/// The NaN policy in one place: NaN counts as `-inf` (never chosen, never poisons a sum).
#[inline]
pub(crate) fn sanitize(logit: f32) -> f32 {
    if logit.is_nan() {
        f32::NEG_INFINITY
    } else {
        logit
    }
}

#[inline]
fn is_live(logit: f32) -> bool {
    logit > f32::NEG_INFINITY
}

/// Buffers reused from step to step (the [`Sampler`](crate::Sampler) owns one), so a step
/// allocates nothing once they have grown to size.
#[derive(Clone, Debug, Default)]
pub struct Workspace {
    pub(crate) dense: Vec<f32>,
    pub(crate) tokens: Vec<TokenLogit>,
    weights: Vec<f32>,
}

impl Workspace {
    pub fn new() -> Self {
        Self::default()
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum State {
    /// Every token, values still in the caller's row (may hold NaN).
    Raw,
    /// Every token, values in `Workspace::dense` (may hold NaN from the caller).
    Dense,
    /// The survivors, in `Workspace::tokens` (no NaN, maybe `-inf`).
    Sparse,
}

/// The candidate set of one decoding step.
#[derive(Debug)]
pub struct Candidates<'a> {
    raw: &'a [f32],
    pub(crate) ws: &'a mut Workspace,
    pub(crate) state: State,
    /// The sparse list is in [`by_logit_desc`] order.
    pub(crate) sorted: bool,
}

impl<'a> Candidates<'a> {
    /// Starts a step on `logits` (one per vocabulary id), reusing `workspace`'s buffers.
    pub fn new(logits: &'a [f32], workspace: &'a mut Workspace) -> Self {
        Self {
            raw: logits,
            ws: workspace,
            state: State::Raw,
            sorted: false,
        }
    }

    /// Length of the logits row; token ids at or above it are ignored.
    pub fn vocab_size(&self) -> usize {
        self.raw.len()
    }

    /// Whether no filter has run yet (every vocabulary entry is still present).
    pub fn is_dense(&self) -> bool {
        self.state != State::Sparse
    }

    /// The whole-vocabulary row while dense (may contain NaN while raw), else `None`.
    pub(crate) fn dense(&self) -> Option<&[f32]> {
        match self.state {
            State::Raw => Some(self.raw),
            State::Dense => Some(&self.ws.dense),
            State::Sparse => None,
        }
    }

    /// The row for writing, copying the caller's logits on first use (a plain memcpy: NaN
    /// may come along, and reads as `-inf` like in the raw row).
    fn dense_mut(&mut self) -> Option<&mut [f32]> {
        match self.state {
            State::Raw => {
                self.ws.dense.clear();
                self.ws.dense.extend_from_slice(self.raw);
                self.state = State::Dense;
            }
            State::Dense => {}
            State::Sparse => return None,
        }
        Some(&mut self.ws.dense)
    }

    /// The live tokens (logit above `-inf`): in id order when dense, in stage order otherwise.
    pub fn live(&self) -> Vec<TokenLogit> {
        match self.dense() {
            Some(row) => dense_pairs(row).filter(|t| is_live(t.logit)).collect(),
            None => self
                .ws
                .tokens
                .iter()
                .copied()
                .filter(|t| is_live(t.logit))
                .collect(),
        }
    }

    /// The largest logit, or `None` when every token is `-inf` (or NaN).
    pub fn max_logit(&self) -> Option<f32> {
        let max = match self.dense() {
            Some(row) => softmax::max(row),
            None if self.sorted => self
                .ws
                .tokens
                .first()
                .map_or(f32::NEG_INFINITY, |t| t.logit),
            None => self
                .ws
                .tokens
                .iter()
                .fold(f32::NEG_INFINITY, |m, t| m.max(t.logit)),
        };
        is_live(max).then_some(max)
    }

    /// Applies `f` to one token's logit (no-op if the token is absent or out of range).
    ///
    /// O(1) while dense, a linear search once sparse: penalties belong before the filters.
    pub fn update_token(&mut self, id: u32, f: impl FnOnce(f32) -> f32) {
        if let Some(row) = self.dense_mut() {
            if let Some(l) = row.get_mut(id as usize) {
                *l = sanitize(f(sanitize(*l)));
            }
        } else if let Some(t) = self.ws.tokens.iter_mut().find(|t| t.id == id) {
            t.logit = sanitize(f(t.logit));
            self.sorted = false;
        }
    }

    /// Applies `f` to every logit. Clears the sorted flag, since `f` may reorder.
    pub fn map_logits(&mut self, f: impl Fn(f32) -> f32) {
        self.map_logits_monotone(f);
        self.sorted = false;
    }

    /// Like [`Candidates::map_logits`] for a non-decreasing `f`, which keeps the order.
    pub(crate) fn map_logits_monotone(&mut self, f: impl Fn(f32) -> f32) {
        match self.state {
            // Copy and map in one pass.
            State::Raw => {
                self.ws.dense.clear();
                self.ws.dense.resize(self.raw.len(), 0.0);
                for (d, &l) in self.ws.dense.iter_mut().zip(self.raw) {
                    *d = sanitize(f(sanitize(l)));
                }
                self.state = State::Dense;
            }
            State::Dense => self
                .ws
                .dense
                .iter_mut()
                .for_each(|l| *l = sanitize(f(sanitize(*l)))),
            State::Sparse => self
                .ws
                .tokens
                .iter_mut()
                .for_each(|t| t.logit = sanitize(f(t.logit))),
        }
    }

    /// Goes sparse (if dense) and drops `-inf` tokens, so filters see only live ones.
    pub(crate) fn make_sparse(&mut self) {
        self.retain_at_least(f32::NEG_INFINITY);
    }

    /// Keeps live tokens whose logit is `>= threshold`, preserving order; goes sparse.
    pub(crate) fn retain_at_least(&mut self, threshold: f32) {
        let keep = |l: f32| is_live(l) && l >= threshold;
        match self.state {
            State::Sparse => self.ws.tokens.retain(|t| keep(t.logit)),
            State::Raw | State::Dense => {
                let row = if self.state == State::Raw {
                    self.raw
                } else {
                    &self.ws.dense
                };
                gather_at_least(row, threshold, &mut self.ws.tokens);
                self.state = State::Sparse;
                self.sorted = false;
            }
        }
    }

    /// Replaces the set by `tokens` built from the dense row by `select` (which gets the row
    /// and the emptied token buffer). Used by filters that gather without a full copy.
    pub(crate) fn gather_from_dense(&mut self, select: impl FnOnce(&[f32], &mut Vec<TokenLogit>)) {
        let row = match self.state {
            State::Raw => self.raw,
            State::Dense => &self.ws.dense,
            State::Sparse => return,
        };
        self.ws.tokens.clear();
        select(row, &mut self.ws.tokens);
        self.state = State::Sparse;
        self.sorted = false;
    }

    /// Sparse tokens for custom stages. Goes sparse; clears the sorted flag (the caller may
    /// reorder). Do not store NaN: set a logit to `f32::NEG_INFINITY` to remove a token.
    pub fn tokens_mut(&mut self) -> &mut Vec<TokenLogit> {
        self.make_sparse();
        self.sorted = false;
        &mut self.ws.tokens
    }

    /// The highest-logit token, lowest id on ties; `None` when all are `-inf`.
    pub fn argmax(&self) -> Option<u32> {
        match self.dense() {
            Some(row) => softmax::argmax(row),
            None => {
                let live = self.ws.tokens.iter().filter(|t| is_live(t.logit));
                live.min_by(|a, b| by_logit_desc(a, b)).map(|t| t.id)
            }
        }
    }

    /// Draws a token from the softmax of the live logits by inverse CDF at `u` in `[0, 1)`.
    ///
    /// Tokens are visited in the set's current (deterministic) order; a zero-probability
    /// token is never returned. `None` when all are `-inf`.
    pub fn sample(&mut self, u: f64) -> Option<u32> {
        let total = self.fill_weights()?;
        let i = softmax::inverse_cdf(&self.ws.weights, u * total)?;
        Some(self.id_at(i))
    }

    /// Writes the normalised distribution over the live tokens (in the set's order) to `out`.
    pub fn probabilities(&mut self, out: &mut Vec<TokenProb>) {
        out.clear();
        let Some(total) = self.fill_weights() else {
            return;
        };
        for (i, &w) in self.ws.weights.iter().enumerate() {
            if w > 0.0 {
                let prob = (f64::from(w) / total) as f32;
                out.push(TokenProb {
                    id: self.id_at(i),
                    prob,
                });
            }
        }
    }

    fn id_at(&self, i: usize) -> u32 {
        match self.state {
            State::Raw | State::Dense => i as u32,
            State::Sparse => self.ws.tokens[i].id,
        }
    }

    /// Fills the weight buffer with unnormalised softmax weights; returns their sum.
    fn fill_weights(&mut self) -> Option<f64> {
        let max = self.max_logit()?;
        let mut weights = std::mem::take(&mut self.ws.weights);
        match self.dense() {
            Some(row) => softmax::row_weights(row, max, &mut weights),
            None => {
                weights.clear();
                let tokens = self.ws.tokens.iter();
                weights.extend(tokens.map(|t| softmax::weight(t.logit, max)));
            }
        }
        self.ws.weights = weights;
        let total = softmax::sum(&self.ws.weights);
        (total > 0.0).then_some(total)
    }
}

/// Replaces `out` by the live tokens of `row` with `logit >= threshold`, in id order.
///
/// Skips 64-value blocks whose (vectorised) maximum is below the threshold, so a high
/// threshold costs little more than one read of the row.
pub(crate) fn gather_at_least(row: &[f32], threshold: f32, out: &mut Vec<TokenLogit>) {
    const BLOCK: usize = 64;
    out.clear();
    for (b, block) in row.chunks(BLOCK).enumerate() {
        if softmax::max(block) < threshold {
            continue;
        }
        for (j, &logit) in block.iter().enumerate() {
            if is_live(logit) && logit >= threshold {
                out.push(TokenLogit {
                    id: (b * BLOCK + j) as u32,
                    logit,
                });
            }
        }
    }
}

fn dense_pairs(row: &[f32]) -> impl Iterator<Item = TokenLogit> + '_ {
    row.iter().enumerate().map(|(id, &logit)| TokenLogit {
        id: id as u32,
        logit,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nan_is_read_as_neg_inf_without_copying() {
        let mut ws = Workspace::new();
        let c = Candidates::new(&[f32::NAN, 1.0, f32::NAN], &mut ws);
        assert_eq!(c.live().len(), 1);
        assert_eq!(c.argmax(), Some(1));
        assert_eq!(c.state, State::Raw);
    }

    #[test]
    fn all_neg_inf_has_no_argmax_or_sample() {
        let mut ws = Workspace::new();
        let mut c = Candidates::new(&[f32::NEG_INFINITY, f32::NAN], &mut ws);
        assert_eq!(c.argmax(), None);
        assert_eq!(c.sample(0.5), None);
        assert_eq!(c.max_logit(), None);
    }

    #[test]
    fn sample_walks_the_cdf() {
        let mut ws = Workspace::new();
        // Equal weights: [0, 1/3) -> 0, [1/3, 2/3) -> 1, [2/3, 1) -> 3.
        let mut c = Candidates::new(&[0.0, 0.0, f32::NEG_INFINITY, 0.0], &mut ws);
        assert_eq!(c.sample(0.0), Some(0));
        assert_eq!(c.sample(0.5), Some(1));
        assert_eq!(c.sample(0.999_999), Some(3));
    }

    #[test]
    fn positive_infinity_is_a_point_mass() {
        let mut ws = Workspace::new();
        let mut c = Candidates::new(&[5.0, f32::INFINITY, 7.0], &mut ws);
        let mut probs = Vec::new();
        c.probabilities(&mut probs);
        assert_eq!(probs, vec![TokenProb { id: 1, prob: 1.0 }]);
    }

    #[test]
    fn writes_copy_the_row_and_ignore_out_of_range_ids() {
        let mut ws = Workspace::new();
        let logits = [1.0, 2.0, f32::NAN];
        let mut c = Candidates::new(&logits, &mut ws);
        c.update_token(5, |l| l + 1.0);
        c.update_token(0, |_| f32::NAN);
        assert_eq!(c.state, State::Dense);
        assert_eq!(c.live(), vec![TokenLogit { id: 1, logit: 2.0 }]);
        assert_eq!(ws.dense[..2], [f32::NEG_INFINITY, 2.0]);
        assert!(ws.dense[2].is_nan(), "copied as is, read as -inf");
    }
}
