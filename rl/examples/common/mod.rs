//! What the three reinforcement-learning examples share: the flags, the training session
//! (progress bar, periodic greedy evaluation keeping the best agent, checkpoints, the
//! learning-curve PNG, the episodes' and evaluations' CSVs) and the evaluation mode (returns
//! and a PNG strip of frames).

use std::path::{Path, PathBuf};
use std::time::Instant;

use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use strata_models::cli;
use strata_models::plot::plot_series;
use strata_rl::envs::ClassicControl;
use strata_rl::render::{Render, write_strip};
use strata_rl::{Agent, Env, RlError, evaluate};

/// Flags every reinforcement-learning example takes.
#[derive(Args, Debug, Clone)]
pub struct RlArgs {
    /// Environment: cartpole (CartPole-v1), acrobot (Acrobot-v1) or mountaincar (MountainCar-v0).
    #[arg(long, default_value = "cartpole", value_parser = parse_env)]
    pub env: String,
    /// Environment steps of training in all (a resumed run continues up to this total).
    #[arg(long, default_value_t = 100_000, value_parser = cli::positive, allow_negative_numbers = true)]
    pub steps: usize,
    /// Seed of initial weights, environments, exploration and sampling (0 up to 2⁶⁴−1).
    #[arg(long, default_value_t = 0, value_parser = cli::seed, allow_negative_numbers = true)]
    pub seed: u64,
    /// Compute threads, 1 up to four per core (the networks are small: 1 is fastest).
    #[arg(long, default_value_t = 1, value_parser = cli::threads, allow_negative_numbers = true)]
    pub threads: usize,
    /// Folder for every file written: last.ckpt, best.ckpt, learning_curves.png (returns
    /// against environment steps), episodes.csv, evaluations.csv, episode.png (default
    /// target/examples/<example>).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Greedy evaluation every this many training steps; the best agent is kept as best.ckpt.
    #[arg(long, default_value_t = 5_000, value_parser = cli::positive, allow_negative_numbers = true)]
    pub eval_every: usize,
    /// Episodes of each periodic evaluation.
    #[arg(long, default_value_t = 10, value_parser = cli::positive, allow_negative_numbers = true)]
    pub eval_episodes: usize,
    /// Episodes of the final evaluation of the best agent (and of --evaluate).
    #[arg(long, default_value_t = 100, value_parser = cli::positive, allow_negative_numbers = true)]
    pub final_episodes: usize,
    /// Write last.ckpt every this many steps.
    #[arg(long, default_value_t = 10_000, value_parser = cli::positive, allow_negative_numbers = true)]
    pub checkpoint_every: usize,
    /// Continue training from a checkpoint written by this example (last.ckpt).
    #[arg(long, value_name = "CKPT")]
    pub resume: Option<PathBuf>,
    /// Do not train: load this checkpoint, play --final-episodes greedy episodes, draw the
    /// first as a strip of frames (episode.png) and print the RESULT line.
    #[arg(long, value_name = "CKPT", conflicts_with = "resume")]
    pub evaluate: Option<PathBuf>,
    /// Frames in the episode strip.
    #[arg(long, default_value_t = 12, value_parser = cli::positive, allow_negative_numbers = true)]
    pub frames: usize,
    /// No progress bar (one line per evaluation instead).
    #[arg(long)]
    pub quiet: bool,
}

fn parse_env(s: &str) -> Result<String, String> {
    ClassicControl::from_name(s).map(|_| s.to_string())
}

/// Ends the program with a message on standard error.
pub fn fail(message: impl std::fmt::Display) -> ! {
    eprintln!("error: {message}");
    std::process::exit(2)
}

impl RlArgs {
    /// The environment chosen with --env.
    pub fn environment(&self) -> ClassicControl {
        ClassicControl::from_name(&self.env).unwrap_or_else(|e| fail(e))
    }

    /// The output folder.
    pub fn out_dir(&self, example: &str) -> PathBuf {
        self.out
            .clone()
            .unwrap_or_else(|| PathBuf::from("target/examples").join(example))
    }
}

/// Trains (or, with --evaluate, evaluates) an agent of one algorithm, printing a RESULT line.
/// `fresh` builds a new agent, `load` reads a checkpoint.
pub fn run<A: Agent>(
    example: &str,
    args: &RlArgs,
    fresh: impl FnOnce(ClassicControl) -> Result<A, RlError> + Send,
    load: impl Fn(&Path) -> Result<A, RlError> + Send,
) {
    cli::log_warnings_to_stderr();
    strata_tensor::threads::try_with_threads(args.threads, || session(example, args, fresh, load))
        .unwrap_or_else(|e| fail(format!("--threads {}: {e}", args.threads)))
        .unwrap_or_else(|e| fail(e));
}

fn session<A: Agent>(
    example: &str,
    args: &RlArgs,
    fresh: impl FnOnce(ClassicControl) -> Result<A, RlError> + Send,
    load: impl Fn(&Path) -> Result<A, RlError> + Send,
) -> Result<(), RlError> {
    let out = args.out_dir(example);
    std::fs::create_dir_all(&out).unwrap_or_else(|e| {
        fail(format!(
            "--out {}: cannot create the folder: {e}",
            out.display()
        ))
    });
    let load_flag = |flag: &str, path: &Path| {
        load(path).unwrap_or_else(|e| fail(format!("{flag} {}: {e}", path.display())))
    };
    if let Some(path) = &args.evaluate {
        let mut agent = load_flag("--evaluate", path);
        return final_evaluation(example, args, &out, &mut agent, None, 0, 0.0);
    }
    let mut agent = match &args.resume {
        Some(path) => load_flag("--resume", path),
        None => fresh(args.environment())?,
    };
    if agent.env_name() != args.environment().name() && args.resume.is_some() {
        fail(format!(
            "--resume holds a {} agent but --env is {}",
            agent.env_name(),
            args.environment().name()
        ));
    }
    let total = args.steps as u64;
    let start_steps = agent.env_steps();
    if agent.env_steps() >= total {
        fail(format!(
            "the checkpoint already has {} steps; --steps is the total to reach, give more than that",
            agent.env_steps()
        ));
    }
    let mut evaluations = read_evaluations(&out.join("evaluations.csv"), agent.env_steps());
    let mut best = evaluations
        .iter()
        .map(|e| e.1)
        .fold(f64::NEG_INFINITY, f64::max);
    let bar = progress_bar(total, agent.env_steps(), args.quiet);
    let mut training = std::time::Duration::ZERO;
    let mut eval_env = args.environment();
    while agent.env_steps() < total {
        let now = agent.env_steps();
        let next_eval = (now / args.eval_every as u64 + 1) * args.eval_every as u64;
        let next_ckpt = (now / args.checkpoint_every as u64 + 1) * args.checkpoint_every as u64;
        let target = next_eval.min(next_ckpt).min(total);
        let started = Instant::now();
        agent.train_until(target, &mut |_, log| {
            bar.set_message(format!(
                "mean return (last 100) {:8.1} · episode {}",
                log.mean_last(100),
                log.len()
            ));
        })?;
        training += started.elapsed();
        bar.set_position(agent.env_steps().min(total));
        let steps = agent.env_steps();
        if steps >= next_eval || steps >= total {
            let score = evaluate(&mut agent, &mut eval_env, args.eval_episodes, 1 << 40)?.mean();
            evaluations.push((steps, score));
            if score >= best {
                best = score;
                agent.save(&out.join("best.ckpt"))?;
            }
            if args.quiet {
                println!(
                    "step {steps:>8}: greedy evaluation {score:8.1} (best {best:.1}), training mean {:.1}",
                    agent.log().mean_last(100)
                );
            }
        }
        if steps >= next_ckpt || steps >= total {
            agent.save(&out.join("last.ckpt"))?;
            write_curves(&out, &agent, &evaluations)?;
        }
    }
    bar.finish();
    let seconds = training.as_secs_f64();
    let mut best_agent = load(&out.join("best.ckpt"))?;
    final_evaluation(
        example,
        args,
        &out,
        &mut best_agent,
        Some(&agent),
        start_steps,
        seconds,
    )
}

fn progress_bar(total: u64, position: u64, quiet: bool) -> ProgressBar {
    if quiet {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(total).with_position(position);
    bar.set_style(
        ProgressStyle::with_template(
            "{bar:30} {pos:>7}/{len} steps {per_sec:>12} {elapsed_precise} {msg}",
        )
        .expect("a valid template"),
    );
    bar
}

/// `(step, mean greedy return)` of the evaluations of a run being resumed at `up_to` steps.
fn read_evaluations(path: &Path, up_to: u64) -> Vec<(u64, f64)> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return Vec::new();
    };
    text.lines()
        .skip(1)
        .filter_map(|l| {
            let (s, m) = l.split_once(',')?;
            Some((s.parse().ok()?, m.parse().ok()?))
        })
        .filter(|(s, _)| *s <= up_to)
        .collect()
}

fn write_curves<A: Agent>(
    out: &Path,
    agent: &A,
    evaluations: &[(u64, f64)],
) -> Result<(), RlError> {
    let write = |name: &str, text: String| {
        let path = out.join(name);
        strata_io::write_atomically_creating_folders(&path, text.as_bytes()).map_err(|e| {
            RlError::Write {
                path,
                message: e.to_string(),
            }
        })
    };
    let log = agent.log();
    let mut csv = String::from("episode,env_step,return,length\n");
    for (i, e) in log.episodes().iter().enumerate() {
        csv += &format!("{},{},{},{}\n", i + 1, e.env_step, e.score, e.length);
    }
    write("episodes.csv", csv)?;
    let mut csv = String::from("env_step,mean_greedy_return\n");
    for (s, m) in evaluations {
        csv += &format!("{s},{m}\n");
    }
    write("evaluations.csv", csv)?;
    let curve = log.curve(100);
    let evals: Vec<(f64, f64)> = evaluations.iter().map(|&(s, m)| (s as f64, m)).collect();
    let title = format!(
        "{} {}: return against environment steps",
        agent.algorithm(),
        agent.env_name()
    );
    plot_series(
        out.join("learning_curves.png"),
        &title,
        "environment steps",
        "return",
        &[
            ("training (mean of last 100 episodes)", &curve),
            ("greedy evaluation", &evals),
        ],
    )
    .map_err(|e| RlError::Write {
        path: out.join("learning_curves.png"),
        message: e.to_string(),
    })
}

fn final_evaluation<A: Agent>(
    example: &str,
    args: &RlArgs,
    out: &Path,
    agent: &mut A,
    trained: Option<&A>,
    start_steps: u64,
    seconds: f64,
) -> Result<(), RlError> {
    let mut env = ClassicControl::from_name(agent.env_name()).unwrap_or_else(|e| fail(e));
    let eval = evaluate(agent, &mut env, args.final_episodes, 1 << 41)?;
    let frames = record_episode(agent, &mut env, args.frames)?;
    let strip = out.join("episode.png");
    write_strip(&frames, &strip)?;
    let log = trained.map(|a| a.log()).unwrap_or(agent.log());
    let steps = trained.map(|a| a.env_steps()).unwrap_or(agent.env_steps());
    let trained_steps = steps - start_steps;
    println!(
        "greedy evaluation of the best agent over {} episodes: mean return {:.1} ± {:.1}; episode strip {}",
        args.final_episodes,
        eval.mean(),
        eval.std(),
        strip.display()
    );
    if trained.is_some() {
        println!(
            "learning curves: {} (figures in {} and {})",
            out.join("learning_curves.png").display(),
            out.join("episodes.csv").display(),
            out.join("evaluations.csv").display()
        );
    }
    let threshold = env.reward_threshold().unwrap_or(f64::INFINITY);
    let result = serde_json::json!({
        "example": example,
        "algorithm": agent.algorithm(),
        "env": agent.env_name(),
        "seed": args.seed,
        "env_steps": steps,
        "train_seconds": (seconds * 100.0).round() / 100.0,
        "env_steps_per_second": if seconds > 0.0 { (trained_steps as f64 / seconds).round() } else { 0.0 },
        "episodes": log.len(),
        "mean_return_last_100": (log.mean_last(100) * 10.0).round() / 10.0,
        "solved_at_step": log.solved_at(),
        "eval_episodes": args.final_episodes,
        "eval_mean_return": (eval.mean() * 10.0).round() / 10.0,
        "eval_std": (eval.std() * 10.0).round() / 10.0,
        "eval_solved": eval.mean() >= threshold,
    });
    println!("RESULT {result}");
    Ok(())
}

/// Plays one greedy episode and keeps `frames` pictures spread evenly over it.
fn record_episode<A: Agent>(
    agent: &mut A,
    env: &mut ClassicControl,
    frames: usize,
) -> Result<Vec<strata_rl::render::Frame>, RlError> {
    let mut states = vec![env.clone()];
    let mut observation = env.reset(Some(1 << 42));
    states[0] = env.clone();
    loop {
        let t = env.step(agent.act(&observation))?;
        states.push(env.clone());
        if t.done() {
            break;
        }
        observation = t.observation;
    }
    let n = frames.min(states.len());
    Ok((0..n)
        .map(|i| states[i * (states.len() - 1) / (n - 1).max(1)].render(240, 160))
        .collect())
}
