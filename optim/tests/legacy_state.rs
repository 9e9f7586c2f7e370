//! States written in the unversioned format — before `OptimizerState::FORMAT`: the kind, the
//! step count, a map of hyper-parameters by PyTorch's names (flags as 0/1) and the buffers —
//! still load, from JSON and from bincode, alone or inside a larger value as in a checkpoint:
//! each is the state the same optimizer writes today after the same steps. Maps that do not
//! describe a configuration, unknown kinds and later formats fail with a message that says why.
//!
//! The fixtures were written by the optimizers before the format changed: for each
//! configuration, the state after 3 steps on the two test parameters (`common::params`,
//! `common::grads_for`) as JSON and as bincode (hex); last, an f32 AMSGrad Adam state after 2
//! steps, encoded in the tuple `(state, "after", 7u32)`.

mod common;

use std::collections::BTreeMap;

use common::{grads_for, params};
use serde::Serialize;
use strata_autograd::{Grads, Param};
use strata_optim::{
    AdadeltaConfig, AdagradConfig, AdamConfig, AdamWConfig, OptimError, Optimizer, OptimizerConfig,
    OptimizerState, ParamState, RmsPropConfig, SgdConfig, WeightDecay,
};
use strata_tensor::Tensor;

const UNVERSIONED: &str = r#"
sgd
JSON {"kind":"sgd","step":3,"hyper_parameters":{"dampening":0.0,"lr":0.05,"momentum":0.0,"nesterov":0.0,"weight_decay":0.0},"params":[{"step":3,"buffers":{}},{"step":3,"buffers":{}}]}
BIN 0373676403050964616d70656e696e670000000000000000026c729a9999999999a93f086d6f6d656e74756d0000000000000000086e65737465726f7600000000000000000c7765696768745f6465636179000000000000000002010300010300
sgd_nesterov
JSON {"kind":"sgd","step":3,"hyper_parameters":{"dampening":0.0,"lr":0.05,"momentum":0.9,"nesterov":1.0,"weight_decay":0.01},"params":[{"step":3,"buffers":{"momentum_buffer":{"shape":[3],"values":{"F64":[0.7440166973713909,-3.3340417097666095,2.618303188627389]}}}},{"step":3,"buffers":{"momentum_buffer":{"shape":[2,2],"values":{"F64":[-1.4506510823521082,-2.821779557658743,0.3343650747404029,-8.49076143492918]}}}}]}
BIN 0373676403050964616d70656e696e670000000000000000026c729a9999999999a93f086d6f6d656e74756dcdccccccccccec3f086e65737465726f76000000000000f03f0c7765696768745f64656361797b14ae47e17a843f020103010f6d6f6d656e74756d5f62756666657201030103ee6adc1afccee73f8194570f1eac0ac0555631f148f204400103010f6d6f6d656e74756d5f6275666665720202020104b9bfc9e8dd35f7bf3f532529019306c0ead03bc53c66d53f5651321545fb20c0
sgd_dampening
JSON {"kind":"sgd","step":3,"hyper_parameters":{"dampening":0.2,"lr":0.05,"momentum":0.8,"nesterov":0.0,"weight_decay":0.0},"params":[{"step":3,"buffers":{"momentum_buffer":{"shape":[3],"values":{"F64":[0.6166487161391835,-2.6161016564315345,2.071031863916682]}}}},{"step":3,"buffers":{"momentum_buffer":{"shape":[2,2],"values":{"F64":[-1.1841795807952185,-2.289562121686268,0.21396943620535258,-6.753324089412731]}}}}]}
BIN 0373676403050964616d70656e696e679a9999999999c93f026c729a9999999999a93f086d6f6d656e74756d9a9999999999e93f086e65737465726f7600000000000000000c7765696768745f64656361790000000000000000020103010f6d6f6d656e74756d5f6275666665720103010393059e1696bbe33f36148bb4c6ed04c0f4f76327799100400103010f6d6f6d656e74756d5f627566666572020202010408b4c14966f2f2bf536c16f2055102c0e83a6cb95963cb3f4244dd6367031bc0
adam
JSON {"kind":"adam","step":3,"hyper_parameters":{"amsgrad":0.0,"beta1":0.9,"beta2":0.999,"eps":1e-8,"lr":0.05,"weight_decay":0.0},"params":[{"step":3,"buffers":{"exp_avg":{"shape":[3],"values":{"F64":[0.07983066889301374,-0.3479996592884642,0.26699231383994976]}},"exp_avg_sq":{"shape":[3],"values":{"F64":[0.0008733723064084378,0.0050904934825100785,0.003067303598209765]}}}},{"step":3,"buffers":{"exp_avg":{"shape":[2,2],"values":{"F64":[-0.15880389893815272,-0.3065037526003802,0.0377088233509766,-0.9087792418207838]}},"exp_avg_sq":{"shape":[2,2],"values":{"F64":[0.001723516061457773,0.004459447955242252,0.0002980527474332481,0.03352581000628492]}}}}]}
BIN 046164616d030607616d73677261640000000000000000056265746131cdccccccccccec3f0562657461322b8716d9cef7ef3f036570733a8c30e28e79453e026c729a9999999999a93f0c7765696768745f6465636179000000000000000002010302076578705f6176670103010322011d60c86fb43f2c70ea5ca045d6bf01760eee6616d13f0a6578705f6176675f737101030103020623bf609e4c3f543472f0c4d9743f5cd384149a20693f010302076578705f6176670202020104f45435a8af53c4bf2c4661eac19dd3bfc24c2026924ea33f18ed5c34b814edbf0a6578705f6176675f737102020201042ad18e47f33c5c3f200304f21144723f0f527ecd7e88333fda0919834b2aa13f
adam_amsgrad
JSON {"kind":"adam","step":3,"hyper_parameters":{"amsgrad":1.0,"beta1":0.9,"beta2":0.999,"eps":1e-8,"lr":0.05,"weight_decay":0.1},"params":[{"step":3,"buffers":{"exp_avg":{"shape":[3],"values":{"F64":[0.09193661739119716,-0.37905991133274725,0.3197210312039336]}},"exp_avg_sq":{"shape":[3],"values":{"F64":[0.0009788568161177246,0.006004693990382991,0.0043119600584481145]}},"max_exp_avg_sq":{"shape":[3],"values":{"F64":[0.0009788568161177246,0.006004693990382991,0.0043119600584481145]}}}},{"step":3,"buffers":{"exp_avg":{"shape":[2,2],"values":{"F64":[-0.1546704741266797,-0.3159133971328326,0.06114262372515782,-0.9750793557084946]}},"exp_avg_sq":{"shape":[2,2],"values":{"F64":[0.0016787893752861127,0.004714932397958135,0.000377176496220373,0.03858553765605281]}},"max_exp_avg_sq":{"shape":[2,2],"values":{"F64":[0.0016787893752861127,0.004714932397958135,0.000377176496220373,0.03858553765605281]}}}}]}
BIN 046164616d030607616d7367726164000000000000f03f056265746131cdccccccccccec3f0562657461322b8716d9cef7ef3f036570733a8c30e28e79453e026c729a9999999999a93f0c7765696768745f64656361799a9999999999b93f02010303076578705f61766701030103b603007d2889b73f178699808442d8bf885037334f76d43f0a6578705f6176675f7371010301036bf3cf809f09503fb29afac46098783f644fecf66aa9713f0e6d61785f6578705f6176675f7371010301036bf3cf809f09503fb29afac46098783f644fecf66aa9713f010303076578705f6176670202020104a5f403fa3dccc3bf127143d3ec37d4bf67169502164eaf3f3fbaf89ed933efbf0a6578705f6176675f7371020202010457b0ad5d5a815b3f56b93b07f74f733fb36f51b7f8b7383f36a3a9cc7bc1a33f0e6d61785f6578705f6176675f7371020202010457b0ad5d5a815b3f56b93b07f74f733fb36f51b7f8b7383f36a3a9cc7bc1a33f
adamw
JSON {"kind":"adamw","step":3,"hyper_parameters":{"amsgrad":0.0,"beta1":0.9,"beta2":0.999,"eps":1e-8,"lr":0.05,"weight_decay":0.01},"params":[{"step":3,"buffers":{"exp_avg":{"shape":[3],"values":{"F64":[0.07977514116999224,-0.34786237765434763,0.2667629158078882]}},"exp_avg_sq":{"shape":[3],"values":{"F64":[0.0008733820069475875,0.005086570993572709,0.003062098626432642]}}}},{"step":3,"buffers":{"exp_avg":{"shape":[2,2],"values":{"F64":[-0.15881746795677212,-0.3064594596271218,0.03753310050046653,-0.9084913220932309]}},"exp_avg_sq":{"shape":[2,2],"values":{"F64":[0.0017235837190300817,0.004458636055810779,0.00029758993009649365,0.03350456479826757]}}}}]}
BIN 056164616d77030607616d73677261640000000000000000056265746131cdccccccccccec3f0562657461322b8716d9cef7ef3f036570733a8c30e28e79453e026c729a9999999999a93f0c7765696768745f64656361797b14ae47e17a843f02010302076578705f61766701030103dce05bc6246cb43fbb30e28f6043d6bf018dcbc3a412d13f0a6578705f6176675f737101030103028a1094759e4c3fa00f0f01a8d5743f821ba5aeaf15693f010302076578705f6176670202020104e534747b2154c4bf157e2923089dd3bf0e7f55de8937a33f28e3a2645c12edbf0a6578705f6176675f73710202020104eb3621ed3b3d5c3f152ab6003843723f7e3c7304bb80333f0f8a26a48227a13f
adamw_amsgrad
JSON {"kind":"adamw","step":3,"hyper_parameters":{"amsgrad":1.0,"beta1":0.9,"beta2":0.999,"eps":1e-8,"lr":0.05,"weight_decay":0.01},"params":[{"step":3,"buffers":{"exp_avg":{"shape":[3],"values":{"F64":[0.07977514116999224,-0.34786237765434763,0.2667629158078882]}},"exp_avg_sq":{"shape":[3],"values":{"F64":[0.0008733820069475875,0.005086570993572709,0.003062098626432642]}},"max_exp_avg_sq":{"shape":[3],"values":{"F64":[0.0008733820069475875,0.005086570993572709,0.003062098626432642]}}}},{"step":3,"buffers":{"exp_avg":{"shape":[2,2],"values":{"F64":[-0.15881746795677212,-0.3064594596271218,0.03753310050046653,-0.9084913220932309]}},"exp_avg_sq":{"shape":[2,2],"values":{"F64":[0.0017235837190300817,0.004458636055810779,0.00029758993009649365,0.03350456479826757]}},"max_exp_avg_sq":{"shape":[2,2],"values":{"F64":[0.0017235837190300817,0.004458636055810779,0.00029758993009649365,0.03350456479826757]}}}}]}
BIN 056164616d77030607616d7367726164000000000000f03f056265746131cdccccccccccec3f0562657461322b8716d9cef7ef3f036570733a8c30e28e79453e026c729a9999999999a93f0c7765696768745f64656361797b14ae47e17a843f02010303076578705f61766701030103dce05bc6246cb43fbb30e28f6043d6bf018dcbc3a412d13f0a6578705f6176675f737101030103028a1094759e4c3fa00f0f01a8d5743f821ba5aeaf15693f0e6d61785f6578705f6176675f737101030103028a1094759e4c3fa00f0f01a8d5743f821ba5aeaf15693f010303076578705f6176670202020104e534747b2154c4bf157e2923089dd3bf0e7f55de8937a33f28e3a2645c12edbf0a6578705f6176675f73710202020104eb3621ed3b3d5c3f152ab6003843723f7e3c7304bb80333f0f8a26a48227a13f0e6d61785f6578705f6176675f73710202020104eb3621ed3b3d5c3f152ab6003843723f7e3c7304bb80333f0f8a26a48227a13f
adagrad
JSON {"kind":"adagrad","step":3,"hyper_parameters":{"eps":1e-10,"initial_accumulator_value":0.1,"lr":0.1,"lr_decay":0.1,"weight_decay":0.0},"params":[{"step":3,"buffers":{"sum":{"shape":[3],"values":{"F64":[0.9646814027318017,4.93679523092306,3.034082101987832]}}}},{"step":3,"buffers":{"sum":{"shape":[2,2],"values":{"F64":[1.773661062687045,4.439393290758489,0.3808698793034701,33.02648328558732]}}}}]}
BIN 0761646167726164030503657073bbbdd7d9df7cdb3d19696e697469616c5f616363756d756c61746f725f76616c75659a9999999999b93f026c729a9999999999b93f086c725f64656361799a9999999999b93f0c7765696768745f64656361790000000000000000020103010373756d010301031b5c7988abdeee3f0874bf3f47bf13405a554bd6cc4508400103010373756d020202010416df266cea60fc3fe18e9750f0c11140a7f3e80e2c60d83f7cbee6cd63834040
rmsprop
JSON {"kind":"rmsprop","step":3,"hyper_parameters":{"alpha":0.99,"centered":0.0,"eps":1e-8,"lr":0.01,"momentum":0.0,"weight_decay":0.0},"params":[{"step":3,"buffers":{"square_avg":{"shape":[3],"values":{"F64":[0.008486555683220293,0.047539218640078276,0.028833470390361077]}}}},{"step":3,"buffers":{"square_avg":{"shape":[2,2],"values":{"F64":[0.016403143531718376,0.04263453632492249,0.003416819706117762,0.32597903804761763]}}}}]}
BIN 07726d7370726f70030605616c706861ae47e17a14aeef3f0863656e74657265640000000000000000036570733a8c30e28e79453e026c727b14ae47e17a843f086d6f6d656e74756d00000000000000000c7765696768745f64656361790000000000000000020103010a7371756172655f61766701030103f0c0eb386661813fa24dac7a0f57a83f18596d7185869d3f0103010a7371756172655f6176670202020104e9cf1454fccb903f5a2e64a631d4a53f3e809c1c97fd6b3fce25e62ed7dcd43f
rmsprop_centered
JSON {"kind":"rmsprop","step":3,"hyper_parameters":{"alpha":0.99,"centered":1.0,"eps":1e-8,"lr":0.01,"momentum":0.9,"weight_decay":0.01},"params":[{"step":3,"buffers":{"grad_avg":{"shape":[3],"values":{"F64":[0.008467750398540808,-0.03634890681937154,0.02786436892518497]}},"momentum_buffer":{"shape":[3],"values":{"F64":[7.622315851448793,-21.23474650449836,20.507207297696787]}},"square_avg":{"shape":[3],"values":{"F64":[0.00886209981895024,0.046608946955573376,0.028023773183306025]}}}},{"step":3,"buffers":{"grad_avg":{"shape":[2,2],"values":{"F64":[-0.016785800770380086,-0.032919748891570094,0.005651224659015378,-0.0979129793953118]}},"momentum_buffer":{"shape":[2,2],"values":{"F64":[-12.283864376598784,-16.083954293591205,0.9123139690443459,-21.148319084455817]}},"square_avg":{"shape":[2,2],"values":{"F64":[0.016377801623466227,0.04167423257125212,0.0035221247313750076,0.3251423706309782]}}}}]}
BIN 07726d7370726f70030605616c706861ae47e17a14aeef3f0863656e7465726564000000000000f03f036570733a8c30e28e79453e026c727b14ae47e17a843f086d6f6d656e74756dcdccccccccccec3f0c7765696768745f64656361797b14ae47e17a843f0201030308677261645f61766701030103606742388a57813fd2b011ec529ca2bf448607257a889c3f0f6d6f6d656e74756d5f627566666572010301031405d75d407d1e40b8abcf58183c35c076e66356d88134400a7371756172655f6176670103010338942be74a26823f6f18c0bd20dda73f14cf549543b29c3f01030308677261645f6176670202020104c94162054c3091bfac7ec379dbdaa0bf9d307c11bd25773f54565b34d310b9bf0f6d6f6d656e74756d5f62756666657202020201047ffbebab569128c0405551077e1530c06d579710ad31ed3f431c513df82535c00a7371756172655f61766702020201049aa369a957c5903f4e77f5335356a53fc9f913516eda6c3f84da19f221cfd43f
adadelta
JSON {"kind":"adadelta","step":3,"hyper_parameters":{"eps":1e-6,"lr":1.0,"rho":0.9,"weight_decay":0.01},"params":[{"step":3,"buffers":{"acc_delta":{"shape":[3],"values":{"F64":[9.893686380606636e-7,3.4355364134859888e-6,3.129016835843623e-6]}},"square_avg":{"shape":[3],"values":{"F64":[0.07290042237911944,0.5051760422223133,0.32183966531516034]}}}},{"step":3,"buffers":{"acc_delta":{"shape":[2,2],"values":{"F64":[1.4190806347651646e-6,1.8113397387560303e-6,2.665920659873892e-6,3.189204402993516e-6]}},"square_avg":{"shape":[2,2],"values":{"F64":[0.15012652316924716,0.4057477505966213,0.024650594174177805,3.203770692266964]}}}}]}
BIN 0861646164656c74610304036570738dedb5a0f7c6b03e026c72000000000000f03f0372686fcdccccccccccec3f0c7765696768745f64656361797b14ae47e17a843f02010302096163635f64656c746101030103a33b5b524e99b03e04bffc1dc2d1cc3ee2877f32833fca3e0a7371756172655f61766701030103a19ffb219aa9b23f602982f2662ae03f856345650599d43f010302096163635f64656c746102020201044afe9ea8e7ceb73e690cc81aa563be3e4a42d361055dc63e867087a9c3c0ca3e0a7371756172655f6176670202020104cd15a38d5837c33f433ccf69c5f7d93f1f62385f013e993ff05b598752a10940
nested_f32_adam
JSON [{"kind":"adam","step":2,"hyper_parameters":{"amsgrad":1.0,"beta1":0.9,"beta2":0.999,"eps":1e-8,"lr":0.001,"weight_decay":0.0},"params":[{"step":2,"buffers":{"exp_avg":{"shape":[3],"values":{"F32":[0.095,-0.19,0.38]}},"exp_avg_sq":{"shape":[3],"values":{"F32":[0.00049975,0.001999,0.007996]}},"max_exp_avg_sq":{"shape":[3],"values":{"F32":[0.00049975,0.001999,0.007996]}}}}]},"after",7]
BIN 046164616d020607616d7367726164000000000000f03f056265746131cdccccccccccec3f0562657461322b8716d9cef7ef3f036570733a8c30e28e79453e026c72fca9f1d24d62503f0c7765696768745f6465636179000000000000000001010203076578705f617667010300035c8fc23d5c8f42be5c8fc23e0a6578705f6176675f737101030003a801033aa801033ba801033c0e6d61785f6578705f6176675f737101030003a801033aa801033ba801033c05616674657207
"#;

struct Fixture {
    name: &'static str,
    json: &'static str,
    bincode: Vec<u8>,
}

fn fixtures() -> Vec<Fixture> {
    let lines: Vec<&'static str> = UNVERSIONED.lines().filter(|l| !l.is_empty()).collect();
    lines
        .chunks(3)
        .map(|chunk| {
            let [name, json, bin] = chunk else {
                panic!("three lines per fixture")
            };
            let hex = bin.strip_prefix("BIN ").expect("BIN line");
            Fixture {
                name,
                json: json.strip_prefix("JSON ").expect("JSON line"),
                bincode: (0..hex.len())
                    .step_by(2)
                    .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
                    .collect(),
            }
        })
        .collect()
}

/// The optimizer each fixture was written by.
fn optimizer(name: &str) -> Box<dyn Optimizer<f64>> {
    match name {
        "sgd" => Box::new(SgdConfig::new(0.05).build().unwrap()),
        "sgd_nesterov" => Box::new(
            SgdConfig::new(0.05)
                .with_momentum(0.9)
                .with_nesterov(true)
                .with_weight_decay(0.01)
                .build()
                .unwrap(),
        ),
        "sgd_dampening" => Box::new(
            SgdConfig::new(0.05)
                .with_momentum(0.8)
                .with_dampening(0.2)
                .build()
                .unwrap(),
        ),
        "adam" => Box::new(AdamConfig::new(0.05).build().unwrap()),
        "adam_amsgrad" => Box::new(
            AdamConfig::new(0.05)
                .with_amsgrad(true)
                .with_weight_decay_coefficient(0.1)
                .build()
                .unwrap(),
        ),
        "adamw" => Box::new(AdamWConfig::new(0.05).build().unwrap()),
        "adamw_amsgrad" => Box::new(AdamWConfig::new(0.05).with_amsgrad(true).build().unwrap()),
        "adagrad" => Box::new(
            AdagradConfig::new(0.1)
                .with_lr_decay(0.1)
                .with_initial_accumulator_value(0.1)
                .build()
                .unwrap(),
        ),
        "rmsprop" => Box::new(RmsPropConfig::new(0.01).build().unwrap()),
        "rmsprop_centered" => Box::new(
            RmsPropConfig::new(0.01)
                .with_centered(true)
                .with_momentum(0.9)
                .with_weight_decay(0.01)
                .build()
                .unwrap(),
        ),
        "adadelta" => Box::new(
            AdadeltaConfig::new(1.0)
                .with_weight_decay(0.01)
                .build()
                .unwrap(),
        ),
        other => panic!("no optimizer for fixture {other}"),
    }
}

/// Checks that `old` is the state `name`'s optimizer writes today after the fixture's 3 steps
/// (configuration and layout exactly, buffer values to rounding: the gradients go through
/// `sin`), and that it loads: into an optimizer built with another learning rate, which then
/// exports it unchanged and steps on.
fn check(name: &str, old: &OptimizerState) {
    let mut opt = optimizer(name);
    let (mut a, mut b) = params();
    for t in 1..=3 {
        let grads = grads_for(t, &a, &b);
        opt.step(&mut [&mut a, &mut b], &grads);
    }
    let now = opt.state(&[&a, &b]);
    assert_eq!(old.kind(), opt.kind(), "{name}");
    assert_eq!(old.config, now.config, "{name}");
    assert_eq!(old.step, now.step, "{name}");
    assert_eq!(old.params.len(), now.params.len(), "{name}");
    for (o, n) in old.params.iter().zip(&now.params) {
        let (o, n) = (o.as_ref().unwrap(), n.as_ref().unwrap());
        assert_eq!(o.step, n.step, "{name}");
        let names = |p: &ParamState| p.buffers.keys().cloned().collect::<Vec<_>>();
        assert_eq!(names(o), names(n), "{name}");
        for (key, ob) in &o.buffers {
            let nb = &n.buffers[key];
            assert_eq!(ob.shape, nb.shape, "{name} {key}");
            for (x, y) in ob.values.to_f64_vec().iter().zip(nb.values.to_f64_vec()) {
                assert!(
                    (x - y).abs() <= 1e-12 * y.abs().max(1.0),
                    "{name} {key}: {x} vs {y}"
                );
            }
        }
    }

    let mut loaded = optimizer(name);
    loaded.set_learning_rate(123.0);
    loaded.load_state(&[&a, &b], old).unwrap();
    assert_eq!(loaded.learning_rate(), opt.learning_rate(), "{name}");
    assert_eq!(loaded.step_count(), 3, "{name}");
    assert_eq!(&loaded.state(&[&a, &b]), old, "{name}");
    let grads = grads_for(4, &a, &b);
    loaded.step(&mut [&mut a, &mut b], &grads);
    assert_eq!(loaded.step_count(), 4, "{name}");
}

#[test]
fn unversioned_json_states_load() {
    let fixtures = fixtures();
    assert_eq!(fixtures.len(), 12);
    for f in fixtures.iter().filter(|f| f.name != "nested_f32_adam") {
        let old: OptimizerState =
            serde_json::from_str(f.json).unwrap_or_else(|e| panic!("{}: {e}", f.name));
        check(f.name, &old);
    }
}

#[test]
fn unversioned_bincode_states_load() {
    for f in fixtures().iter().filter(|f| f.name != "nested_f32_adam") {
        let (old, read): (OptimizerState, usize) =
            bincode::serde::decode_from_slice(&f.bincode, bincode::config::standard())
                .unwrap_or_else(|e| panic!("{}: {e}", f.name));
        assert_eq!(read, f.bincode.len(), "{}", f.name);
        let json: OptimizerState = serde_json::from_str(f.json).unwrap();
        assert_eq!(old, json, "{}", f.name);
        check(f.name, &old);
    }
}

#[test]
fn unversioned_kinds_become_configurations() {
    let by_name = |name: &str| -> OptimizerState {
        let f = fixtures().into_iter().find(|f| f.name == name).unwrap();
        serde_json::from_str(f.json).unwrap()
    };
    // Adam's weight decay was an L2 penalty (none when 0), AdamW's decoupled.
    let adam = by_name("adam_amsgrad");
    assert_eq!(adam.kind(), "adam");
    assert_eq!(
        adam.config,
        OptimizerConfig::Adam(
            AdamConfig::new(0.05)
                .with_amsgrad(true)
                .with_weight_decay(WeightDecay::L2(0.1))
        )
    );
    assert!(matches!(
        by_name("adam").config,
        OptimizerConfig::Adam(AdamConfig {
            weight_decay: WeightDecay::None,
            ..
        })
    ));
    let adamw = by_name("adamw");
    assert_eq!(adamw.kind(), "adamw");
    assert_eq!(adamw.config, OptimizerConfig::Adam(AdamWConfig::new(0.05)));

    // Kinds still have to match: an Adam state does not load into AdamW.
    let (a, b) = params();
    let mut opt = AdamWConfig::new(0.05).build::<f64>().unwrap();
    let err = opt.load_state(&[&a, &b], &adam).unwrap_err();
    assert_eq!(
        err.to_string(),
        "optimizer state was saved by 'adam' and cannot be loaded into 'adamw'"
    );
}

#[test]
fn an_unversioned_state_inside_a_checkpoint_loads_and_the_rest_follows() {
    let f = fixtures()
        .into_iter()
        .find(|f| f.name == "nested_f32_adam")
        .unwrap();
    let ((old, after, seven), read): ((OptimizerState, String, u32), usize) =
        bincode::serde::decode_from_slice(&f.bincode, bincode::config::standard()).unwrap();
    assert_eq!(read, f.bincode.len());
    assert_eq!((after.as_str(), seven), ("after", 7));
    let (json, after, seven): (OptimizerState, String, u32) = serde_json::from_str(f.json).unwrap();
    assert_eq!((&json, after.as_str(), seven), (&old, "after", 7));

    // The optimizer that wrote it, today: bit for bit the same state.
    let mut p = Param::new(Tensor::<f32>::from_vec(vec![1.0, 2.0, 3.0], &[3]));
    let mut grads = Grads::new();
    grads.insert(p.id(), Tensor::from_vec(vec![0.5f32, -1.0, 2.0], &[3]));
    let mut adam = AdamConfig::new(1e-3)
        .with_amsgrad(true)
        .build::<f32>()
        .unwrap();
    adam.step(&mut [&mut p], &grads);
    adam.step(&mut [&mut p], &grads);
    assert_eq!(adam.state(&[&p]), old);

    // Written again, it takes the current format, which reads back the same.
    let bytes =
        bincode::serde::encode_to_vec((&old, "after", 7u32), bincode::config::standard()).unwrap();
    let ((again, after, seven), _): ((OptimizerState, String, u32), usize) =
        bincode::serde::decode_from_slice(&bytes, bincode::config::standard()).unwrap();
    assert_eq!((again, after.as_str(), seven), (old.clone(), "after", 7));
    let value = serde_json::to_value(&old).unwrap();
    assert_eq!(value["format"], OptimizerState::FORMAT);
    assert!(value.get("hyper_parameters").is_none());
}

/// The unversioned layout, to write states the fixtures do not cover.
#[derive(Serialize)]
struct Unversioned {
    kind: String,
    step: u64,
    hyper_parameters: BTreeMap<String, f64>,
    params: Vec<Option<ParamState>>,
}

impl Unversioned {
    /// The `adam_amsgrad` fixture, edited by `edit`.
    fn adam(edit: impl FnOnce(&mut Unversioned)) -> Unversioned {
        let f = fixtures()
            .into_iter()
            .find(|f| f.name == "adam_amsgrad")
            .unwrap();
        let v: serde_json::Value = serde_json::from_str(f.json).unwrap();
        let mut state = Unversioned {
            kind: v["kind"].as_str().unwrap().to_string(),
            step: v["step"].as_u64().unwrap(),
            hyper_parameters: serde_json::from_value(v["hyper_parameters"].clone()).unwrap(),
            params: serde_json::from_value(v["params"].clone()).unwrap(),
        };
        edit(&mut state);
        state
    }

    /// The deserialization error, the same from JSON and from bincode.
    fn error(&self) -> String {
        let json = serde_json::to_string(self).unwrap();
        let from_json = serde_json::from_str::<OptimizerState>(&json).unwrap_err();
        let bytes = bincode::serde::encode_to_vec(self, bincode::config::standard()).unwrap();
        let from_bincode = bincode::serde::decode_from_slice::<OptimizerState, _>(
            &bytes,
            bincode::config::standard(),
        )
        .unwrap_err();
        let bincode::error::DecodeError::OtherString(message) = from_bincode else {
            panic!("expected a message, got {from_bincode:?}")
        };
        let json = from_json.to_string();
        assert!(json.starts_with(&message), "{json} / {message}");
        message
    }
}

const PREFIX: &str = "optimizer state in the unversioned format (before 'strata-optim-state/2'): ";

#[test]
fn unversioned_states_that_describe_no_configuration_fail_saying_why() {
    let err = Unversioned::adam(|s| {
        s.hyper_parameters.remove("beta1");
    })
    .error();
    let want = OptimError::MissingHyperParameter {
        kind: "adam",
        name: "beta1",
    };
    assert_eq!(err, format!("{PREFIX}{want}"));
    assert_eq!(
        want.to_string(),
        "adam state: hyper-parameter 'beta1' is missing"
    );

    let err = Unversioned::adam(|s| {
        s.hyper_parameters.insert("momentum".into(), 0.9);
    })
    .error();
    assert_eq!(
        err,
        format!("{PREFIX}adam state: unknown hyper-parameter 'momentum'")
    );

    let err = Unversioned::adam(|s| {
        s.kind = "adamw".into();
        s.hyper_parameters.insert("amsgrad".into(), 0.5);
    })
    .error();
    assert_eq!(
        err,
        format!("{PREFIX}AdamW: invalid amsgrad = 0.5 (expected 0 or 1 (a flag))")
    );

    let err = Unversioned::adam(|s| s.kind = "lion".into()).error();
    assert_eq!(
        err,
        format!(
            "{PREFIX}optimizer state: unknown optimizer kind 'lion' (expected sgd, adam, adamw, \
             adagrad, rmsprop or adadelta)"
        )
    );
}

#[test]
fn unversioned_values_out_of_range_are_refused_by_load_state() {
    let bad = Unversioned::adam(|s| {
        s.hyper_parameters.insert("beta1".into(), 1.5);
    });
    let state: OptimizerState = serde_json::from_str(&serde_json::to_string(&bad).unwrap())
        .expect("a well-formed map deserializes");
    let (a, b) = params();
    let mut opt = AdamConfig::new(0.05).build::<f64>().unwrap();
    let err = opt.load_state(&[&a, &b], &state).unwrap_err();
    assert_eq!(
        err,
        OptimError::InvalidHyperParameter {
            owner: "Adam",
            name: "beta1",
            value: 1.5,
            expected: "in [0, 1)",
        }
    );
    assert_eq!(opt.step_count(), 0, "the optimizer is unchanged");
}

#[test]
fn a_later_format_is_refused_saying_so() {
    let (mut a, mut b) = params();
    let mut opt = SgdConfig::new(0.1).build::<f64>().unwrap();
    let grads = grads_for(1, &a, &b);
    opt.step(&mut [&mut a, &mut b], &grads);
    let mut value = serde_json::to_value(opt.state(&[&a, &b])).unwrap();
    value["format"] = "strata-optim-state/4".into();
    let err = serde_json::from_value::<OptimizerState>(value).unwrap_err();
    assert_eq!(
        err.to_string(),
        "optimizer state in format 'strata-optim-state/4', but this version reads \
         'strata-optim-state/3', 'strata-optim-state/2' and the unversioned format before them"
    );

    #[derive(Serialize)]
    struct Later {
        format: &'static str,
        step: u64,
    }
    let bytes = bincode::serde::encode_to_vec(
        Later {
            format: "strata-optim-state/4",
            step: 1,
        },
        bincode::config::standard(),
    )
    .unwrap();
    let err =
        bincode::serde::decode_from_slice::<OptimizerState, _>(&bytes, bincode::config::standard())
            .unwrap_err();
    assert!(
        err.to_string()
            .contains("optimizer state in format 'strata-optim-state/4'"),
        "{err}"
    );
}
