//! Running the fused update loops with the widest vectors the CPU offers.
//!
//! The update rules are plain loops over slices; built for the baseline x86_64 target the
//! compiler vectorises them with 128-bit SSE only. [`run`] inlines such a loop (a [`Pass`])
//! into a function compiled with AVX2+FMA or AVX-512F enabled, following
//! [`strata_tensor::simd::active_path`] — so `STRATA_SIMD=scalar|avx2|avx512` forces the path
//! here as it does for the tensor kernels. Every path computes the same bits: Rust never
//! contracts `a·b + c` into a fused multiply-add, and square root and division are correctly
//! rounded in every instruction set.

use strata_tensor::simd::SimdPath;

/// The path the passes run on: the active one, or a test's choice.
fn current() -> SimdPath {
    #[cfg(test)]
    if let Some(path) = tests::FORCED.with(|f| f.get()) {
        return path;
    }
    strata_tensor::simd::active_path()
}

/// One fused update loop.
pub(crate) trait Pass {
    /// Runs the loop. Implementations are `#[inline(always)]`, so that the loop is compiled
    /// inside the path's target-feature function (`strata_tensor::simd::vectorize_on`)
    /// rather than called from it.
    fn apply(self);
}

/// Runs `pass` compiled for the [`current`] path, through
/// [`strata_tensor::simd::vectorize_on`].
#[inline(always)]
pub(crate) fn run(pass: impl Pass) {
    strata_tensor::simd::vectorize_on(current(), || pass.apply())
        .expect("the active SIMD path (or a test's supported one) is supported");
}

#[cfg(test)]
mod tests {
    //! Every optimizer computes the same bits on every supported path.

    use std::cell::Cell;

    use strata_autograd::{Grads, Param};
    use strata_tensor::Element;
    use strata_tensor::Tensor;
    use strata_tensor::simd::{SimdPath, supported_paths};

    use crate::{
        AdadeltaConfig, AdagradConfig, AdamConfig, AdamWConfig, Optimizer, RmsPropConfig, SgdConfig,
    };

    thread_local! {
        pub(super) static FORCED: Cell<Option<SimdPath>> = const { Cell::new(None) };
    }

    fn optimizers<T: Element>() -> Vec<Box<dyn Optimizer<T>>> {
        vec![
            Box::new(SgdConfig::new(0.1).build().unwrap()),
            Box::new(
                SgdConfig::new(0.1)
                    .with_momentum(0.9)
                    .with_nesterov(true)
                    .with_weight_decay(0.01)
                    .build()
                    .unwrap(),
            ),
            Box::new(
                SgdConfig::new(0.1)
                    .with_momentum(0.9)
                    .with_dampening(0.1)
                    .build()
                    .unwrap(),
            ),
            Box::new(AdamConfig::new(0.01).build().unwrap()),
            Box::new(
                AdamConfig::new(0.01)
                    .with_amsgrad(true)
                    .with_weight_decay_coefficient(0.1)
                    .build()
                    .unwrap(),
            ),
            Box::new(AdamWConfig::new(0.01).with_amsgrad(true).build().unwrap()),
            Box::new(
                AdagradConfig::new(0.1)
                    .with_lr_decay(0.1)
                    .with_weight_decay(0.01)
                    .build()
                    .unwrap(),
            ),
            Box::new(RmsPropConfig::new(0.01).build().unwrap()),
            Box::new(
                RmsPropConfig::new(0.01)
                    .with_centered(true)
                    .with_momentum(0.9)
                    .with_weight_decay(0.01)
                    .build()
                    .unwrap(),
            ),
            Box::new(
                AdadeltaConfig::new(1.0)
                    .with_weight_decay(0.01)
                    .build()
                    .unwrap(),
            ),
        ]
    }

    /// Five steps on a parameter of awkward length (vector bodies plus a tail); the final
    /// values as bits.
    fn trajectory<T: Element>(opt: &mut dyn Optimizer<T>, path: SimdPath) -> Vec<u64> {
        FORCED.with(|f| f.set(Some(path)));
        let n = 1037;
        let value = |i: usize, s: f64| T::from_f64_lossy((i as f64 * 0.37 + s).sin());
        let mut p = Param::new(Tensor::from_vec(
            (0..n).map(|i| value(i, 0.0)).collect(),
            &[n],
        ));
        for t in 1..=5 {
            let mut grads = Grads::new();
            let g = (0..n).map(|i| value(i, t as f64 * 1.3)).collect();
            grads.insert(p.id(), Tensor::from_vec(g, &[n]));
            opt.step(&mut [&mut p], &grads);
        }
        FORCED.with(|f| f.set(None));
        p.value()
            .to_vec()
            .iter()
            .map(|x| x.to_f64_lossless().to_bits())
            .collect()
    }

    fn same_bits_on_every_path<T: Element>() {
        let paths = supported_paths();
        let count = optimizers::<T>().len();
        for k in 0..count {
            let mut reference = None;
            for &path in &paths {
                let mut opt = optimizers::<T>().swap_remove(k);
                let bits = trajectory(opt.as_mut(), path);
                match &reference {
                    None => reference = Some((path, bits)),
                    Some((first, want)) => assert!(
                        &bits == want,
                        "{} ({}): {:?} and {:?} differ",
                        opt.kind(),
                        T::DTYPE,
                        first,
                        path
                    ),
                }
            }
        }
    }

    #[test]
    fn every_path_computes_the_same_bits_f32() {
        same_bits_on_every_path::<f32>();
    }

    #[test]
    fn every_path_computes_the_same_bits_f64() {
        same_bits_on_every_path::<f64>();
    }
}
