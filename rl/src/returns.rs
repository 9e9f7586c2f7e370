//! Returns and advantages: discounted returns-to-go, generalised advantage estimation and
//! normalisation — plain functions over slices, shared by the algorithms.

/// Discounted returns-to-go of one episode: `Gₜ = rₜ + γ Gₜ₊₁`, `G_T = r_T` (the value after
/// the last step is `bootstrap`: 0 for a terminated episode, `V(s_{T+1})` for a truncated one).
pub fn returns_to_go(rewards: &[f64], gamma: f64, bootstrap: f64) -> Vec<f64> {
    let mut out = vec![0.0; rewards.len()];
    let mut g = bootstrap;
    for t in (0..rewards.len()).rev() {
        g = rewards[t] + gamma * g;
        out[t] = g;
    }
    out
}

/// Generalised advantage estimation (Schulman et al. 2016) over a rollout of `T` steps of `N`
/// environments, arrays `[T × N]` row-major:
///
/// ```text
/// δₜ = rₜ + γ V(sₜ₊₁)(1 − doneₜ) − V(sₜ)
/// Aₜ = δₜ + γλ (1 − doneₜ) Aₜ₊₁
/// ```
///
/// with `V(s_T) = next_values` (`[N]`). `done` cuts both the bootstrap and the recursion at an
/// episode's end (a truncated step's reward should already carry `γ V(s_final)`). Returns
/// the advantages `[T × N]`; the critic's targets are `A + V`.
///
/// # Panics
/// If the lengths disagree.
pub fn gae(
    rewards: &[f64],
    values: &[f64],
    next_values: &[f64],
    dones: &[bool],
    gamma: f64,
    lambda: f64,
) -> Vec<f64> {
    let n = next_values.len();
    assert!(
        n > 0
            && rewards.len().is_multiple_of(n)
            && values.len() == rewards.len()
            && dones.len() == rewards.len(),
        "gae: rewards {}, values {}, dones {} must all be T × N with N = {n} next values",
        rewards.len(),
        values.len(),
        dones.len()
    );
    let steps = rewards.len() / n;
    let mut adv = vec![0.0; rewards.len()];
    let mut running = vec![0.0; n];
    for t in (0..steps).rev() {
        for e in 0..n {
            let i = t * n + e;
            let next_value = if t + 1 == steps {
                next_values[e]
            } else {
                values[i + n]
            };
            let live = if dones[i] { 0.0 } else { 1.0 };
            let delta = rewards[i] + gamma * next_value * live - values[i];
            running[e] = delta + gamma * lambda * live * running[e];
            adv[i] = running[e];
        }
    }
    adv
}

/// `(x − mean)/(std + 1e-8)` in place, with the population standard deviation; a single value
/// becomes 0.
pub fn normalize(values: &mut [f64]) {
    if values.is_empty() {
        return;
    }
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let var = values.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n;
    let std = var.sqrt();
    for v in values {
        *v = (*v - mean) / (std + 1e-8);
    }
}
