use super::lazy_param;
use burn::module::{Module, Param};
use burn::tensor::{Device, Int, Tensor, TensorData};

/// Token embedding table `[vocab, dim]`.
#[derive(Module, Debug)]
pub struct Embedding {
    pub weight: Param<Tensor<2>>,
}

impl Embedding {
    pub fn new(vocab: usize, dim: usize, device: &Device) -> Self {
        Self {
            weight: lazy_param([vocab, dim], device),
        }
    }

    /// Looks up `tokens`; returns `[1, tokens.len(), dim]`.
    pub fn forward(&self, tokens: &[u32]) -> Tensor<3> {
        let weight = self.weight.val();
        let ids: Vec<i64> = tokens.iter().map(|&t| t as i64).collect();
        let ids =
            Tensor::<1, Int>::from_data(TensorData::new(ids, [tokens.len()]), &weight.device());
        weight.select(0, ids).unsqueeze::<3>()
    }

    /// Logits for `x` `[batch, seq, dim]` against the embedding (tied output head).
    pub fn attend(&self, x: Tensor<3>) -> Tensor<3> {
        let [batch, seq, dim] = x.dims();
        let weight = self.weight.val();
        let vocab = weight.dims()[0];
        let rows = x.reshape([batch * seq, dim]);
        weight
            .matmul(rows.transpose())
            .transpose()
            .reshape([batch, seq, vocab])
    }
}
