//! Parameter groups: two-group SGD, Adam and AdamW trajectories against PyTorch (with and
//! without a schedule), schedules keeping the ratio between groups, state round trips with
//! groups, and the errors for groups that cannot be.
//!
//! REFERENCE holds what `reference/param_groups.py` prints: per case, the 7 values of the two
//! test parameters (`common::params`, gradients `common::grads_for`) after each of 8 steps of
//! PyTorch's optimizer with `param_groups`; the case names and settings are described there and
//! built again in `optimizer` below.

mod common;

use common::{grads_for, params};
use strata_autograd::Param;
use strata_optim::{
    AdamConfig, AdamWConfig, CyclicLr, GroupState, LambdaLr, LrSchedule, OneCycleLr, OptimError,
    Optimizer, OptimizerState, ParamGroup, Scheduler, SgdConfig, StepLr,
};
use strata_tensor::Tensor;

const REFERENCE: &str = r#"
sgd | 0.40991675947737655 -1.1045750685910731 1.903539161384481 0.11115801036944759 -0.3830386627888805 1.5004154470140876 -2.4692448452006293 0.3084156405906895 -0.8594137529296894 1.7547104673443785 0.1284217681403553 -0.35839408299015585 1.4957913190414547 -2.4103358330840496 0.23837370082121193 -0.5311852799371928 1.4977111066339817 0.14513905926217638 -0.3270616546577933 1.4925349072198684 -2.319236556714597 0.13132201770523355 -0.21816205826288326 1.1563772274635664 0.16659926440002698 -0.2825068435759764 1.4944339535721922 -2.202502169117189 -0.01558593616444542 0.10399119669062097 0.8418944712738229 0.1966765435546489 -0.22829922153106036 1.494086788476573 -2.070281240433559 -0.1115468994381593 0.45923346862703396 0.5654951844298958 0.22773531024968297 -0.17280444626560798 1.4895929114269884 -1.9208589229563207 -0.15796961191815923 0.7541781111559389 0.2736329792161167 0.25659236193251367 -0.11290905036626495 1.488822212202686 -1.7516130936877905 -0.22991260532761307 0.9357951096520882 0.02163680536992489 0.2905012309080351 -0.04351542132371812 1.49162457403097 -1.5716283286449257
sgd_nesterov | 0.41394592150350773 -1.1082063151615196 1.906462203315257 0.206001098509752 -0.23886729649436467 1.503946746633831 -2.2078260294059793 0.3571515241529965 -0.9164260639942228 1.8056362541844204 0.3125876759721981 -0.0920268296949014 1.457879640559325 -1.8064564408960324 0.331715589924461 -0.7086685580003794 1.6212286725058913 0.37664550660944773 0.06981556684989995 1.4505191775880653 -1.2604686733488781 0.2518602813734512 -0.541522483517711 1.3977271457361253 0.478962555508518 0.30909333974903 1.4875325322702064 -0.6690937589472948 0.14580030557776602 -0.3419993322542958 1.224505175671897 0.629026025461271 0.5541977609548836 1.4785874020527057 -0.11361259771302507 0.09949213563454355 -0.09597023276402593 1.0570068639922539 0.7319332877170537 0.7368574581879223 1.4409960973119869 0.45961949979906846 0.06905870895593633 0.09893811262243819 0.8379960488432096 0.7924334250012919 0.9246270854401978 1.4602167372357697 1.05842099471026 -0.014758059908579767 0.2359084988353376 0.6445958360420174 0.8956484908741054 1.1498732314491322 1.4964197041515448 1.5758345543669863
adam | 0.490000000105727 -1.1900000000941398 1.990000000087366 0.10099999999103783 -0.3990000000058958 1.5009999997592955 -2.4990000000032513 0.48129901296433325 -1.1801714445691776 1.9801628040358654 0.10196822086304046 -0.39805158796656864 1.5003138393317905 -2.497999468812996 0.4747668885547891 -1.170284452103962 1.9703257687091285 0.10277896534829171 -0.397112680620129 1.4999002509646289 -2.4969968757903613 0.4670775825989241 -1.1608060518002157 1.9603968615856249 0.10363362782609625 -0.3961488647439575 1.5000505114980713 -2.4959927884156583 0.4586346702252165 -1.151220290664313 1.9507125025146517 0.1045388317617797 -0.39517233648224226 1.5000147180418042 -2.4949978253530576 0.451139314398609 -1.1414487946024463 1.941103824803002 0.10542298704006026 -0.39422712026627676 1.4997257521572378 -2.4940013758992046 0.44427127550508577 -1.131745671234879 1.931306313345739 0.10624059731204626 -0.39327834126602235 1.4996694661896746 -2.492997785248881 0.4365569092979152 -1.1223283729710096 1.9214394577032747 0.10710391928083646 -0.392307683166172 1.499798774346703 -2.4919961149030168
adam_l2_group | 0.48000000022325606 -1.180000000212258 1.980000000211728 0.11999999981994976 -0.38000000011654106 1.4800000059781244 -2.48000000006249 0.46302141078788805 -1.1604226333101142 1.9604822480805004 0.139304991342481 -0.36105302040586434 1.4643415761306644 -2.459991840419686 0.45122445177644305 -1.1407089577624885 1.9410018237304918 0.15517279384568072 -0.34233425653910077 1.4532417997223537 -2.4399375729488564 0.4367870957123743 -1.121984684044397 1.9212819461501516 0.17189623710339125 -0.32309411742592004 1.4533076601403765 -2.4198601013990593 0.4205742514722681 -1.1030190194192897 1.9022208962946279 0.1897450116654444 -0.303610776560678 1.4498077819751656 -2.399974070950686 0.40670643939877366 -1.0836255356431088 1.8833789278483388 0.20700466208187449 -0.28484074081467553 1.4418251102354083 -2.380068721348622 0.39447349822447897 -1.0644077726528134 1.8640611748402074 0.22258617713710574 -0.26604247430929473 1.4384175745964363 -2.3600270502528464 0.3802309855481941 -1.0459000952807793 1.8445706575954408 0.2391463030345793 -0.24678594058128964 1.4387938900541362 -2.340037368004671
adamw | 0.49700000003348843 -1.1970000000318386 1.9970000000317591 0.1099499999103783 -0.38980000005895765 1.5092499975929548 -2.4887500000325153 0.49443118464172664 -1.1940656623839814 1.994066016162121 0.11956562213789952 -0.3801316629257132 1.5016259431628476 -2.477500852259956 0.4925883787695946 -1.1911082170614427 1.9911440087051337 0.12754711158497284 -0.3705733992485545 1.4967032020529327 -2.466236026332251 0.49035799143219505 -1.188286261254678 1.9881870184167283 0.13595821179625872 -0.36076287053984657 1.4974130846633011 -2.454963143103996 0.4878755387389351 -1.185425768430984 1.9853153340645127 0.1448932052005807 -0.35083113896606005 1.496299823895729 -2.4437914045848736 0.4856911897386887 -1.1825049632143028 1.9824664622328805 0.15357911180852715 -0.34124013045807067 1.4926845680913776 -2.4326126191325668 0.48369953951365363 -1.1796027354367298 1.9795514715574674 0.16152547509159682 -0.3316272764801626 1.4914193297294926 -2.421368444587725 0.4814316257060705 -1.176789903984167 1.97660789406707 0.1699381861508654 -0.3217938044379462 1.4920246254842615 -2.4101528345184184
sgd_steplr | 0.41041675947737655 -1.1057750685910732 1.905539161384481 0.12231602073889516 -0.366077325577761 1.500830894028175 -2.438489690401259 0.3455688535592163 -0.9003923005618512 1.7980383419519708 0.14773859981924137 -0.3306286171445852 1.491243633319414 -2.345767872484386 0.3386794899955009 -0.7940455290770985 1.7087806093060594 0.15511961906390095 -0.3128362572495455 1.4897885029817832 -2.285022796225434 0.309334794835358 -0.7218145280185632 1.6014405911640084 0.1651449273360286 -0.287698254898601 1.493912726038624 -2.2201789293149705 0.28583083624082145 -0.683630180011725 1.5641728474272603 0.17303861901759468 -0.27433884262993397 1.493917713306613 -2.190317265623582 0.27711067381365606 -0.6324334950555216 1.5329626800853464 0.1790746242844631 -0.264121020298691 1.491830169009524 -2.1596945488461423 0.2760228834202096 -0.6117569252728001 1.5101682943095867 0.18090698738743566 -0.2588964070277051 1.4921222559501675 -2.142869762515249 0.26734899804643114 -0.5981441652257407 1.4877749287489503 0.18395892030325553 -0.25212018249560475 1.4931356971155332 -2.12675897633685
adam_lambdalr | 0.4500000005581401 -1.150000000530645 1.9500000005293199 0.10999999991037829 -0.39000000005895763 1.5099999975929548 -2.490000000032515 0.4291145486359245 -1.1254951424237936 1.9257031615850684 0.11483526571719677 -0.38526316460735605 1.5065649323942751 -2.484997580277854 0.419806585497942 -1.1090609954077417 1.9094911648071649 0.11752099020763368 -0.38213891672434797 1.5051555928296683 -2.4816556143356747 0.4111061435332173 -1.0973822606463863 1.8971764199145429 0.1196453324597088 -0.37973194489799256 1.5055001196281883 -2.479145512683399 0.4031887265706779 -1.0879149109295267 1.8876617809748786 0.12144905805472364 -0.37778070102697164 1.5054027903070655 -2.4771559393668863 0.3975939017876614 -1.0798432182713245 1.8798200672717713 0.12291540696601225 -0.3762079899576745 1.5049032773081155 -2.475495544728354 0.393381277149731 -1.072981000482637 1.8729259209522993 0.12407411992312475 -0.3748549801252351 1.5048053816881024 -2.4740621223475845 0.3890275949753757 -1.0671892070426185 1.8668326671177586 0.12514638846892462 -0.37364332825668123 1.504951330893463 -2.472810330245109
"#;

const STEPS: usize = 8;
const TOL: f64 = 1e-12;

/// PyTorch's trajectory of `case`: 8 rows of 7 values.
fn pytorch(case: &str) -> Vec<Vec<f64>> {
    let line = REFERENCE
        .lines()
        .find_map(|l| {
            l.strip_prefix(case)
                .and_then(|rest| rest.strip_prefix(" | "))
        })
        .unwrap_or_else(|| panic!("no reference for {case}"));
    let values: Vec<f64> = line
        .split_whitespace()
        .map(|v| v.parse().unwrap())
        .collect();
    assert_eq!(values.len(), STEPS * 7, "{case}");
    values.chunks(7).map(<[f64]>::to_vec).collect()
}

/// The optimizer of `case` (as in `reference/param_groups.py`) over the parameters `a` and
/// `b`, and the schedule stepped after every optimizer step, if any.
fn optimizer(
    case: &str,
    a: &Param<f64>,
    b: &Param<f64>,
) -> (Box<dyn Optimizer<f64>>, Option<Box<dyn LrSchedule>>) {
    let only = |p: &Param<f64>| ParamGroup::new([p]);
    match case {
        "sgd" => (
            Box::new(
                SgdConfig::new(0.1)
                    .with_momentum(0.9)
                    .with_weight_decay(0.01)
                    .build()
                    .unwrap()
                    .with_param_group(only(b).with_lr(0.01).with_weight_decay(0.0))
                    .unwrap(),
            ),
            None,
        ),
        "sgd_nesterov" => (
            Box::new(
                SgdConfig::new(0.05)
                    .with_momentum(0.9)
                    .with_nesterov(true)
                    .build()
                    .unwrap()
                    .with_param_group(only(a).with_weight_decay(0.02))
                    .unwrap(),
            ),
            None,
        ),
        "adam" => (
            Box::new(
                AdamConfig::new(0.01)
                    .with_weight_decay_coefficient(0.1)
                    .build()
                    .unwrap()
                    .with_param_group(only(b).with_lr(0.001).with_weight_decay(0.0))
                    .unwrap(),
            ),
            None,
        ),
        "adam_l2_group" => (
            Box::new(
                AdamConfig::new(0.02)
                    .build()
                    .unwrap()
                    .with_param_group(only(b).with_weight_decay(0.05))
                    .unwrap(),
            ),
            None,
        ),
        "adamw" => (
            Box::new(
                AdamWConfig::new(0.01)
                    .with_weight_decay_coefficient(0.05)
                    .build()
                    .unwrap()
                    .with_param_group(only(a).with_lr(0.003).with_weight_decay(0.0))
                    .unwrap(),
            ),
            None,
        ),
        "sgd_steplr" => (
            Box::new(
                SgdConfig::new(0.1)
                    .with_momentum(0.5)
                    .build()
                    .unwrap()
                    .with_param_group(only(b).with_lr(0.02))
                    .unwrap(),
            ),
            Some(Box::new(StepLr::new(0.1, 2, 0.5).unwrap())),
        ),
        "adam_lambdalr" => (
            Box::new(
                AdamConfig::new(0.01)
                    .build()
                    .unwrap()
                    .with_param_group(only(a).with_lr(0.05))
                    .unwrap(),
            ),
            Some(Box::new(
                LambdaLr::new(0.01, |t| 1.0 / (1 + t) as f64).unwrap(),
            )),
        ),
        other => panic!("no case {other}"),
    }
}

/// Runs `case` for 8 steps; the 7 values after each.
fn run(case: &str) -> Vec<Vec<f64>> {
    let (mut a, mut b) = params();
    let (mut opt, schedule) = optimizer(case, &a, &b);
    let mut scheduler = schedule.map(|s| Scheduler::new(s, opt.as_mut()));
    let mut out = Vec::new();
    for t in 1..=STEPS {
        let grads = grads_for(t, &a, &b);
        opt.step(&mut [&mut a, &mut b], &grads);
        if let Some(s) = scheduler.as_mut() {
            s.step(opt.as_mut());
        }
        let mut v = a.value().to_vec();
        v.extend(b.value().to_vec());
        out.push(v);
    }
    out
}

#[test]
fn two_group_trajectories_match_pytorch() {
    let cases = [
        "sgd",
        "sgd_nesterov",
        "adam",
        "adam_l2_group",
        "adamw",
        "sgd_steplr",
        "adam_lambdalr",
    ];
    assert_eq!(
        REFERENCE.lines().filter(|l| !l.is_empty()).count(),
        cases.len()
    );
    let mut worst = 0.0f64;
    for case in cases {
        let got = run(case);
        let want = pytorch(case);
        for (t, (g, w)) in got.iter().zip(&want).enumerate() {
            for (k, (x, y)) in g.iter().zip(w).enumerate() {
                let d = (x - y).abs() / y.abs().max(1.0);
                assert!(
                    d <= TOL,
                    "{case}, step {} element {k}: got {x}, PyTorch {y} ({d:e})",
                    t + 1
                );
                worst = worst.max(d);
            }
        }
    }
    eprintln!("largest difference from PyTorch {worst:e}");
}

#[test]
fn groups_change_the_update_of_their_members_only() {
    // The group's settings reach its members, the default the others: with the group's lr
    // and weight decay equal to the default's, the trajectory is that of no group at all.
    let (mut a, mut b) = params();
    let (mut a2, mut b2) = params();
    let config = SgdConfig::new(0.1)
        .with_momentum(0.9)
        .with_weight_decay(0.01);
    let mut plain = config.build::<f64>().unwrap();
    let mut grouped = config
        .build::<f64>()
        .unwrap()
        .with_param_group(ParamGroup::new([&b2]).with_lr(0.1).with_weight_decay(0.01))
        .unwrap();
    let (mut a3, mut b3) = params();
    let mut halved = config
        .build::<f64>()
        .unwrap()
        .with_param_group(ParamGroup::new([&b3]).with_lr_scale(0.5))
        .unwrap();
    for t in 1..=4 {
        let g = grads_for(t, &a, &b);
        plain.step(&mut [&mut a, &mut b], &g);
        let g2 = grads_for(t, &a2, &b2);
        grouped.step(&mut [&mut a2, &mut b2], &g2);
        let g3 = grads_for(t, &a3, &b3);
        halved.step(&mut [&mut a3, &mut b3], &g3);
    }
    // Same settings as the default: the same trajectory.
    assert_eq!(a.value().to_vec(), a2.value().to_vec());
    assert_eq!(b.value().to_vec(), b2.value().to_vec());
    // Half the rate for b3 only: a3 follows the default, b3 does not.
    assert_eq!(a.value().to_vec(), a3.value().to_vec());
    assert_ne!(b.value().to_vec(), b3.value().to_vec());
    assert_eq!(halved.group_learning_rate(0), 0.05);
    assert_eq!(grouped.param_group_of(&b2), Some(0));
    assert_eq!(grouped.param_group_of(&a2), None);
}

#[test]
fn groups_from_names_select_by_predicate() {
    let w = Param::new(Tensor::<f32>::zeros(&[2, 2]));
    let bias = Param::new(Tensor::<f32>::zeros(&[2]));
    let norm = Param::new(Tensor::<f32>::ones(&[2]));
    let named = [
        ("fc.weight".to_string(), &w),
        ("fc.bias".to_string(), &bias),
        ("norm.weight".to_string(), &norm),
    ];
    let no_decay = ParamGroup::from_named(named.iter().map(|(n, p)| (n.as_str(), *p)), |n| {
        n.ends_with(".bias") || n.starts_with("norm.")
    });
    assert_eq!(no_decay.ids(), &[bias.id(), norm.id()]);
    let opt = AdamWConfig::new(1e-3)
        .build::<f32>()
        .unwrap()
        .with_param_group(no_decay.with_weight_decay(0.0))
        .unwrap();
    assert_eq!(opt.group_weight_decay(0), 0.0);
    assert_eq!(opt.param_group_of(&w), None);
    assert_eq!(opt.param_group_of(&norm), Some(0));
    assert_eq!(opt.config().weight_decay.coefficient(), 0.01);
    // A parameter listed twice counts once.
    assert_eq!(ParamGroup::new([&w, &w, &bias]).len(), 2);
}

#[test]
fn a_schedule_keeps_the_ratio_between_groups() {
    let (a, b) = params();
    let c = Param::new(Tensor::<f64>::zeros(&[1]));
    let schedules: Vec<Box<dyn LrSchedule>> = vec![
        Box::new(StepLr::new(0.1, 3, 0.3).unwrap()),
        Box::new(OneCycleLr::new(0.1, 40).unwrap()),
        Box::new(
            CyclicLr::new(0.01, 0.1)
                .unwrap()
                .with_step_size_up(5)
                .unwrap(),
        ),
    ];
    for schedule in schedules {
        let mut opt = SgdConfig::new(0.1)
            .with_momentum(0.9)
            .build::<f64>()
            .unwrap()
            .with_param_group(ParamGroup::new([&a]).with_lr(0.01))
            .unwrap()
            .with_param_group(ParamGroup::new([&b]).with_lr_scale(3.0))
            .unwrap()
            .with_param_group(ParamGroup::new([&c]).with_weight_decay(0.1))
            .unwrap();
        let mut scheduler = Scheduler::new(schedule, &mut opt);
        for t in 0..40 {
            if t > 0 {
                scheduler.step(&mut opt);
            }
            let lr = opt.learning_rate();
            assert_eq!(lr, scheduler.lr());
            for (group, ratio) in [(0, 0.1), (1, 3.0), (2, 1.0)] {
                let got = opt.group_learning_rate(group);
                assert!(
                    (got - ratio * lr).abs() <= 1e-15 * lr,
                    "t = {t}, group {group}: {got} vs {ratio}·{lr}"
                );
            }
            assert_eq!(opt.group_weight_decay(2), 0.1);
            assert_eq!(opt.group_weight_decay(0), 0.0);
        }
    }
}

/// 3 steps of AdamW with two groups on the test parameters.
fn grouped_adamw(a: &mut Param<f64>, b: &mut Param<f64>) -> strata_optim::Adam<f64> {
    let mut opt = AdamWConfig::new(0.01)
        .with_amsgrad(true)
        .build::<f64>()
        .unwrap()
        .with_param_group(ParamGroup::new([&*b]).with_lr(0.002).with_weight_decay(0.0))
        .unwrap();
    for t in 1..=3 {
        let g = grads_for(t, a, b);
        opt.step(&mut [&mut *a, &mut *b], &g);
    }
    opt
}

#[test]
fn state_round_trips_with_groups() {
    let (mut a, mut b) = params();
    let mut opt = grouped_adamw(&mut a, &mut b);
    opt.set_learning_rate(0.005);
    let saved = opt.state(&[&a, &b]);
    assert_eq!(
        saved.groups,
        vec![GroupState {
            params: vec![1],
            base_lr: 0.002,
            base_default_lr: 0.01,
            weight_decay: Some(0.0),
        }]
    );

    let json: OptimizerState =
        serde_json::from_str(&serde_json::to_string(&saved).unwrap()).unwrap();
    let bytes = bincode::serde::encode_to_vec(&saved, bincode::config::standard()).unwrap();
    let (bin, read): (OptimizerState, usize) =
        bincode::serde::decode_from_slice(&bytes, bincode::config::standard()).unwrap();
    assert_eq!(read, bytes.len());
    for (through, loaded_state) in [("json", json), ("bincode", bin)] {
        assert_eq!(loaded_state, saved, "{through}");
        // A fresh process: new ids (created b first), an optimizer without groups.
        let mut b2 = Param::new(b.value().clone());
        let mut a2 = Param::new(a.value().clone());
        let mut resumed = AdamWConfig::new(0.01)
            .with_amsgrad(true)
            .build::<f64>()
            .unwrap();
        resumed.load_state(&[&a2, &b2], &loaded_state).unwrap();
        assert_eq!(resumed.num_param_groups(), 1, "{through}");
        assert_eq!(resumed.param_group_of(&b2), Some(0), "{through}");
        assert_eq!(resumed.learning_rate(), 0.005, "{through}");
        assert_eq!(
            resumed.group_learning_rate(0),
            opt.group_learning_rate(0),
            "{through}"
        );
        assert_eq!(resumed.state(&[&a2, &b2]), saved, "{through}");
        let (mut a1, mut b1) = (Param::new(a.value().clone()), Param::new(b.value().clone()));
        let mut original = opt.clone();
        original.load_state(&[&a1, &b1], &saved).unwrap();
        for t in 4..=6 {
            let g = grads_for(t, &a1, &b1);
            original.step(&mut [&mut a1, &mut b1], &g);
            let g2 = grads_for(t, &a2, &b2);
            resumed.step(&mut [&mut a2, &mut b2], &g2);
        }
        assert_eq!(a1.value().to_vec(), a2.value().to_vec(), "{through}");
        assert_eq!(b1.value().to_vec(), b2.value().to_vec(), "{through}");
    }

    // Groups are saved by position: listed in another order, the members follow.
    let swapped = opt.state(&[&b, &a]);
    assert_eq!(swapped.groups[0].params, vec![0]);

    // A state with another number of groups is refused by an optimizer that has groups (as
    // PyTorch's `load_state_dict`): loading it would drop them silently.
    let (mut c, mut d) = params();
    let plain = {
        let mut o = AdamWConfig::new(0.01)
            .with_amsgrad(true)
            .build::<f64>()
            .unwrap();
        let g = grads_for(1, &c, &d);
        o.step(&mut [&mut c, &mut d], &g);
        o.state(&[&c, &d])
    };
    assert!(plain.groups.is_empty());
    let mut with_groups = opt.clone();
    let err = with_groups.load_state(&[&c, &d], &plain).unwrap_err();
    let message = err.to_string();
    assert!(
        message.contains("load_state") && message.contains("0 parameter group(s)"),
        "{message}"
    );
    assert_eq!(with_groups.num_param_groups(), opt.num_param_groups());
    // An optimizer without groups takes the saved ones (none here).
    let mut without = AdamWConfig::new(0.01)
        .with_amsgrad(true)
        .build::<f64>()
        .unwrap();
    without.load_state(&[&c, &d], &plain).unwrap();
    assert_eq!(without.num_param_groups(), 0);
}

/// The state of SGD (lr 0.05, Nesterov momentum 0.9, λ = 0.01) after 3 steps on the test
/// parameters, as the version before parameter groups wrote it — format
/// `strata-optim-state/2`, without `groups` — in JSON and in bincode (hex).
const FORMAT_2_JSON: &str = r#"{"format":"strata-optim-state/2","step":3,"config":{"Sgd":{"lr":0.05,"momentum":0.9,"dampening":0.0,"weight_decay":0.01,"nesterov":true}},"params":[{"step":3,"buffers":{"momentum_buffer":{"shape":[3],"values":{"F64":[0.7440166973713909,-3.3340417097666095,2.618303188627389]}}}},{"step":3,"buffers":{"momentum_buffer":{"shape":[2,2],"values":{"F64":[-1.4506510823521082,-2.821779557658743,0.3343650747404029,-8.49076143492918]}}}}]}"#;
const FORMAT_2_BINCODE: &str = "147374726174612d6f7074696d2d73746174652f3203009a9999999999a93fcdccccccccccec3f00000000000000007b14ae47e17a843f01020103010f6d6f6d656e74756d5f62756666657201030103ee6adc1afccee73f8194570f1eac0ac0555631f148f204400103010f6d6f6d656e74756d5f6275666665720202020104b9bfc9e8dd35f7bf3f532529019306c0ead03bc53c66d53f5651321545fb20c0";

#[test]
fn states_of_the_previous_format_load_without_groups() {
    let (mut a, mut b) = params();
    let mut opt = SgdConfig::new(0.05)
        .with_momentum(0.9)
        .with_nesterov(true)
        .with_weight_decay(0.01)
        .build::<f64>()
        .unwrap();
    for t in 1..=3 {
        let g = grads_for(t, &a, &b);
        opt.step(&mut [&mut a, &mut b], &g);
    }
    let now = opt.state(&[&a, &b]);
    let from_json: OptimizerState = serde_json::from_str(FORMAT_2_JSON).unwrap();
    let bytes: Vec<u8> = (0..FORMAT_2_BINCODE.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&FORMAT_2_BINCODE[i..i + 2], 16).unwrap())
        .collect();
    let (from_bincode, read): (OptimizerState, usize) =
        bincode::serde::decode_from_slice(&bytes, bincode::config::standard()).unwrap();
    assert_eq!(read, bytes.len());
    assert_eq!(from_json, now);
    assert_eq!(from_bincode, now);
    let mut grouped = SgdConfig::new(0.05)
        .build::<f64>()
        .unwrap()
        .with_param_group(ParamGroup::new([&a]).with_lr(0.5))
        .unwrap();
    // A grouped optimizer refuses it (the state has no groups); a plain one loads it.
    assert!(grouped.load_state(&[&a, &b], &from_bincode).is_err());
    assert_eq!(grouped.num_param_groups(), 1);
    let mut plain = SgdConfig::new(0.05).build::<f64>().unwrap();
    plain.load_state(&[&a, &b], &from_bincode).unwrap();
    assert_eq!(plain.num_param_groups(), 0);
    assert_eq!(plain.state(&[&a, &b]), now);

    // Format 2 has no groups: a `groups` field in it is refused.
    let mut value: serde_json::Value = serde_json::from_str(FORMAT_2_JSON).unwrap();
    value["groups"] = serde_json::json!([]);
    let err = serde_json::from_value::<OptimizerState>(value).unwrap_err();
    assert!(err.to_string().contains("with `groups`"), "{err}");
    // Format 3 has them: a state without is refused.
    let mut value = serde_json::to_value(&now).unwrap();
    value.as_object_mut().unwrap().remove("groups");
    let err = serde_json::from_value::<OptimizerState>(value).unwrap_err();
    assert!(err.to_string().contains("missing field `groups`"), "{err}");
}

fn sgd() -> strata_optim::Sgd<f64> {
    SgdConfig::new(0.1).build::<f64>().unwrap()
}

#[test]
fn invalid_groups_are_refused_naming_the_method_and_the_value() {
    let (a, b) = params();
    let reason = |e: OptimError| match e {
        OptimError::InvalidParamGroup {
            owner: "Sgd",
            method: "add_param_group",
            group,
            reason,
        } => (group, reason),
        other => panic!("{other:?}"),
    };
    let mut opt = sgd().with_param_group(ParamGroup::new([&a])).unwrap();
    let cases = [
        (
            ParamGroup::new([&b]).with_lr(-0.1),
            "lr = -0.1 (expected finite and ≥ 0)",
        ),
        (
            ParamGroup::new([&b]).with_lr(f64::NAN),
            "lr = NaN (expected finite and ≥ 0)",
        ),
        (
            ParamGroup::new([&b]).with_lr_scale(f64::INFINITY),
            "lr scale = inf (expected finite and ≥ 0)",
        ),
        (
            ParamGroup::new([&b]).with_weight_decay(-1.0),
            "weight_decay = -1 (expected finite and ≥ 0)",
        ),
        (
            ParamGroup::new([&b]).with_weight_decay(f64::NAN),
            "weight_decay = NaN (expected finite and ≥ 0)",
        ),
        (ParamGroup::from_ids([]), "the group holds no parameter"),
    ];
    for (group, want) in cases {
        assert_eq!(
            reason(opt.add_param_group(group).unwrap_err()),
            (1, want.to_string())
        );
    }
    let err = opt.add_param_group(ParamGroup::new([&b, &a])).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "Sgd::add_param_group: parameter group 1: parameter {:?} is already in parameter group 0",
            a.id()
        )
    );
    // Nothing was added by the refused groups.
    assert_eq!(opt.num_param_groups(), 1);
    assert_eq!(opt.param_group_of(&b), None);

    // A rate cannot be kept in proportion to a default rate of 0; a scale can.
    let mut zero = SgdConfig::new(0.0).build::<f64>().unwrap();
    let (group, why) = reason(
        zero.add_param_group(ParamGroup::new([&a]).with_lr(0.1))
            .unwrap_err(),
    );
    assert_eq!(group, 0);
    assert!(why.contains("with_lr_scale"), "{why}");
    assert_eq!(
        zero.add_param_group(ParamGroup::new([&a]).with_lr_scale(0.1)),
        Ok(0)
    );
    zero.set_learning_rate(0.2);
    assert!((zero.group_learning_rate(0) - 0.02).abs() < 1e-17);
}

#[test]
#[should_panic(expected = "Sgd::group_learning_rate: no parameter group 1 (there are 1)")]
fn asking_for_a_missing_group_panics() {
    let (a, _) = params();
    let opt = sgd().with_param_group(ParamGroup::new([&a])).unwrap();
    opt.group_learning_rate(1);
}

#[test]
fn saved_groups_that_do_not_fit_are_refused() {
    let (mut a, mut b) = params();
    let opt = grouped_adamw(&mut a, &mut b);
    let good = opt.state(&[&a, &b]);
    let edit = |f: fn(&mut GroupState)| {
        let mut s = good.clone();
        f(&mut s.groups[0]);
        s
    };
    let cases = [
        (
            edit(|g| g.params = vec![2]),
            "parameter position 2, but 2 parameters were given",
        ),
        (
            edit(|g| g.base_lr = -1.0),
            "base_lr = -1 (expected finite and ≥ 0)",
        ),
        (
            edit(|g| g.base_default_lr = 0.0),
            "base_default_lr = 0 (expected finite and > 0)",
        ),
        (
            edit(|g| g.weight_decay = Some(f64::INFINITY)),
            "weight_decay = inf (expected finite and ≥ 0)",
        ),
    ];
    let mut target = AdamWConfig::new(0.01)
        .with_amsgrad(true)
        .build::<f64>()
        .unwrap();
    for (state, why) in cases {
        let err = target.load_state(&[&a, &b], &state).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!("AdamW::load_state: parameter group 0: {why}")
        );
    }
    let mut twice = good.clone();
    twice.groups.push(twice.groups[0].clone());
    let err = target.load_state(&[&a, &b], &twice).unwrap_err();
    assert_eq!(
        err.to_string(),
        "AdamW::load_state: parameter group 1: parameter 1 is also in parameter group 0"
    );
    // The optimizer is unchanged by the refused states.
    assert_eq!(target.step_count(), 0);
    assert_eq!(target.num_param_groups(), 0);
}
