//! Trials sent between ranks: each rank's ended trials as `f64`s, gathered with
//! [`Communicator::all_gather_f64`].
//!
//! A rank's block is `[count, trial, trial, …]`, a trial
//! `[id, state, has value, value, seconds, epochs, intermediate…, error bytes, byte…]` (`state`
//! 0 complete / 1 pruned / 2 failed, the error as its UTF-8 bytes). Blocks are
//! padded to the longest so every rank sends the same length. The configurations are not sent:
//! every rank drew the same ones.

use strata_distributed::Communicator;

use crate::space::Config;
use crate::trial::{Trial, TrialState};

/// Every rank's `mine`, in rank order; `config(id)` gives the configuration of trial `id`.
///
/// # Panics
/// If a block does not decode (a rank sent something else: a bug, not an input error).
pub(crate) fn all_gather_trials(
    comm: &dyn Communicator,
    mine: &[Trial],
    config: impl Fn(usize) -> Config,
) -> Vec<Trial> {
    let block = encode(mine);
    let lengths = comm.all_gather_f64(&[block.len() as f64]);
    let longest = lengths.iter().fold(0.0f64, |a, &b| a.max(b)) as usize;
    let mut padded = block;
    padded.resize(longest, 0.0);
    let all = comm.all_gather_f64(&padded);
    all.chunks(longest.max(1))
        .take(comm.size())
        .flat_map(|b| decode(b, &config))
        .collect()
}

/// One rank's block.
fn encode(trials: &[Trial]) -> Vec<f64> {
    let mut out = vec![trials.len() as f64];
    for t in trials {
        let state = match t.state {
            TrialState::Complete => 0.0,
            TrialState::Pruned => 1.0,
            TrialState::Failed => 2.0,
        };
        let value = t.value.map_or([0.0, 0.0], |v| [1.0, v]);
        out.extend([t.id as f64, state, value[0], value[1], t.seconds]);
        out.push(t.intermediate.len() as f64);
        out.extend(&t.intermediate);
        let error = t.error.as_deref().unwrap_or("").as_bytes();
        out.push(error.len() as f64);
        out.extend(error.iter().map(|&b| f64::from(b)));
    }
    out
}

/// The trials of one (possibly padded) block.
fn decode(block: &[f64], config: &impl Fn(usize) -> Config) -> Vec<Trial> {
    let mut at = 0;
    let mut next = || {
        let v = block[at];
        at += 1;
        v
    };
    let count = next() as usize;
    (0..count)
        .map(|_| {
            let id = next() as usize;
            let state = match next() as u8 {
                0 => TrialState::Complete,
                1 => TrialState::Pruned,
                2 => TrialState::Failed,
                other => panic!("exchange: trial {id} has state code {other}"),
            };
            let has_value = next() != 0.0;
            let value = Some(next()).filter(|_| has_value);
            let seconds = next();
            let epochs = next() as usize;
            let intermediate = (0..epochs).map(|_| next()).collect();
            let bytes: Vec<u8> = (0..next() as usize).map(|_| next() as u8).collect();
            let error = (!bytes.is_empty()).then(|| String::from_utf8_lossy(&bytes).into_owned());
            Trial {
                id,
                config: config(id),
                state,
                value,
                intermediate,
                seconds,
                error,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use strata_distributed::SingleProcess;

    use super::*;
    use crate::space::Value;

    #[test]
    fn trials_survive_the_exchange_bit_for_bit() {
        let config = |id: usize| {
            let mut c = Config::new();
            c.insert("units".into(), Value::Int(id as i64 * 16));
            c
        };
        let trials = vec![
            Trial {
                id: 3,
                config: config(3),
                state: TrialState::Complete,
                value: Some(0.123_456_789_012_345_6),
                intermediate: vec![0.5, 0.25, 0.123_456_789_012_345_6],
                seconds: 1.5,
                error: None,
            },
            Trial {
                id: 4,
                config: config(4),
                state: TrialState::Pruned,
                value: Some(f64::INFINITY),
                intermediate: vec![f64::INFINITY, -0.0],
                seconds: 0.25,
                error: None,
            },
            Trial {
                id: 5,
                config: config(5),
                state: TrialState::Failed,
                value: None,
                intermediate: vec![],
                seconds: 0.0,
                error: Some("loss became NaN at epoch 2 — stopped".into()),
            },
        ];
        assert_eq!(all_gather_trials(&SingleProcess, &trials, config), trials);
        assert_eq!(all_gather_trials(&SingleProcess, &[], config), vec![]);
    }
}
