//! A study: trials drawn by a sampler, run by an objective (several at once), pruned by ASHA,
//! logged so a killed search continues where it stopped.

use std::fs::OpenOptions;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use strata_distributed::Communicator;

use crate::SearchError;
use crate::asha::Asha;
use crate::exchange::all_gather_trials;
use crate::sampler::Sampler;
use crate::space::{Config, Space};
use crate::trial::{Trial, TrialState};

/// When a study stops and how many trials run at once.
#[derive(Clone, Debug, PartialEq)]
pub struct Budget {
    /// Trials in all (those in a resumed log count).
    pub trials: usize,
    /// Stop starting trials after this long (running ones finish).
    pub time: Option<Duration>,
    /// Trials run at the same time, each on its own thread.
    pub workers: usize,
}

impl Budget {
    /// `trials` trials, one at a time, no time limit.
    pub fn trials(trials: usize) -> Self {
        Budget {
            trials,
            time: None,
            workers: 1,
        }
    }

    /// Sets the time limit.
    pub fn with_time(mut self, time: Duration) -> Self {
        self.time = Some(time);
        self
    }

    /// Sets the number of trials run at once (at least 1).
    pub fn with_workers(mut self, workers: usize) -> Self {
        self.workers = workers.max(1);
        self
    }
}

/// What a running trial reports to after each epoch; it answers whether to go on.
pub struct Reporter<'a> {
    id: usize,
    shared: &'a Mutex<Shared>,
    pruner: Option<&'a Asha>,
    values: Vec<f64>,
    pruned: bool,
}

impl Reporter<'_> {
    /// The trial's number.
    pub fn trial(&self) -> usize {
        self.id
    }

    /// Records the validation value after epoch `values so far + 1`; returns `false` when the
    /// pruner stops the trial (the objective should then return, e.g. its last value).
    pub fn report(&mut self, value: f64) -> bool {
        self.values.push(value);
        let epoch = self.values.len();
        let Some(pruner) = self.pruner else {
            return true;
        };
        let Some(rung) = pruner.rung(epoch) else {
            return true;
        };
        let mut shared = self
            .shared
            .lock()
            .expect("no worker panics holding the lock");
        if shared.rungs.len() <= rung {
            shared.rungs.resize(rung + 1, Vec::new());
        }
        shared.rungs[rung].push(value);
        let go_on = pruner.promotes(value, &shared.rungs[rung]);
        self.pruned |= !go_on;
        go_on
    }

    /// Epochs reported so far.
    pub fn epochs(&self) -> usize {
        self.values.len()
    }

    /// Whether the pruner has stopped this trial.
    pub fn is_pruned(&self) -> bool {
        self.pruned
    }
}

/// The state workers share.
struct Shared {
    trials: Vec<Trial>,
    next_id: usize,
    rungs: Vec<Vec<f64>>,
    log: Option<PathBuf>,
    error: Option<SearchError>,
}

/// The first line of a search log: what the trials after it belong to.
#[derive(Serialize, Deserialize, PartialEq)]
struct LogHeader {
    space: Space,
    pruner: Option<Asha>,
}

/// A search over a [`Space`]: trials from a [`Sampler`], an objective to minimise, optional
/// [`Asha`] pruning, and a log (one JSON line per ended trial) from which a killed search
/// resumes. With one worker the study is deterministic: the same seed gives the same trials,
/// and a resumed search ends with the same table as an uninterrupted one.
pub struct Study<S: Sampler> {
    space: Space,
    sampler: S,
    pruner: Option<Asha>,
    log: Option<PathBuf>,
    trials: Vec<Trial>,
}

impl<S: Sampler> Study<S> {
    /// A study of `space` drawing from `sampler`.
    pub fn new(space: Space, sampler: S) -> Self {
        Study {
            space,
            sampler,
            pruner: None,
            log: None,
            trials: Vec::new(),
        }
    }

    /// Prunes with ASHA.
    pub fn with_pruner(mut self, pruner: Asha) -> Self {
        self.pruner = Some(pruner);
        self
    }

    /// Logs ended trials to `path`, first reading the trials already there (resuming).
    ///
    /// # Errors
    /// [`SearchError::Parse`] when the file holds another space or pruner, or a line that is
    /// not a trial (naming the line); [`SearchError::Io`] when it cannot be read.
    pub fn with_log(mut self, path: impl AsRef<Path>) -> Result<Self, SearchError> {
        let path = path.as_ref().to_path_buf();
        if path.exists() {
            self.trials = read_log(&path, &self.space, self.pruner.as_ref())?;
        }
        self.log = Some(path);
        Ok(self)
    }

    /// The space.
    pub fn space(&self) -> &Space {
        &self.space
    }

    /// The ended trials, in the order they ended.
    pub fn trials(&self) -> &[Trial] {
        &self.trials
    }

    /// Runs trials until the budget is spent: each draws a configuration and calls
    /// `objective(config, reporter)`, which trains, reports the validation value after each
    /// epoch (stopping when told) and returns the trial's value (lower is better) or an error
    /// message (the trial is kept as failed).
    ///
    /// # Errors
    /// [`SearchError::Write`]/[`SearchError::Io`] when the log cannot be written.
    pub fn optimize<F>(&mut self, budget: &Budget, objective: F) -> Result<&[Trial], SearchError>
    where
        F: Fn(&Config, &mut Reporter) -> Result<f64, String> + Sync,
    {
        let start = Instant::now();
        self.start_log()?;
        let rungs = rungs_of(&self.trials, self.pruner.as_ref());
        let shared = Mutex::new(Shared {
            next_id: self.trials.iter().map(|t| t.id + 1).max().unwrap_or(0),
            trials: std::mem::take(&mut self.trials),
            rungs,
            log: self.log.clone(),
            error: None,
        });
        let sampler = Mutex::new(&mut self.sampler);
        let (space, pruner) = (&self.space, self.pruner.as_ref());
        let worker = || loop {
            let (id, config) = {
                let mut s = shared.lock().expect("no worker panics holding the lock");
                let out_of_time = budget.time.is_some_and(|t| start.elapsed() >= t);
                if s.next_id >= budget.trials || out_of_time || s.error.is_some() {
                    return;
                }
                let id = s.next_id;
                s.next_id += 1;
                let config = sampler
                    .lock()
                    .expect("sampler lock")
                    .sample(space, &s.trials, id);
                (id, config)
            };
            let trial = run_trial(id, config, &objective, &shared, pruner);
            let mut s = shared.lock().expect("no worker panics holding the lock");
            if let Some(path) = s.log.clone()
                && let Err(e) = append_line(
                    &path,
                    &serde_json::to_string(&trial).expect("trials serialise"),
                )
            {
                s.error = Some(e);
            }
            s.trials.push(trial);
        };
        std::thread::scope(|scope| {
            for _ in 0..budget.workers.max(1) {
                scope.spawn(worker);
            }
        });
        let shared = shared.into_inner().expect("workers ended");
        self.trials = shared.trials;
        match shared.error {
            Some(e) => Err(e),
            None => Ok(&self.trials),
        }
    }
    /// [`Study::optimize`] over the ranks of `comm`, each running up to `budget.workers` trials
    /// at once. Trials go in rounds of `size · workers`: every rank draws the round's
    /// configurations (the same ones, since its sampler has seen the same trials), runs its
    /// share — rank `r` the trials `first + r·workers …` — and the ended trials are exchanged
    /// ([`Communicator::all_gather_f64`]), so after each round every rank holds the whole table.
    /// Rank 0 alone writes the log. ASHA compares a running trial with the trials of earlier
    /// rounds and this rank's own. Rank 0 decides after each round whether time is up and tells
    /// the others, so all ranks stop together. With one rank and one worker this is
    /// [`Study::optimize`] with one worker, trial for trial.
    ///
    /// Every rank must call it with the same space, sampler (seed), pruner, budget and log.
    ///
    /// # Errors
    /// As [`Study::optimize`], on rank 0 (the others stop with it and return `Ok`).
    pub fn optimize_across<F>(
        &mut self,
        comm: &dyn Communicator,
        budget: &Budget,
        objective: F,
    ) -> Result<&[Trial], SearchError>
    where
        F: Fn(&Config, &mut Reporter) -> Result<f64, String> + Sync,
    {
        let start = Instant::now();
        let (ranks, rank, workers) = (comm.size(), comm.rank(), budget.workers.max(1));
        let mut failure = if comm.is_root() {
            self.start_log().err()
        } else {
            None
        };
        loop {
            let first = self.trials.iter().map(|t| t.id + 1).max().unwrap_or(0);
            let out_of_time = budget.time.is_some_and(|t| start.elapsed() >= t);
            // Rank 0's verdict, summed with zeros from the others.
            let mut go = [0.0];
            if comm.is_root() && first < budget.trials && !out_of_time && failure.is_none() {
                go[0] = 1.0;
            }
            comm.all_reduce_sum_f64(&mut go);
            if go[0] == 0.0 {
                break;
            }
            let end = (first + ranks * workers).min(budget.trials);
            let configs: Vec<Config> = (first..end)
                .map(|id| self.sampler.sample(&self.space, &self.trials, id))
                .collect();
            let pruner = self.pruner.as_ref();
            let shared = Mutex::new(Shared {
                trials: Vec::new(),
                next_id: end,
                rungs: rungs_of(&self.trials, pruner),
                log: None,
                error: None,
            });
            let mine = first + rank * workers..(first + (rank + 1) * workers).min(end);
            let queue = Mutex::new(mine.map(|id| (id, configs[id - first].clone())));
            let ended = Mutex::new(Vec::new());
            std::thread::scope(|scope| {
                for _ in 0..workers {
                    scope.spawn(|| {
                        loop {
                            let next = queue.lock().expect("queue lock").next();
                            let Some((id, config)) = next else { return };
                            let trial = run_trial(id, config, &objective, &shared, pruner);
                            ended
                                .lock()
                                .expect("no worker panics holding the lock")
                                .push(trial);
                        }
                    });
                }
            });
            let mine = ended.into_inner().expect("workers ended");
            let mut round = all_gather_trials(comm, &mine, |id| configs[id - first].clone());
            round.sort_by_key(|t| t.id);
            if comm.is_root()
                && let Some(path) = &self.log
            {
                for t in &round {
                    if failure.is_none() {
                        let line = serde_json::to_string(t).expect("trials serialise");
                        failure = append_line(path, &line).err();
                    }
                }
            }
            self.trials.extend(round);
        }
        match failure {
            Some(e) => Err(e),
            None => Ok(&self.trials),
        }
    }

    /// Writes the log's header line if the log is new.
    fn start_log(&self) -> Result<(), SearchError> {
        if let Some(path) = &self.log
            && !path.exists()
        {
            let header = LogHeader {
                space: self.space.clone(),
                pruner: self.pruner.clone(),
            };
            append_line(
                path,
                &serde_json::to_string(&header).expect("spaces serialise"),
            )?;
        }
        Ok(())
    }
}

/// Runs trial `id` on `config`: calls the objective with a [`Reporter`] that records into
/// `shared`'s rungs, and times it.
fn run_trial<F>(
    id: usize,
    config: Config,
    objective: &F,
    shared: &Mutex<Shared>,
    pruner: Option<&Asha>,
) -> Trial
where
    F: Fn(&Config, &mut Reporter) -> Result<f64, String> + Sync,
{
    let began = Instant::now();
    let mut reporter = Reporter {
        id,
        shared,
        pruner,
        values: Vec::new(),
        pruned: false,
    };
    let outcome = objective(&config, &mut reporter);
    let (state, value, error) = match outcome {
        Ok(v) if reporter.pruned => (TrialState::Pruned, Some(v), None),
        Ok(v) => (TrialState::Complete, Some(v), None),
        Err(e) => (TrialState::Failed, None, Some(e)),
    };
    Trial {
        id,
        config,
        state,
        value,
        intermediate: reporter.values,
        seconds: began.elapsed().as_secs_f64(),
        error,
    }
}

/// The values each ASHA rung has seen in `trials` (empty without a pruner).
fn rungs_of(trials: &[Trial], pruner: Option<&Asha>) -> Vec<Vec<f64>> {
    let mut rungs: Vec<Vec<f64>> = Vec::new();
    if let Some(p) = pruner {
        for t in trials {
            for (k, &epoch) in p.rung_epochs().iter().enumerate() {
                if let Some(&v) = t.intermediate.get(epoch - 1) {
                    if rungs.len() <= k {
                        rungs.resize(k + 1, Vec::new());
                    }
                    rungs[k].push(v);
                }
            }
        }
    }
    rungs
}

/// Appends one line to `path` and syncs it (a killed search loses at most the running trials).
fn append_line(path: &Path, line: &str) -> Result<(), SearchError> {
    let io = |source| SearchError::Io {
        action: "appending to",
        path: path.to_path_buf(),
        source,
    };
    let mut f = OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(io)?;
    f.write_all(format!("{line}\n").as_bytes()).map_err(io)?;
    f.sync_data().map_err(io)
}

/// The trials of a log written for `space` and `pruner`. A last line cut short by a kill is
/// skipped.
fn read_log(path: &Path, space: &Space, pruner: Option<&Asha>) -> Result<Vec<Trial>, SearchError> {
    let text = std::fs::read_to_string(path).map_err(|source| SearchError::Io {
        action: "reading",
        path: path.to_path_buf(),
        source,
    })?;
    let parse = |reason: String| SearchError::Parse {
        path: path.to_path_buf(),
        reason,
    };
    let mut lines = text.lines().enumerate().peekable();
    let Some((_, first)) = lines.next() else {
        return Ok(Vec::new());
    };
    let header: LogHeader = serde_json::from_str(first)
        .map_err(|e| parse(format!("line 1 is not a search-log header: {e}")))?;
    if header.space != *space || header.pruner.as_ref() != pruner {
        return Err(parse(
            "the log was written by a search over another space or with another pruner; resume with the same settings or start a new log".into(),
        ));
    }
    let mut trials = Vec::new();
    while let Some((i, line)) = lines.next() {
        match serde_json::from_str::<Trial>(line) {
            Ok(t) => trials.push(t),
            // A kill mid-write leaves at most a partial last line.
            Err(_) if lines.peek().is_none() && !text.ends_with('\n') => break,
            Err(e) => return Err(parse(format!("line {} is not a trial: {e}", i + 1))),
        }
    }
    Ok(trials)
}
