use burn::module::{Param, ParamId};
use burn::tensor::{Device, Shape, Tensor};

/// A parameter of `shape` on `device` that allocates nothing until first read.
///
/// The loader replaces it with the checkpoint's tensor before anything reads it, so the
/// init closure never runs; should it run (a parameter no checkpoint filled), it yields
/// zeros rather than random values, so the mistake is visible rather than plausible.
pub fn lazy_param<const D: usize>(shape: [usize; D], device: &Device) -> Param<Tensor<D>> {
    Param::uninitialized(
        ParamId::new(),
        move |device, _require_grad| Tensor::<D>::zeros(shape, device),
        device.clone(),
        false,
        Shape::from(shape),
    )
}
