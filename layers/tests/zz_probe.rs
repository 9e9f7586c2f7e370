use strata_layers::*;
use strata_tensor::Tensor;
fn run(name: &str, f: impl FnOnce() + std::panic::UnwindSafe) {
    match std::panic::catch_unwind(f) {
        Ok(()) => println!("{name}: no panic"),
        Err(e) => println!("{name}: panic: {}", e.downcast_ref::<String>().cloned().or(e.downcast_ref::<&str>().map(|s| s.to_string())).unwrap_or_default()),
    }
}
#[test]
fn probe() {
    std::panic::set_hook(Box::new(|_| {}));
    run("conv stride 0", || { Conv2d::<f32>::new(1,1,(2,2)).with_stride((0,1)).predict(&Tensor::zeros(&[1,1,4,4])); });
    run("conv dilation 0", || { Conv2d::<f32>::new(1,1,(2,2)).with_dilation((0,1)).predict(&Tensor::zeros(&[1,1,4,4])); });
    run("conv1d stride 0", || { Conv1d::<f32>::new(1,1,2).with_stride_padding(0,0).predict(&Tensor::zeros(&[1,1,4])); });
    run("maxpool kernel 0", || { Module::<f32>::predict(&mut MaxPool2d::new((0,2)), &Tensor::zeros(&[1,1,4,4])); });
    run("maxpool stride 0", || { Module::<f32>::predict(&mut MaxPool2d::new((2,2)).with_stride_padding((0,1),(0,0)), &Tensor::zeros(&[1,1,4,4])); });
    run("maxpool pad > k/2", || { let y = Module::<f32>::predict(&mut MaxPool2d::new((2,2)).with_stride_padding((1,1),(2,2)), &Tensor::ones(&[1,1,2,2])); println!("{y}"); });
    run("avgpool kernel 0", || { Module::<f32>::predict(&mut AvgPool2d::new((0,2)), &Tensor::zeros(&[1,1,4,4])); });
    run("avgpool kernel > input", || { Module::<f32>::predict(&mut AvgPool2d::new((5,5)), &Tensor::zeros(&[1,1,4,4])); });
    run("adaptive 0", || { Module::<f32>::predict(&mut AdaptiveAvgPool2d::new((0,2)), &Tensor::zeros(&[1,1,4,4])); });
    run("adaptive bigger", || { let y = Module::<f32>::predict(&mut AdaptiveAvgPool2d::new((6,6)), &Tensor::ones(&[1,1,4,4])); println!("{:?}", y.shape()); });
    run("maxout 3d", || { Maxout::<f32>::new(3,2,2).predict(&Tensor::zeros(&[2,4,3])); });
    run("maxout 1d", || { Maxout::<f32>::new(3,2,2).predict(&Tensor::zeros(&[3])); });
    run("convT outpad>=stride", || { let y = ConvTranspose2d::<f32>::new(1,1,(2,2)).with_stride_padding((1,1),(0,0),(1,1)).predict(&Tensor::zeros(&[1,1,3,3])); println!("{:?}", y.shape()); });
    run("prelu 1d per-channel", || { let y = PRelu::<f32>::new(3,0.25).predict(&Tensor::full(&[3], -1.0)); println!("{y}"); });
    run("prelu 1d mismatch", || { let y = PRelu::<f32>::new(3,0.25).predict(&Tensor::full(&[4], -1.0)); println!("{y}"); });
    run("flatten 1d", || { let y = Module::<f32>::predict(&mut Flatten, &Tensor::ones(&[3])); println!("{:?}", y.shape()); });
    run("flatten 0d", || { let y = Module::<f32>::predict(&mut Flatten, &Tensor::scalar(1.0)); println!("{:?}", y.shape()); });
    run("softmax axis oob", || { Module::<f32>::predict(&mut Activation::Softmax(3), &Tensor::ones(&[2,2])); });
    run("linear with_init after groups", || { let l = Linear::<f32>::new(3,2).without_bias().with_init(Init::Zeros, Init::Zeros); assert!(l.bias.is_none()); });
    run("convT groups", || { let c = ConvTranspose2d::<f32>::new(4,4,(2,2)); println!("{:?}", c.params.groups); });
    run("dropout f32 mean", || { let mut d = Dropout::new(0.9); let y = Module::<f32>::predict(&mut d, &Tensor::ones(&[100000])); println!("mean {}", y.mean()); });
    run("bce f32 clamp", || { let y = loss::binary_cross_entropy(&Var::constant(Tensor::<f32>::from_vec(vec![0.0,1.0],&[2])), &Var::constant(Tensor::from_vec(vec![1.0,0.0],&[2])), Reduction::None); println!("{}", y.value()); });
    run("bce grad at 0", || { let p = Var::leaf(Tensor::<f64>::from_vec(vec![0.0, 1.0],&[2])); let y = loss::binary_cross_entropy(&p, &Var::constant(Tensor::from_vec(vec![1.0,0.0],&[2])), Reduction::Sum); let g = y.backward(); println!("{}", g.wrt(&p).unwrap()); });
    run("kl grad p=0", || { let p = Var::leaf(Tensor::<f64>::from_vec(vec![0.0, 1.0],&[1,2])); let q = Var::leaf(Tensor::<f64>::from_vec(vec![0.5f64.ln(), 0.5f64.ln()],&[1,2])); let y = loss::kl_div(&q, &p, Reduction::Sum); let g = y.backward(); println!("p {} q {}", g.wrt(&p).unwrap(), g.wrt(&q).unwrap()); });
    run("half_sse f32", || { let y = loss::half_sse(&Var::constant(Tensor::<f32>::ones(&[4,2])), &Var::constant(Tensor::zeros(&[4,2]))); println!("{}", y.item()); });
    run("mse none grad", || { let p = Var::leaf(Tensor::<f64>::from_vec(vec![1.0,2.0],&[2])); let y = loss::mse_loss(&p, &Var::constant(Tensor::zeros(&[2])), Reduction::None); let g = y.backward_with(Tensor::from_vec(vec![1.0, 10.0],&[2])); println!("{}", g.wrt(&p).unwrap()); });
}
