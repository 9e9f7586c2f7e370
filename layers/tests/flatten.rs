//! `Flatten`: output shape and values, and an f64 gradient check.

mod common;

use common::{gradcheck_module, spread};
use strata_layers::{Flatten, Module};
use strata_tensor::Tensor;

#[test]
fn flatten_values_and_gradcheck() {
    let x = Tensor::from_vec((0..24).map(f64::from).collect(), &[2, 3, 2, 2]);
    let y = Module::<f64>::predict(&mut Flatten, &x);
    assert_eq!(y.shape(), &[2, 12]);
    assert_eq!(y.to_vec(), x.to_vec());
    let y = Module::<f64>::predict(&mut Flatten, &x.reshape(&[2, 12]));
    assert_eq!(y.shape(), &[2, 12]);
    gradcheck_module("Flatten", &mut Flatten, &spread(&[2, 3, 2], 7), true, 1e-6);
}
