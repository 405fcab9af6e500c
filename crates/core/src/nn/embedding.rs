use super::lazy_param;
use burn::module::{Module, Param};
use burn::tensor::{Device, Int, Tensor, TensorData};

/// Token embedding table `[vocab, dim]`.
///
/// A GPU binds at most one buffer of its adapter's size limit per tensor (128 MiB on some
/// WebGPU adapters), and a large-vocabulary table is bigger (Gemma 3: 262,144 × 640 f32 =
/// 671 MB). Such a table is loaded onto the host (the assign walk stages it there, see
/// [`crate::assign`]) and [`Embedding::place`] splits it into row blocks that each fit,
/// dropping the host copy; lookups and the tied output head then work block by block.
#[derive(Module, Debug)]
pub struct Embedding {
    pub weight: Param<Tensor<2>>,
    /// Row blocks on the compute device, when the table was split; `weight` is then empty.
    pub blocks: Vec<Tensor<2>>,
}

impl Embedding {
    pub fn new(vocab: usize, dim: usize, device: &Device) -> Self {
        Self {
            weight: lazy_param([vocab, dim], device),
            blocks: Vec::new(),
        }
    }

    /// Moves a table the assign walk staged on the host onto `device`, in row blocks that
    /// each fit one of its buffers. A table already on `device` is left as it is.
    pub fn place(&mut self, device: &Device) {
        let weight = self.weight.val();
        if weight.device() == *device {
            return;
        }
        let [vocab, dim] = weight.dims();
        let (max_block_bytes, elem_bytes) =
            crate::gpu::buffer_limit(device).unwrap_or((u64::MAX, 4));
        let rows = (max_block_bytes / (dim as u64 * elem_bytes)).max(1) as usize;
        let table = weight.into_data();
        let values = table
            .as_slice::<f32>()
            .expect("a staged embedding holds the f32 values the loader produced");
        self.blocks = (0..vocab)
            .step_by(rows)
            .map(|start| {
                let len = rows.min(vocab - start);
                let block = values[start * dim..(start + len) * dim].to_vec();
                Tensor::from_data(TensorData::new(block, [len, dim]), device)
            })
            .collect();
        let id = self.weight.id;
        self.weight = Param::initialized(id, Tensor::zeros([0, dim], device));
    }

    /// The device lookups run on.
    pub fn device(&self) -> Device {
        match self.blocks.first() {
            Some(block) => block.device(),
            None => self.weight.val().device(),
        }
    }

    /// Looks up `tokens`; returns `[1, tokens.len(), dim]`.
    pub fn forward(&self, tokens: &[u32]) -> Tensor<3> {
        if self.blocks.is_empty() {
            let rows = super::linear::as_f32(select_rows(&self.weight.val(), tokens, 0));
            return rows.unsqueeze::<3>();
        }
        // Each block answers for the tokens in its row range (others read row 0, masked out).
        let mut start = 0;
        let mut out: Option<Tensor<2>> = None;
        for block in &self.blocks {
            let len = block.dims()[0];
            let inside: Vec<f32> = tokens
                .iter()
                .map(|&t| ((t as usize) >= start && (t as usize) < start + len) as u8 as f32)
                .collect();
            if inside.iter().any(|&m| m > 0.0) {
                let mask = Tensor::<2>::from_data(
                    TensorData::new(inside, [tokens.len(), 1]),
                    &block.device(),
                );
                let rows = select_rows(block, tokens, start) * mask;
                out = Some(match out {
                    Some(acc) => acc + rows,
                    None => rows,
                });
            }
            start += len;
        }
        out.expect("every token id is below the vocabulary size")
            .unsqueeze::<3>()
    }

    /// Logits for `x` `[batch, seq, dim]` against the embedding (tied output head).
    pub fn attend(&self, x: Tensor<3>) -> Tensor<3> {
        let [batch, seq, dim] = x.dims();
        let rows = x.reshape([batch * seq, dim]);
        if self.blocks.is_empty()
            && let Some(logits) = crate::cpu::flex::matmul_transposed(&rows, &self.weight.val())
        {
            let vocab = logits.dims()[1];
            return logits.reshape([batch, seq, vocab]);
        }
        let rows = rows.transpose();
        let logits = if self.blocks.is_empty() {
            super::linear::as_f32(self.weight.val()).matmul(rows)
        } else {
            let parts = self.blocks.iter().map(|b| b.clone().matmul(rows.clone()));
            Tensor::cat(parts.collect(), 0)
        };
        let vocab = logits.dims()[0];
        logits.transpose().reshape([batch, seq, vocab])
    }
}

/// Rows `tokens - offset` of `table` (ids outside it read row 0).
fn select_rows(table: &Tensor<2>, tokens: &[u32], offset: usize) -> Tensor<2> {
    let len = table.dims()[0];
    let ids: Vec<i64> = tokens
        .iter()
        .map(|&t| {
            let local = (t as usize).wrapping_sub(offset);
            if local < len { local as i64 } else { 0 }
        })
        .collect();
    let ids = Tensor::<1, Int>::from_data(TensorData::new(ids, [tokens.len()]), &table.device());
    table.clone().select(0, ids)
}
