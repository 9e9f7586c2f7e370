//! OneCycleLR, LambdaLR, CosineAnnealingWarmRestarts and CyclicLR against PyTorch 2.x: the
//! rates printed by `reference/schedules.py` (one line per case: PyTorch's scheduler and
//! arguments, then the rate at t = 0, every, 2·every, … < steps, read from the optimizer after
//! t calls of `scheduler.step()`), compared with `LrSchedule::lr(t)` of the same schedule built
//! here from the same arguments, to 1e-12 relative.

use std::collections::BTreeMap;

use strata_optim::{
    AnnealStrategy, CosineAnnealingWarmRestarts, CyclicLr, CyclicMode, LambdaLr, LrSchedule,
    OneCycleLr,
};

const REFERENCE: &str = r#"
OneCycleLR max_lr=0.1 total_steps=20 steps=21 | 0.0040000000000000036 0.013167184270002533 0.037167184270002526 0.06683281572999747 0.09083281572999748 0.1 0.09874640062350874 0.09504846320134738 0.089091617757105 0.0811745653949763 0.07169430017913009 0.06112620219362893 0.0500002 0.03887419780637107 0.028306099820869922 0.0188258346050237 0.010908782242895003 0.004951936798652629 0.0012539993764912555 4e-07 0.0012539993764912555
OneCycleLR max_lr=0.5 total_steps=17 pct_start=0.25 anneal_strategy=linear steps=18 | 0.02 0.1676923076923077 0.31538461538461543 0.4630769230769231 0.47058835294117646 0.43137282352941175 0.39215729411764705 0.35294176470588234 0.31372623529411764 0.27451070588235293 0.23529517647058823 0.19607964705882358 0.15686411764705882 0.11764858823529417 0.07843305882352941 0.03921752941176476 2.000000000002e-06 -0.0392135294117647
OneCycleLR max_lr=0.05 total_steps=30 three_phase=True div_factor=10.0 final_div_factor=100.0 steps=31 | 0.0049999999999999975 0.006712710518496048 0.011590097423302678 0.018889622771785478 0.0275 0.036110377228214516 0.04340990257669732 0.04828728948150395 0.05 0.04828728948150395 0.04340990257669732 0.03611037722821452 0.027500000000000004 0.018889622771785484 0.011590097423302682 0.006712710518496048 0.005 0.004928080998129479 0.004716503663491694 0.004377564101723476 0.003930960248159611 0.003402647095430276 0.0028233282836319248 0.002226671716368076 0.0016473529045697242 0.0011190397518403897 0.0006724358982765247 0.0003334963365083058 0.00012191900187052127 5e-05 0.000121919001870521
OneCycleLR max_lr=0.2 total_steps=23 pct_start=0.4 three_phase=True anneal_strategy=linear steps=24 | 0.008 0.031414634146341464 0.05482926829268292 0.07824390243902438 0.10165853658536583 0.1250731707317073 0.14848780487804877 0.17190243902439023 0.1953170731707317 0.18126829268292688 0.1578536585365854 0.13443902439024397 0.11102439024390248 0.08760975609756104 0.06419512195121957 0.04078048780487811 0.017365853658536656 0.00714294285714286 0.005714514285714288 0.004286085714285716 0.002857657142857145 0.0014292285714285723 8.000000000004531e-07 -0.0014276285714285714
OneCycleLR max_lr=0.3 total_steps=10 pct_start=0.0 steps=11 | 0.29265850681036326 0.2713526637460455 0.23816803517271962 0.1963529637460455 0.1500006 0.10364823625395453 0.06183316482728042 0.028648536253954526 0.007342693189636747 1.2e-06 0.007342693189636747
OneCycleLR max_lr=1.0 total_steps=1000 steps=1001 every=37 | 0.040000000000000036 0.07581751475666465 0.17792466584605882 0.331083018306077 0.5124352740144562 0.6949164867420743 0.8512932251152415 0.9582278802411249 0.9997615621698485 0.9941902569682806 0.9748301395925575 0.9424069484479969 0.8978126831917927 0.8422741838701325 0.7773193791232015 0.7047352510931653 0.6265186734693478 0.544821475173099 0.4618912410442032 0.3800094781707242 0.301428848978391 0.2283111978701529 0.1626680763750547 0.10630540302868105 0.06077378045615091 0.02732583649243245 0.006881762935317784 4e-06
LambdaLR base_lr=0.1 lambda=exp steps=20 | 0.1 0.095 0.09025 0.0857375 0.081450625 0.07737809374999999 0.07350918906249998 0.06983372960937498 0.06634204312890622 0.0630249409724609 0.05987369392383787 0.05688000922764597 0.05403600876626367 0.051334208327950485 0.04876749791155296 0.046329123015975304 0.04401266686517654 0.04181203352191771 0.039721431845821824 0.03773536025353073
LambdaLR base_lr=0.3 lambda=warmup_inv_sqrt steps=20 | 0.06 0.12 0.18 0.24 0.3 0.27386127875258304 0.253546276418555 0.23717082451262844 0.22360679774997896 0.21213203435596426 0.2022599587389726 0.19364916731037082 0.1860521018838127 0.17928429140015903 0.1732050807568877 0.16770509831248423 0.16269784336399212 0.15811388300841897 0.1538967528127731 0.15
LambdaLR base_lr=0.05 lambda=halve_every_3 steps=12 | 0.05 0.05 0.05 0.025 0.025 0.025 0.0125 0.0125 0.0125 0.00625 0.00625 0.00625
CosineAnnealingWarmRestarts base_lr=0.1 T_0=5 steps=23 | 0.1 0.09045084971874738 0.06545084971874737 0.03454915028125263 0.009549150281252633 0.1 0.09045084971874738 0.06545084971874737 0.03454915028125263 0.009549150281252633 0.1 0.09045084971874738 0.06545084971874737 0.03454915028125263 0.009549150281252633 0.1 0.09045084971874738 0.06545084971874737 0.03454915028125263 0.009549150281252633 0.1 0.09045084971874738 0.06545084971874737
CosineAnnealingWarmRestarts base_lr=0.1 T_0=3 T_mult=2 eta_min=0.001 steps=30 | 0.1 0.07525000000000001 0.025750000000000012 0.1 0.09336825748732973 0.07525000000000001 0.0505 0.025750000000000012 0.007631742512670284 0.1 0.09831332840130888 0.09336825748732973 0.0855017856687341 0.07525000000000001 0.06331154273257478 0.0505 0.03768845726742523 0.025750000000000012 0.0154982143312659 0.007631742512670284 0.0026866715986911243 0.1 0.09957652063800362 0.09831332840130888 0.0962320368593087 0.09336825748732973 0.08977099034441614 0.0855017856687341 0.08063369073593167 0.07525000000000001
CosineAnnealingWarmRestarts base_lr=0.5 T_0=1 T_mult=3 eta_min=0.01 steps=20 | 0.5 0.5 0.3775 0.13250000000000006 0.5 0.48522469209254754 0.4426808885641496 0.3775 0.297543803528398 0.21245619647160208 0.13250000000000006 0.06731911143585041 0.024775307907452464 0.5 0.49834339764677604 0.49339599329205686 0.48522469209254754 0.473939996879236 0.45969451379616943 0.4426808885641496
CosineAnnealingWarmRestarts base_lr=0.2 T_0=4 eta_min=0.02 steps=13 | 0.2 0.1736396103067893 0.11000000000000001 0.04636038969321073 0.2 0.1736396103067893 0.11000000000000001 0.04636038969321073 0.2 0.1736396103067893 0.11000000000000001 0.04636038969321073 0.2
CyclicLR base_lr=0.001 max_lr=0.006 step_size_up=4 steps=25 | 0.001 0.0022500000000000003 0.0035 0.00475 0.006 0.00475 0.0035 0.0022500000000000003 0.001 0.0022500000000000003 0.0035 0.00475 0.006 0.00475 0.0035 0.0022500000000000003 0.001 0.0022500000000000003 0.0035 0.00475 0.006 0.00475 0.0035 0.0022500000000000003 0.001
CyclicLR base_lr=0.01 max_lr=0.1 step_size_up=3 step_size_down=5 mode=triangular2 steps=40 | 0.01 0.04 0.07 0.1 0.082 0.064 0.046000000000000006 0.028000000000000004 0.01 0.025 0.04 0.05500000000000001 0.046000000000000006 0.037000000000000005 0.028000000000000004 0.019000000000000003 0.01 0.0175 0.025 0.0325 0.028000000000000004 0.0235 0.019000000000000003 0.0145 0.01 0.01375 0.0175 0.02125 0.019000000000000003 0.01675 0.0145 0.01225 0.01 0.011875 0.01375 0.015625 0.0145 0.013375000000000001 0.01225 0.011125
CyclicLR base_lr=0.01 max_lr=0.1 step_size_up=5 mode=exp_range gamma=0.97 steps=30 | 0.01 0.02746000000000002 0.0438724 0.05928434200000001 0.07374108231999998 0.087286062313 0.06997398435488798 0.05363107361818102 0.03821476093975705 0.023684159055782188 0.01 0.02287542525558546 0.03497832499583579 0.04634346286894101 0.05700421197716373 0.06699260702231102 0.05422626304931335 0.04217460636837545 0.030806245451549488 0.0200910290440015 0.01 0.019494649227501014 0.028419619501351967 0.03680054637446706 0.044662039977644084 0.05202772347289346 0.04261351341496532 0.03372633100938725 0.02534302738607045 0.017441368282244168
CyclicLR base_lr=0.02 max_lr=0.08 step_size_up=4 step_size_down=0 steps=13 | 0.02 0.035 0.05 0.065 0.02 0.035 0.05 0.065 0.02 0.035 0.05 0.065 0.02
CyclicLR base_lr=0.1 max_lr=0.01 step_size_up=2 step_size_down=3 steps=11 | 0.1 0.05500000000000001 0.010000000000000009 0.040000000000000015 0.07 0.1 0.05499999999999996 0.010000000000000009 0.040000000000000015 0.06999999999999998 0.1
CyclicLR base_lr=0.001 max_lr=0.1 steps=8001 every=250 | 0.001 0.013375000000000001 0.025750000000000002 0.038125000000000006 0.0505 0.062875 0.07525000000000001 0.08762500000000001 0.1 0.08762500000000001 0.07525000000000001 0.062875 0.0505 0.038125000000000006 0.025750000000000002 0.013375000000000001 0.001 0.013375000000000001 0.025750000000000002 0.038125000000000006 0.0505 0.062875 0.07525000000000001 0.08762500000000001 0.1 0.08762500000000001 0.07525000000000001 0.062875 0.0505 0.038125000000000006 0.025750000000000002 0.013375000000000001 0.001
"#;

const TOL: f64 = 1e-12;

/// The LambdaLR factors of `reference/schedules.py`, by name.
fn lambda(name: &str) -> fn(u64) -> f64 {
    match name {
        "exp" => |t| 0.95f64.powf(t as f64),
        "warmup_inv_sqrt" => |t| {
            if t < 5 {
                (t + 1) as f64 / 5.0
            } else {
                (5.0 / (t + 1) as f64).sqrt()
            }
        },
        "halve_every_3" => |t| 0.5f64.powf((t / 3) as f64),
        other => panic!("no lambda {other}"),
    }
}

/// The arguments of one case, each taken once; `finish` fails on any left over, so an argument
/// the script passes to PyTorch cannot be ignored here.
struct Args<'a> {
    case: &'a str,
    map: BTreeMap<&'a str, &'a str>,
}

impl<'a> Args<'a> {
    fn parse(case: &'a str, words: impl Iterator<Item = &'a str>) -> Self {
        let map = words
            .map(|w| w.split_once('=').unwrap_or_else(|| panic!("{case}: {w}")))
            .collect();
        Args { case, map }
    }

    fn take(&mut self, key: &str) -> Option<&'a str> {
        self.map.remove(key)
    }

    fn f64(&mut self, key: &str) -> Option<f64> {
        self.take(key).map(|v| {
            v.parse()
                .unwrap_or_else(|e| panic!("{}: {key}: {e}", self.case))
        })
    }

    fn u64(&mut self, key: &str) -> Option<u64> {
        self.take(key).map(|v| {
            v.parse()
                .unwrap_or_else(|e| panic!("{}: {key}: {e}", self.case))
        })
    }

    fn flag(&mut self, key: &str) -> Option<bool> {
        self.take(key).map(|v| match v {
            "True" => true,
            "False" => false,
            other => panic!("{}: {key} = {other}", self.case),
        })
    }

    fn finish(self) {
        assert!(
            self.map.is_empty(),
            "{}: unused arguments {:?}",
            self.case,
            self.map
        );
    }
}

/// The schedule of a case, from PyTorch's scheduler name and arguments.
fn build(name: &str, args: &mut Args) -> Box<dyn LrSchedule> {
    match name {
        "OneCycleLR" => {
            let mut s = OneCycleLr::new(
                args.f64("max_lr").unwrap(),
                args.u64("total_steps").unwrap(),
            )
            .unwrap();
            if let Some(p) = args.f64("pct_start") {
                s = s.with_pct_start(p).unwrap();
            }
            if let Some(strategy) = args.take("anneal_strategy") {
                s = s.with_anneal_strategy(match strategy {
                    "cos" => AnnealStrategy::Cos,
                    "linear" => AnnealStrategy::Linear,
                    other => panic!("anneal_strategy {other}"),
                });
            }
            if let Some(d) = args.f64("div_factor") {
                s = s.with_div_factor(d).unwrap();
            }
            if let Some(d) = args.f64("final_div_factor") {
                s = s.with_final_div_factor(d).unwrap();
            }
            if let Some(three) = args.flag("three_phase") {
                s = s.with_three_phase(three);
            }
            Box::new(s)
        }
        "LambdaLR" => {
            let f = lambda(args.take("lambda").unwrap());
            Box::new(LambdaLr::new(args.f64("base_lr").unwrap(), f).unwrap())
        }
        "CosineAnnealingWarmRestarts" => {
            let mut s = CosineAnnealingWarmRestarts::new(
                args.f64("base_lr").unwrap(),
                args.u64("T_0").unwrap(),
            )
            .unwrap();
            if let Some(m) = args.u64("T_mult") {
                s = s.with_t_mult(m).unwrap();
            }
            if let Some(e) = args.f64("eta_min") {
                s = s.with_eta_min(e).unwrap();
            }
            Box::new(s)
        }
        "CyclicLR" => {
            let mut s =
                CyclicLr::new(args.f64("base_lr").unwrap(), args.f64("max_lr").unwrap()).unwrap();
            if let Some(up) = args.u64("step_size_up") {
                s = s.with_step_size_up(up).unwrap();
            }
            if let Some(down) = args.u64("step_size_down") {
                s = s.with_step_size_down(Some(down));
            }
            if let Some(mode) = args.take("mode") {
                s = s.with_mode(match mode {
                    "triangular" => CyclicMode::Triangular,
                    "triangular2" => CyclicMode::Triangular2,
                    "exp_range" => CyclicMode::ExpRange,
                    other => panic!("mode {other}"),
                });
            }
            if let Some(g) = args.f64("gamma") {
                s = s.with_gamma(g).unwrap();
            }
            Box::new(s)
        }
        other => panic!("no schedule {other}"),
    }
}

#[test]
fn schedules_match_pytorch() {
    let mut cases = BTreeMap::<&str, usize>::new();
    let mut worst = 0.0f64;
    let mut compared = 0;
    for line in REFERENCE.lines().filter(|l| !l.is_empty()) {
        let (head, values) = line.split_once(" | ").expect("a ` | ` in every line");
        let mut words = head.split_whitespace();
        let name = words.next().unwrap();
        *cases.entry(name).or_default() += 1;
        let mut args = Args::parse(head, words);
        let steps = args.u64("steps").unwrap();
        let every = args.u64("every").unwrap_or(1);
        let schedule = build(name, &mut args);
        args.finish();
        let want: Vec<f64> = values
            .split_whitespace()
            .map(|v| v.parse().unwrap())
            .collect();
        assert_eq!(want.len() as u64, steps.div_ceil(every), "{head}");
        for (i, &w) in want.iter().enumerate() {
            let t = i as u64 * every;
            let got = schedule.lr(t);
            if name == "OneCycleLR" && t + 1 == steps {
                // t = N: PyTorch extrapolates the last phase (negative with linear annealing);
                // here the schedule stays at its final rate (see `OneCycleLr`).
                let last = schedule.lr(t - 1);
                assert!(
                    (got - last).abs() <= 1e-9 * last.abs(),
                    "{head}, t = {t}: {got}, not the final rate {last}"
                );
                continue;
            }
            let rel = (got - w).abs() / w.abs();
            assert!(
                rel <= TOL,
                "{head}, t = {t}: got {got}, PyTorch {w} (relative {rel:e})"
            );
            worst = worst.max(rel);
            compared += 1;
        }
    }
    // Every scheduler is covered by several configurations.
    assert_eq!(
        cases,
        BTreeMap::from([
            ("CosineAnnealingWarmRestarts", 4),
            ("CyclicLR", 6),
            ("LambdaLR", 3),
            ("OneCycleLR", 6),
        ])
    );
    eprintln!("{compared} rates, largest relative difference from PyTorch {worst:e}");
}

/// A 1cycle schedule stepped once per batch for all of its N steps, as documented, never
/// hands the optimizer a negative rate (PyTorch's linear annealing does at t = N).
#[test]
fn one_cycle_steps_to_its_end_without_a_negative_rate() {
    use strata_optim::{Optimizer, Scheduler, SgdConfig};
    let mut opt = SgdConfig::new(0.1).build::<f64>().unwrap();
    let schedule = OneCycleLr::new(0.5, 17)
        .unwrap()
        .with_pct_start(0.25)
        .unwrap()
        .with_anneal_strategy(AnnealStrategy::Linear);
    let min = schedule.min_lr();
    let mut scheduler = Scheduler::new(schedule, &mut opt);
    for _ in 0..17 {
        let lr = scheduler.step(&mut opt);
        assert!(lr >= 0.0, "rate {lr}");
    }
    assert_eq!(opt.learning_rate(), min);
}
