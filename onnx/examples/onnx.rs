//! ONNX from the command line: export a ready Strata model, inspect a file, import one and
//! score (and fine-tune) it on MNIST-format data, or time its inference against ONNX Runtime.
//!
//!     cargo run --release -p strata-onnx --example onnx -- export --model lenet5
//!     cargo run --release -p strata-onnx --example onnx -- inspect target/examples/onnx/lenet5.onnx
//!     cargo run --release -p strata-onnx --example onnx -- import target/examples/onnx/lenet5.onnx --fine-tune 1
//!     cargo run --release -p strata-onnx --example onnx -- bench target/examples/onnx/lenet5.onnx
//!
//! Every file is written into `--out DIR` (default `target/examples/onnx`): `export` writes
//! `<model>.onnx`; `import --fine-tune N` writes the fine-tuned model `<file>_fine_tuned.onnx`
//! and its learning curves, `learning_curves.png` and `history.csv`.
//! `export --weights FILE` loads a safetensors file (as the `ddp` example writes) first.
//! `bench` runs ONNX Runtime through the Python in `STRATA_PYTHON` (or `python3`) when it has
//! `onnxruntime`, on one thread, with the same inputs, and prints both and the ratio.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Instant;

use clap::{Parser, Subcommand, ValueEnum};
use strata_datasets::Dataset as _;
use strata_layers::Module;
use strata_models::data::{describe, globally_standardized, load_mnist};
use strata_models::plot::plot_learning_curves;
use strata_models::sequence::LstmClassifier;
use strata_models::{
    DltCnn, LeNet5, LeNetConfig, Mlp, MlpConfig, Objective, Trainer, TrainerConfig, cli,
};
use strata_onnx::proto::{ModelProto, dimension};
use strata_tensor::Tensor;

#[derive(Parser)]
#[command(about = "Export, inspect, import and time ONNX models with Strata")]
struct Cli {
    #[command(subcommand)]
    command: Task,
}

#[derive(Clone, Copy, ValueEnum)]
enum ReadyModel {
    /// LeNet-5 (ReLU, max pooling), [N, 1, 28, 28] → 10.
    Lenet5,
    /// The DeepLearnToolbox CNN, [N, 1, 28, 28] → 10.
    DltCnn,
    /// A 784-100-10 ReLU MLP, [N, 784] → 10.
    Mlp,
    /// The row-by-row LSTM classifier, [N, 1, 28, 28] → 10.
    Lstm,
}

#[derive(Subcommand)]
enum Task {
    /// Export a ready model (freshly initialised, or with --weights) to ONNX.
    Export {
        #[arg(long, value_enum)]
        model: ReadyModel,
        /// A safetensors file of the model's weights (parameter paths as names).
        #[arg(long)]
        weights: Option<PathBuf>,
        /// Folder for the ONNX file written, `<model>.onnx`.
        #[arg(long, value_name = "DIR", default_value = DEFAULT_OUT)]
        out: PathBuf,
    },
    /// Print what a file holds and whether Strata imports it.
    Inspect {
        /// The ONNX file.
        file: PathBuf,
    },
    /// Import a classifier of 28×28 images, score it on the test set, optionally fine-tune it.
    Import {
        /// The ONNX file.
        file: PathBuf,
        /// Data: `mnist-sample`, `fashion` or a directory of MNIST-format IDX files.
        #[arg(long, default_value = "mnist-sample")]
        data: String,
        /// Epochs of fine-tuning (Adam 1e-3, batch 64) before scoring again.
        #[arg(long, default_value_t = 0, value_parser = cli::count)]
        fine_tune: usize,
        /// Folder for the files of a fine-tuning: the fine-tuned model
        /// `<file>_fine_tuned.onnx`, `learning_curves.png` and `history.csv`.
        #[arg(long, value_name = "DIR", default_value = DEFAULT_OUT)]
        out: PathBuf,
    },
    /// Time inference of an imported model in Strata and in ONNX Runtime (one thread each).
    Bench {
        /// The ONNX file.
        file: PathBuf,
        /// Batch sizes to time.
        #[arg(long, value_delimiter = ',', default_value = "1,64", value_parser = cli::int_in(1, 4096))]
        batch: Vec<usize>,
        /// Timed runs per batch size (after 20 to warm up).
        #[arg(long, default_value_t = 200, value_parser = cli::int_in(1, 1_000_000))]
        runs: usize,
    },
}

/// Where the files are written without `--out`.
const DEFAULT_OUT: &str = "target/examples/onnx";

/// Creates the folder `dir` for the files written, or ends the program naming it and why.
fn create_out(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap_or_else(|e| {
        fail(format!(
            "--out {}: cannot create the folder: {e}",
            dir.display()
        ))
    });
}

fn fail(e: impl std::fmt::Display) -> ! {
    eprintln!("error: {e}");
    std::process::exit(2)
}

fn main() {
    cli::log_warnings_to_stderr();
    match Cli::parse().command {
        Task::Export {
            model,
            weights,
            out,
        } => export(model, weights, &out),
        Task::Inspect { file } => inspect(&file),
        Task::Import {
            file,
            data,
            fine_tune,
            out,
        } => import(&file, &data, fine_tune, &out),
        Task::Bench { file, batch, runs } => bench(&file, &batch, runs),
    }
}

fn export(which: ReadyModel, weights: Option<PathBuf>, out: &Path) {
    let (mut model, shape, name): (Box<dyn Module>, Vec<usize>, &str) = match which {
        ReadyModel::Lenet5 => (
            Box::new(LeNet5::new(LeNetConfig::default())),
            vec![1, 28, 28],
            "lenet5",
        ),
        ReadyModel::DltCnn => (Box::new(DltCnn::new()), vec![1, 28, 28], "dlt_cnn"),
        ReadyModel::Mlp => (
            Box::new(Mlp::new(&MlpConfig::new(&[784, 100, 10]))),
            vec![784],
            "mlp",
        ),
        ReadyModel::Lstm => (
            Box::new(LstmClassifier::mnist()),
            vec![1, 28, 28],
            "lstm_classifier",
        ),
    };
    if let Some(path) = &weights {
        strata_layers::safetensors::import_safetensors(&mut *model, path)
            .unwrap_or_else(|e| fail(format!("--weights: {e}")));
    }
    let onnx = strata_onnx::export(&mut *model, &shape, name).unwrap_or_else(|e| fail(e));
    create_out(out);
    let path = out.join(format!("{name}.onnx"));
    strata_onnx::save(&onnx, &path).unwrap_or_else(|e| fail(e));
    println!(
        "wrote {} ({name}, {} parameters, opset {})",
        path.display(),
        model.num_params(),
        strata_onnx::OPSET
    );
}

fn shape_of(model: &ModelProto) -> String {
    let graph = model.graph.as_ref().expect("decoded models have a graph");
    let describe = |v: &strata_onnx::proto::ValueInfoProto| {
        let dims: Vec<String> = v
            .r#type
            .as_ref()
            .and_then(|t| t.tensor_type.as_ref())
            .and_then(|t| t.shape.as_ref())
            .map(|s| {
                s.dim
                    .iter()
                    .map(|d| match &d.value {
                        Some(dimension::Value::DimValue(v)) => v.to_string(),
                        Some(dimension::Value::DimParam(p)) => p.clone(),
                        None => "?".into(),
                    })
                    .collect()
            })
            .unwrap_or_default();
        format!("{} [{}]", v.name, dims.join(", "))
    };
    let initializers: std::collections::HashSet<&str> =
        graph.initializer.iter().map(|t| t.name.as_str()).collect();
    let inputs: Vec<String> = graph
        .input
        .iter()
        .filter(|v| !initializers.contains(v.name.as_str()))
        .map(describe)
        .collect();
    let outputs: Vec<String> = graph.output.iter().map(describe).collect();
    format!(
        "inputs {} → outputs {}",
        inputs.join(", "),
        outputs.join(", ")
    )
}

fn inspect(file: &PathBuf) {
    let model = strata_onnx::load(file).unwrap_or_else(|e| fail(e));
    let graph = model.graph.as_ref().expect("decoded models have a graph");
    let opsets: Vec<String> = model
        .opset_import
        .iter()
        .map(|o| {
            format!(
                "{}{}",
                if o.domain.is_empty() {
                    "ai.onnx"
                } else {
                    &o.domain
                },
                o.version
            )
        })
        .collect();
    println!(
        "{}: IR {}, opsets {}, producer {} {}",
        file.display(),
        model.ir_version,
        opsets.join(" "),
        model.producer_name,
        model.producer_version
    );
    for e in &model.metadata_props {
        println!("  metadata {} = {}", e.key, e.value);
    }
    println!("  {}", shape_of(&model));
    let mut ops: BTreeMap<&str, usize> = BTreeMap::new();
    for n in &graph.node {
        *ops.entry(n.op_type.as_str()).or_default() += 1;
    }
    let ops: Vec<String> = ops.iter().map(|(op, n)| format!("{op}×{n}")).collect();
    println!("  {} nodes: {}", graph.node.len(), ops.join(" "));
    let scalars: i64 = graph
        .initializer
        .iter()
        .map(|t| t.dims.iter().product::<i64>())
        .sum();
    println!(
        "  {} initializers, {scalars} values",
        graph.initializer.len()
    );
    match strata_onnx::import(&model) {
        Ok(m) => println!(
            "  Strata imports it: {} trainable parameters in {} tensors",
            m.num_params(),
            m.params().len()
        ),
        Err(e) => println!("  Strata cannot import it: {e}"),
    }
}

fn import(file: &Path, data: &str, fine_tune: usize, out: &Path) {
    let model = strata_onnx::load(file).unwrap_or_else(|e| fail(e));
    let module = strata_onnx::import(&model).unwrap_or_else(|e| fail(e));
    // A graph whose input is `[N, features]` (an MLP) takes the images flattened.
    let input_rank = model
        .graph
        .as_ref()
        .and_then(|g| g.input.first())
        .and_then(|i| i.r#type.as_ref())
        .and_then(|t| t.tensor_type.as_ref())
        .and_then(|t| t.shape.as_ref())
        .map(|s| s.dim.len());
    let (mnist, name) = load_mnist(data).unwrap_or_else(|e| fail(e));
    eprintln!("{}", describe(&mnist, &name));
    let (train, test) = globally_standardized(&mnist);
    let adam = strata_optim::AdamConfig::new(1e-3)
        .build()
        .unwrap_or_else(|e| fail(e));
    let mut config = TrainerConfig::new(fine_tune.max(1), 64).with_seed(0);
    config.flatten_inputs = input_rank == Some(2);
    let mut trainer = Trainer::new(module, adam, Objective::CrossEntropy, config, "onnx")
        .unwrap_or_else(|e| fail(e));
    let before = trainer.evaluate(&test, 1000).error();
    println!(
        "{}: test error {:.2}% on {name} ({} images)",
        file.display(),
        100.0 * before,
        test.len()
    );
    if fine_tune == 0 {
        return;
    }
    create_out(out);
    let history = trainer
        .fit(Arc::new(train), None)
        .unwrap_or_else(|e| fail(e))
        .clone();
    let after = trainer.evaluate(&test, 1000).error();
    println!(
        "after {} of fine-tuning: test error {:.2}%",
        cli::counted(fine_tune, "epoch"),
        100.0 * after
    );
    let stem = file
        .file_stem()
        .map_or("model".into(), |s| s.to_string_lossy());
    let path = out.join(format!("{stem}_fine_tuned.onnx"));
    strata_onnx::save(&trainer.model.to_onnx(), &path).unwrap_or_else(|e| fail(e));
    println!("wrote {}", path.display());
    let png = out.join("learning_curves.png");
    let shown = file.file_name().map_or(file.display().to_string(), |n| {
        n.to_string_lossy().into_owned()
    });
    let title = format!("Fine-tuning {shown} on {name}");
    plot_learning_curves(&history, &png, &title).unwrap_or_else(|e| fail(e));
    history
        .to_csv(out.join("history.csv"))
        .unwrap_or_else(|e| fail(e));
    println!(
        "learning curves: {} (figures in {})",
        png.display(),
        out.join("history.csv").display()
    );
}

const ORT_TIMER: &str = r#"
import sys, time
import numpy as np
import onnxruntime as ort
path, shape, runs = sys.argv[1], [int(d) for d in sys.argv[2].split(",")], int(sys.argv[3])
opts = ort.SessionOptions()
opts.intra_op_num_threads = 1
opts.inter_op_num_threads = 1
s = ort.InferenceSession(path, opts, providers=["CPUExecutionProvider"])
x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
name = s.get_inputs()[0].name
for _ in range(20):
    s.run(None, {name: x})
times = []
for _ in range(runs):
    t = time.perf_counter()
    s.run(None, {name: x})
    times.append(time.perf_counter() - t)
print(sorted(times)[len(times) // 2] * 1e6)
"#;

fn bench(file: &PathBuf, batches: &[usize], runs: usize) {
    let mut module = strata_onnx::import(&strata_onnx::load(file).unwrap_or_else(|e| fail(e)))
        .unwrap_or_else(|e| fail(e));
    module.eval();
    let python = std::env::var("STRATA_PYTHON").unwrap_or_else(|_| "python3".into());
    println!(
        "{}: median µs per batch, one thread each ({runs} runs after 20 to warm up)",
        file.display()
    );
    for &batch in batches {
        let shape: Vec<usize> = module
            .input_shape()
            .iter()
            .enumerate()
            .map(|(i, d)| if i == 0 { batch } else { d.unwrap_or(1) })
            .collect();
        let x = Tensor::zeros(&shape);
        let strata = strata_tensor::threads::with_threads(1, || {
            for _ in 0..20 {
                module.predict(&x);
            }
            let mut times: Vec<f64> = (0..runs)
                .map(|_| {
                    let t = Instant::now();
                    module.predict(&x);
                    t.elapsed().as_secs_f64() * 1e6
                })
                .collect();
            times.sort_by(f64::total_cmp);
            times[times.len() / 2]
        });
        let dims: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
        let ort = Command::new(&python)
            .args(["-c", ORT_TIMER])
            .arg(file)
            .arg(dims.join(","))
            .arg(runs.to_string())
            .output()
            .ok()
            .filter(|o| o.status.success())
            .and_then(|o| {
                String::from_utf8_lossy(&o.stdout)
                    .trim()
                    .parse::<f64>()
                    .ok()
            });
        match ort {
            Some(ort) => println!(
                "batch {batch:>4}: Strata {strata:>9.1} µs, ONNX Runtime {ort:>9.1} µs, Strata is {:.2}× ONNX Runtime's speed",
                ort / strata
            ),
            None => println!(
                "batch {batch:>4}: Strata {strata:>9.1} µs (ONNX Runtime not available: set STRATA_PYTHON to a Python with onnxruntime)"
            ),
        }
    }
}
