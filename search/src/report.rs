//! The results of a study: a table (CSV and JSON), the best configuration, and a PNG of the
//! value against the trial number with the best-so-far curve.

use std::path::Path;

use crate::SearchError;
use crate::space::Space;
use crate::trial::{Trial, TrialState, best};

fn state_name(s: TrialState) -> &'static str {
    match s {
        TrialState::Complete => "complete",
        TrialState::Pruned => "pruned",
        TrialState::Failed => "failed",
    }
}

/// The trials as CSV: `trial,state,value,epochs,seconds,<one column per dimension>` (empty
/// where a dimension is inactive), in trial order.
pub fn to_csv(space: &Space, trials: &[Trial]) -> String {
    let mut sorted: Vec<&Trial> = trials.iter().collect();
    sorted.sort_by_key(|t| t.id);
    let mut out = String::from("trial,state,value,epochs,seconds");
    for d in space.dimensions() {
        out.push(',');
        out.push_str(&d.name);
    }
    out.push('\n');
    for t in sorted {
        out.push_str(&format!(
            "{},{},{},{},{:.3}",
            t.id,
            state_name(t.state),
            t.value.map_or(String::new(), |v| v.to_string()),
            t.epochs(),
            t.seconds
        ));
        for d in space.dimensions() {
            out.push(',');
            if let Some(v) = t.config.get(&d.name) {
                out.push_str(&v.to_string());
            }
        }
        out.push('\n');
    }
    out
}

/// `{"best": trial or null, "trials": [...]}` in trial order.
pub fn to_json(trials: &[Trial]) -> serde_json::Value {
    let mut sorted: Vec<&Trial> = trials.iter().collect();
    sorted.sort_by_key(|t| t.id);
    serde_json::json!({
        "best": best(trials),
        "trials": sorted,
    })
}

/// The best configuration as one line of `name=value` pairs, ready to paste back as flags
/// (`--name value`) or into a config: `lr=0.0031 layers=2 …`.
pub fn best_line(trials: &[Trial]) -> Option<String> {
    best(trials).map(|t| {
        t.config
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(" ")
    })
}

/// Writes `trials.csv`, `trials.json` and `trials.png` into `dir` (created), atomically.
///
/// # Errors
/// [`SearchError::Write`] or [`SearchError::Plot`] naming the file.
pub fn write_all(
    dir: &Path,
    space: &Space,
    trials: &[Trial],
    metric: &str,
) -> Result<(), SearchError> {
    strata_io::write_atomically_creating_folders(
        dir.join("trials.csv"),
        to_csv(space, trials).as_bytes(),
    )?;
    let json = serde_json::to_vec_pretty(&to_json(trials)).expect("trials serialise");
    strata_io::write_atomically(dir.join("trials.json"), &json)?;
    write_png(&dir.join("trials.png"), trials, metric)
}

/// Value against trial number — complete trials, pruned ones at their last value — and the
/// best-so-far curve of complete trials (`strata_models::plot::plot_series`).
///
/// # Errors
/// [`SearchError::Plot`] naming the file.
pub fn write_png(path: &Path, trials: &[Trial], metric: &str) -> Result<(), SearchError> {
    let mut sorted: Vec<&Trial> = trials.iter().collect();
    sorted.sort_by_key(|t| t.id);
    let points = |state: TrialState| -> Vec<(f64, f64)> {
        sorted
            .iter()
            .map(|t| match t.value {
                Some(v) if t.state == state => (t.id as f64, v),
                _ => (t.id as f64, f64::NAN),
            })
            .collect()
    };
    let mut best_so_far = f64::INFINITY;
    let curve: Vec<(f64, f64)> = sorted
        .iter()
        .map(|t| {
            if let Some(v) = t.complete_value() {
                best_so_far = best_so_far.min(v);
            }
            (
                t.id as f64,
                if best_so_far.is_finite() {
                    best_so_far
                } else {
                    f64::NAN
                },
            )
        })
        .collect();
    let (complete, pruned) = (points(TrialState::Complete), points(TrialState::Pruned));
    strata_models::plot::plot_series(
        path,
        "search: value of each trial and the best so far",
        "trial",
        metric,
        &[
            ("complete", &complete),
            ("pruned (last value)", &pruned),
            ("best so far", &curve),
        ],
    )
    .map_err(|e| SearchError::Plot {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })
}
