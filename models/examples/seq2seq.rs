//! Sequence-to-sequence with attention on a synthetic translation task generated in code:
//! reverse a string of 3–12 digits (`"40917" → "71904"`).
//!
//! A GRU encoder (`strata_layers::recurrent::Gru`) reads the source (left-padded, so its last state follows the last digit); a
//! GRU decoder, started from that state and fed the previous target digit (teacher forcing),
//! produces one state `h_t` per output step. With attention (Luong et al., 2015, computed
//! after the decoder RNN) each `h_t` queries the encoder states through a one-head
//! `MultiHeadAttention` — `c_t = softmax(q_t·K̃ᵀ/√d + M_pad)·Ṽ` — and the output is
//! `softmax(W_o·tanh(W_c·[h_t; c_t]))`; `--no-attention` drops `c_t` (the encoder summary
//! reaches the decoder only through its initial state). Exact-match accuracy is measured by
//! greedy decoding of held-out strings that never appear in training.
//!
//! Writes into `--out` (default `target/examples/seq2seq`) `learning_curves.png` and
//! `history.csv` (the mean training loss of each epoch, in nats per target token) and, with
//! attention, `attention.png`: the attention map of one held-out example, source digits along
//! x, output tokens along y, with a colour bar of the weights.
//!
//!     cargo run --release -p strata-models --example seq2seq
//!     cargo run --release -p strata-models --example seq2seq -- --no-attention

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::Instant;

use clap::Parser;
use strata_autograd::{Var, no_grad};
use strata_datasets::Grid;
use strata_layers::attention::{AttentionMask, MultiHeadAttention};
use strata_layers::recurrent::{Gru, RecurrentConfig};
use strata_layers::{
    CrossEntropyOptions, Embedding, Linear, Module, Param, manual_seed, module_parts,
};
use strata_models::cli;
use strata_models::plot::{Heatmap, plot_series};
use strata_optim::{AdamConfig, Optimizer, clip_grad_norm};
use strata_tensorboard::{HParams, Image, RunStatus, SummaryWriter, TensorBoardError, trim_run};

/// Padding token.
const PAD: usize = 0;
/// Start-of-sequence token (first decoder input).
const BOS: usize = 1;
/// End-of-sequence token (last target).
const EOS: usize = 2;
/// Digits `0..=9` are tokens `3..=12`.
const VOCAB: usize = 13;

/// Train an encoder–decoder (GRU, optional attention) to reverse digit strings.
#[derive(Parser, Debug, Clone)]
#[command(name = "seq2seq")]
pub struct Seq2SeqArgs {
    /// Training epochs of `--steps-per-epoch` mini-batches, 1 or more (default 10).
    #[arg(long, value_parser = cli::positive, allow_negative_numbers = true)]
    pub epochs: Option<usize>,
    /// Mini-batch size, 1..=4096 (default 64).
    #[arg(long, value_parser = cli::int_in(1, 4096), allow_negative_numbers = true)]
    pub batch_size: Option<usize>,
    /// Compute threads, 1 up to four per core (default: every core).
    #[arg(long, value_parser = cli::threads, allow_negative_numbers = true)]
    pub threads: Option<usize>,
    /// Seed of initialisation and data (0 up to 2⁶⁴−1).
    #[arg(long, default_value_t = 0, value_parser = cli::seed, allow_negative_numbers = true)]
    pub seed: u64,
    /// Drop the attention (the encoder–decoder baseline).
    #[arg(long)]
    pub no_attention: bool,
    /// Mini-batches per epoch, 1 or more.
    #[arg(long, default_value_t = 200, value_parser = cli::positive, allow_negative_numbers = true)]
    pub steps_per_epoch: usize,
    /// Shortest source string, 1..=64.
    #[arg(long, default_value_t = 3, value_parser = cli::int_in(1, 64), allow_negative_numbers = true)]
    pub min_len: usize,
    /// Longest source string, `--min-len`..=64.
    #[arg(long, default_value_t = 12, value_parser = cli::int_in(1, 64), allow_negative_numbers = true)]
    pub max_len: usize,
    /// GRU hidden size (and attention width), 1..=4096.
    #[arg(long, default_value_t = 128, value_parser = cli::int_in(1, 4096), allow_negative_numbers = true)]
    pub hidden: usize,
    /// Adam learning rate, above 0.
    #[arg(long, default_value_t = 3e-3, value_parser = cli::positive_float, allow_negative_numbers = true)]
    pub lr: f64,
    /// Held-out examples for exact-match accuracy, 1..=100000 and at most half the distinct
    /// strings of the lengths asked for.
    #[arg(long, default_value_t = 1000, value_parser = cli::int_in(1, 100_000), allow_negative_numbers = true)]
    pub test_size: usize,
    /// Folder for every file written: learning_curves.png, history.csv and, with attention,
    /// attention.png (the attention map of the first held-out example of at least 8 digits).
    #[arg(long, value_name = "DIR", default_value = "target/examples/seq2seq")]
    pub out: PathBuf,
    /// Print less.
    #[arg(long)]
    pub quiet: bool,
    /// Also write a TensorBoard log into DIR/seq2seq (view it with `tensorboard --logdir DIR`):
    /// losses, held-out accuracy and the attention map.
    #[arg(long, value_name = "DIR")]
    pub logdir: Option<PathBuf>,
}

/// What a run reached.
#[derive(Debug, Clone)]
pub struct Seq2SeqReport {
    /// Exact-match accuracy on the held-out strings.
    pub exact_match: f64,
    /// Per-token accuracy of greedy decoding on the held-out strings.
    pub token_accuracy: f64,
    /// Last epoch's mean training loss (nats per target token).
    pub train_loss: f64,
    /// Training time in seconds.
    pub seconds: f64,
    /// The attention-map PNG, when written.
    pub plot: Option<PathBuf>,
    /// The learning-curve PNG (training loss per epoch).
    pub learning_curves: PathBuf,
}

/// SplitMix64: a small, seedable generator for the synthetic data.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// A random digit string (tokens) of length in `min..=max`.
fn random_source(rng: &mut SplitMix, min: usize, max: usize) -> Vec<usize> {
    let len = min + rng.below(max - min + 1);
    (0..len).map(|_| 3 + rng.below(10)).collect()
}

/// The translation: the reversed string.
fn translate(src: &[usize]) -> Vec<usize> {
    src.iter().rev().copied().collect()
}

fn show(tokens: &[usize]) -> String {
    tokens
        .iter()
        .map(|&t| match t {
            PAD => '_',
            BOS => '^',
            EOS => '$',
            d => char::from(b'0' + (d - 3) as u8),
        })
        .collect()
}

/// The encoder–decoder.
struct Seq2Seq {
    src_embed: Embedding,
    tgt_embed: Embedding,
    encoder: Gru,
    decoder: Gru,
    attention: MultiHeadAttention,
    combine: Linear,
    out: Linear,
    use_attention: bool,
}

impl Module for Seq2Seq {
    /// Not used: the model takes token indices and masks (see `Seq2Seq::loss`).
    fn forward(&mut self, x: &Var) -> Var {
        x.clone()
    }
    module_parts!(f32; children: [src_embed, tgt_embed, encoder, decoder, attention, combine, out]);
}

/// A padded batch.
struct Batch {
    /// Sources, left-padded: `[B, S]`.
    src: Vec<usize>,
    src_len: usize,
    /// Key-padding flags of the sources, `[B, S]`.
    src_pad: Vec<bool>,
    /// Decoder inputs `BOS y…`, right-padded: `[B, T]`.
    dec_in: Vec<usize>,
    /// Targets `y… EOS`, right-padded with `PAD`: `[B, T]`.
    targets: Vec<usize>,
    tgt_len: usize,
    batch: usize,
}

fn make_batch(sources: &[Vec<usize>]) -> Batch {
    let batch = sources.len();
    let s = sources.iter().map(Vec::len).max().unwrap_or(1);
    let t = s + 1;
    let mut b = Batch {
        src: Vec::with_capacity(batch * s),
        src_len: s,
        src_pad: Vec::with_capacity(batch * s),
        dec_in: Vec::with_capacity(batch * t),
        targets: Vec::with_capacity(batch * t),
        tgt_len: t,
        batch,
    };
    for src in sources {
        let pad = s - src.len();
        b.src
            .extend(std::iter::repeat_n(PAD, pad).chain(src.iter().copied()));
        b.src_pad.extend((0..s).map(|j| j < pad));
        let y = translate(src);
        let dec: Vec<usize> = std::iter::once(BOS).chain(y.iter().copied()).collect();
        let tgt: Vec<usize> = y.iter().copied().chain(std::iter::once(EOS)).collect();
        b.dec_in.extend(
            dec.iter()
                .copied()
                .chain(std::iter::repeat_n(PAD, t - dec.len())),
        );
        b.targets.extend(
            tgt.iter()
                .copied()
                .chain(std::iter::repeat_n(PAD, t - tgt.len())),
        );
    }
    b
}

impl Seq2Seq {
    fn new(hidden: usize, embed: usize, use_attention: bool) -> Self {
        Seq2Seq {
            src_embed: Embedding::new(VOCAB, embed),
            tgt_embed: Embedding::new(VOCAB, embed),
            encoder: Gru::with_config(RecurrentConfig::new(embed, hidden).with_batch_first(true)),
            decoder: Gru::with_config(RecurrentConfig::new(embed, hidden).with_batch_first(true)),
            attention: MultiHeadAttention::new(hidden, 1),
            combine: Linear::new(if use_attention { 2 * hidden } else { hidden }, hidden),
            out: Linear::new(hidden, VOCAB),
            use_attention,
        }
    }

    /// Encoder states `[B, S, H]` and the final state `[1, B, H]`.
    fn encode(&mut self, b: &Batch) -> (Var, Var) {
        let x = self.src_embed.lookup(&b.src, &[b.batch, b.src_len]);
        self.encoder.forward_with_state(&x, None)
    }

    /// Output logits `[B, T, V]` from decoder states `[B, T, H]`, and the attention weights
    /// `[B, 1, T, S]` when attention is on.
    fn output(&mut self, dec: &Var, enc: &Var, src_pad: &[bool]) -> (Var, Option<Var>) {
        let (features, weights) = if self.use_attention {
            let mask = AttentionMask::none().with_key_padding(src_pad);
            let (ctx, w) = self.attention.cross_attend(dec, enc, &mask);
            (Var::concat(&[dec, &ctx], 2), Some(w))
        } else {
            (dec.clone(), None)
        };
        (
            self.out.forward(&self.combine.forward(&features).tanh()),
            weights,
        )
    }

    /// Teacher-forced mean cross-entropy over the non-padding target tokens.
    fn loss(&mut self, b: &Batch) -> Var {
        let (enc, h) = self.encode(b);
        let y = self.tgt_embed.lookup(&b.dec_in, &[b.batch, b.tgt_len]);
        let (dec, _) = self.decoder.forward_with_state(&y, Some(&h));
        let (logits, _) = self.output(&dec, &enc, &b.src_pad);
        let logits = logits.reshape(&[b.batch * b.tgt_len, VOCAB]);
        // Padding targets are left out of the loss and of the mean's denominator.
        let options = CrossEntropyOptions::default().with_ignore_index(PAD);
        logits.cross_entropy(&b.targets, &options)
    }

    /// Greedy decoding of `b`'s sources for `b.tgt_len` steps: predicted tokens `[B][T]` and,
    /// with attention, each step's weights over the source `[B][T][S]`.
    fn greedy(&mut self, b: &Batch) -> (Vec<Vec<usize>>, Vec<Vec<Vec<f32>>>) {
        no_grad(|| {
            let (enc, mut h) = self.encode(b);
            let mut tokens = vec![BOS; b.batch];
            let mut out = vec![Vec::new(); b.batch];
            let mut maps = vec![Vec::new(); b.batch];
            for _ in 0..b.tgt_len {
                let y = self.tgt_embed.lookup(&tokens, &[b.batch, 1]);
                let (dec, next) = self.decoder.forward_with_state(&y, Some(&h));
                h = next;
                let (logits, w) = self.output(&dec, &enc, &b.src_pad);
                let logits = logits.value().reshape(&[b.batch, VOCAB]).to_vec();
                for (i, row) in logits.chunks_exact(VOCAB).enumerate() {
                    let best = (0..VOCAB)
                        .max_by(|&a, &c| row[a].total_cmp(&row[c]))
                        .expect("non-empty vocabulary");
                    tokens[i] = best;
                    out[i].push(best);
                }
                if let Some(w) = w {
                    let w = w.value().to_vec();
                    for (i, row) in w.chunks_exact(b.src_len).enumerate() {
                        maps[i].push(row.to_vec());
                    }
                }
            }
            (out, maps)
        })
    }
}

/// Refuses lengths and sizes that cannot be met (each flag's own range is checked by its
/// parser): `--min-len` above `--max-len`, or more held-out strings than half the distinct
/// strings of those lengths (training draws only strings not held out).
fn check(args: &Seq2SeqArgs) -> Result<(), String> {
    if args.min_len > args.max_len {
        return Err(format!(
            "--max-len {} is below --min-len {}",
            args.max_len, args.min_len
        ));
    }
    let distinct = (args.min_len..=args.max_len)
        .map(|l| 10usize.saturating_pow(l as u32))
        .fold(0usize, usize::saturating_add);
    if args.test_size > distinct / 2 {
        return Err(format!(
            "--test-size {}: strings of {}..={} digits have {distinct} forms; at most {} can be held out",
            args.test_size,
            args.min_len,
            args.max_len,
            distinct / 2
        ));
    }
    Ok(())
}

/// Trains and evaluates; prints progress unless `args.quiet`.
///
/// # Errors
/// For settings that cannot be met ([`check`]) or a training loss that is no longer finite.
pub fn run(args: &Seq2SeqArgs) -> Result<Seq2SeqReport, String> {
    check(args)?;
    std::fs::create_dir_all(&args.out).map_err(|e| {
        format!(
            "--out {}: cannot create the folder: {e}",
            args.out.display()
        )
    })?;
    let epochs = args.epochs.unwrap_or(10);
    let batch = args.batch_size.unwrap_or(64);
    manual_seed(args.seed);
    let mut rng = SplitMix(args.seed ^ 0x5E9_25E9);
    // Held-out strings first; training never draws them.
    let mut held_out = Vec::with_capacity(args.test_size);
    let mut seen = HashSet::new();
    while held_out.len() < args.test_size {
        let s = random_source(&mut rng, args.min_len, args.max_len);
        if seen.insert(s.clone()) {
            held_out.push(s);
        }
    }
    let mut model = Seq2Seq::new(args.hidden, 32, !args.no_attention);
    let mut opt = AdamConfig::new(args.lr)
        .build::<f32>()
        .expect("valid Adam config");
    if !args.quiet {
        let epochs_text = strata_models::cli::counted(epochs, "epoch");
        println!(
            "seq2seq: reverse digit strings of length {}..={}; GRU {} hidden, {}; {} parameters; {epochs_text} × {} batches of {batch}",
            args.min_len,
            args.max_len,
            args.hidden,
            if args.no_attention {
                "no attention"
            } else {
                "Luong attention"
            },
            model.num_params(),
            args.steps_per_epoch
        );
    }
    let mut log = args.logdir.as_ref().and_then(|dir| {
        let hparams = HParams::new()
            .with("hidden", args.hidden)
            .with("attention", !args.no_attention)
            .with("min_len", args.min_len)
            .with("max_len", args.max_len)
            .with("learning_rate", args.lr)
            .with("batch_size", batch)
            .with("seed", args.seed);
        let run = dir.join("seq2seq");
        let opened = trim_run(&run, |_, _| false).and_then(|_| SummaryWriter::create(&run));
        let opened = opened.and_then(|mut w| w.add_hparams(&hparams).map(|()| w));
        opened
            .map_err(|e| eprintln!("warning: no TensorBoard log: {e}"))
            .ok()
    });
    let mut step = 0i64;
    let start = Instant::now();
    let mut train_loss = f64::NAN;
    let mut losses = Vec::with_capacity(epochs);
    for epoch in 1..=epochs {
        let mut total = 0.0;
        for _ in 0..args.steps_per_epoch {
            let sources: Vec<Vec<usize>> = (0..batch)
                .map(|_| {
                    loop {
                        let s = random_source(&mut rng, args.min_len, args.max_len);
                        if !seen.contains(&s) {
                            break s;
                        }
                    }
                })
                .collect();
            let b = make_batch(&sources);
            let loss = model.loss(&b);
            let value = f64::from(loss.item());
            if !value.is_finite() {
                return Err(format!(
                    "the training loss became {value} (try a smaller --lr)"
                ));
            }
            total += value;
            let mut grads = loss.backward();
            let norm = clip_grad_norm(&mut grads, 1.0);
            step += 1;
            if let Some(w) = &mut log {
                log_or_warn(w.add_scalars(step, &[("step/loss", value), ("step/grad_norm", norm)]));
            }
            let mut params: Vec<&mut Param> =
                model.params_mut().into_iter().map(|(_, p)| p).collect();
            opt.step(&mut params, &grads);
        }
        train_loss = total / args.steps_per_epoch as f64;
        losses.push((epoch as f64, train_loss, start.elapsed().as_secs_f64()));
        if let Some(w) = &mut log {
            log_or_warn(w.add_scalar("train/loss", train_loss, step));
            log_or_warn(w.flush());
        }
        if !args.quiet {
            println!(
                "epoch {epoch:>3}: train loss {train_loss:.4} ({:.1} s)",
                start.elapsed().as_secs_f64()
            );
        }
    }
    let seconds = start.elapsed().as_secs_f64();
    let learning_curves = write_learning_curves(&args.out, &losses, args.no_attention)?;
    if !args.quiet {
        println!("learning curves: {}", learning_curves.display());
    }
    let eval = make_batch(&held_out);
    let (predicted, maps) = model.greedy(&eval);
    let (mut exact, mut tok_ok, mut tok_total) = (0usize, 0usize, 0usize);
    for (src, pred) in held_out.iter().zip(&predicted) {
        let want: Vec<usize> = translate(src).into_iter().chain([EOS]).collect();
        let got = &pred[..want.len().min(pred.len())];
        tok_ok += want.iter().zip(got).filter(|(a, b)| a == b).count();
        tok_total += want.len();
        if got == want.as_slice() {
            exact += 1;
        }
    }
    let exact_match = exact as f64 / held_out.len() as f64;
    let token_accuracy = tok_ok as f64 / tok_total as f64;
    if !args.quiet {
        for (src, pred) in held_out.iter().zip(&predicted).take(3) {
            let end = pred
                .iter()
                .position(|&t| t == EOS)
                .map_or(pred.len(), |p| p + 1);
            println!("  {} → {}", show(src), show(&pred[..end]));
        }
    }
    let mut plot = None;
    if !args.no_attention && !maps.is_empty() && !maps[0].is_empty() {
        // One example's map: rows are output steps (up to EOS), columns source tokens.
        let pick = held_out
            .iter()
            .position(|s| s.len() >= 8.min(args.max_len))
            .unwrap_or(0);
        let src = &held_out[pick];
        let offset = eval.src_len - src.len();
        let rows = src.len() + 1;
        let tiles: Vec<f32> = maps[pick][..rows]
            .iter()
            .flat_map(|row| row[offset..].iter().copied())
            .collect();
        if let Some(w) = &mut log {
            let img = Grid::new(1, 1, rows, src.len())
                .with_zoom(24)
                .render(&tiles);
            let image = Image::grey(img.width as u32, img.height as u32, img.pixels);
            log_or_warn(w.add_image("attention", &image, step));
        }
        let path = args.out.join("attention.png");
        let outputs = &predicted[pick][..rows];
        match attention_map(src, outputs, &tiles).write_png(
            &path,
            &format!(
                "Attention while reversing {} (greedy output {})",
                show(src),
                show(outputs)
            ),
        ) {
            Ok(()) => {
                if !args.quiet {
                    println!(
                        "attention map of {} → {}: {}",
                        show(src),
                        show(&translate(src)),
                        path.display()
                    );
                }
                plot = Some(path);
            }
            Err(e) => eprintln!("warning: attention map not written: {e}"),
        }
    }
    if let Some(w) = &mut log {
        let figures = [
            ("test/exact_match", exact_match),
            ("test/token_accuracy", token_accuracy),
        ];
        log_or_warn(w.add_scalars(step, &figures));
        log_or_warn(w.end_run(RunStatus::Success));
        log_or_warn(w.flush());
    }
    Ok(Seq2SeqReport {
        exact_match,
        token_accuracy,
        train_loss,
        seconds,
        plot,
        learning_curves,
    })
}

/// The label of a token on the attention map's axes.
fn token_label(token: usize) -> String {
    match token {
        PAD => "pad".to_string(),
        BOS => "bos".to_string(),
        EOS => "eos".to_string(),
        _ => show(&[token]),
    }
}

/// The attention map of one example: `weights` has a row per output step (`outputs`, the
/// greedy decoder's tokens) and a column per source token of `src`.
fn attention_map(src: &[usize], outputs: &[usize], weights: &[f32]) -> Heatmap {
    Heatmap::new(outputs.len(), src.len(), weights)
        .with_col_labels(src.iter().map(|&t| token_label(t)))
        .with_row_labels(outputs.iter().map(|&t| token_label(t)))
        .with_axis_titles("source token", "output token (greedy decoding)")
        .with_value_title("attention weight (0 to 1)")
        .with_range(0.0, 1.0)
}

/// Writes `history.csv` (epoch, mean training loss in nats per target token, seconds since
/// the start) and its plot `learning_curves.png` into `out`; returns the PNG's path.
fn write_learning_curves(
    out: &Path,
    losses: &[(f64, f64, f64)],
    no_attention: bool,
) -> Result<PathBuf, String> {
    let mut csv = String::from("epoch,train_loss_nats_per_token,seconds\n");
    for (epoch, loss, seconds) in losses {
        csv += &format!("{epoch},{loss},{seconds:.3}\n");
    }
    let path = out.join("history.csv");
    std::fs::write(&path, csv).map_err(|e| format!("writing {}: {e}", path.display()))?;
    let points: Vec<(f64, f64)> = losses.iter().map(|&(e, l, _)| (e, l)).collect();
    let png = out.join("learning_curves.png");
    let title = format!(
        "seq2seq ({}): reversing digit strings",
        if no_attention {
            "no attention"
        } else {
            "Luong attention"
        }
    );
    plot_series(
        &png,
        &title,
        "epoch",
        "training loss (cross-entropy, nats per target token)",
        &[("training (mean over the epoch)", &points)],
    )
    .map_err(|e| e.to_string())?;
    Ok(png)
}

/// Prints a warning for a TensorBoard write that failed (training goes on).
fn log_or_warn(result: Result<(), TensorBoardError>) {
    if let Err(e) = result {
        eprintln!("warning: TensorBoard log: {e}");
    }
}

#[allow(dead_code)]
fn main() {
    let args = Seq2SeqArgs::parse();
    cli::log_warnings_to_stderr();
    let result = match args.threads {
        Some(n) => strata_tensor::threads::try_with_threads(n, || run(&args))
            .unwrap_or_else(|e| Err(format!("--threads {n}: {e}"))),
        None => run(&args),
    };
    let report = result.unwrap_or_else(|e| {
        eprintln!("error: {e}");
        std::process::exit(2)
    });
    println!(
        "exact match {:.2}% ({} attention), token accuracy {:.2}%, {:.1} s",
        100.0 * report.exact_match,
        if args.no_attention { "without" } else { "with" },
        100.0 * report.token_accuracy,
        report.seconds
    );
    println!(
        "RESULT {}",
        serde_json::json!({
            "example": "seq2seq",
            "task": "reverse digits",
            "attention": !args.no_attention,
            "exact_match": report.exact_match,
            "token_accuracy": report.token_accuracy,
            "train_loss": report.train_loss,
            "seconds": report.seconds,
            "plot": report.plot.as_ref().map(|p| p.display().to_string()),
            "learning_curves": report.learning_curves.display().to_string(),
        })
    );
}
