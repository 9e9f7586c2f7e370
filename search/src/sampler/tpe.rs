//! The tree-structured Parzen estimator (Bergstra et al. 2011), as Optuna's default sampler
//! does it: each dimension modelled on its own.

use rand::Rng;
use rand::rngs::StdRng;

use crate::space::{Config, Domain, Space, Value};
use crate::trial::{Trial, TrialState};

use super::{Sampler, bounds, from_internal, to_internal, trial_rng, uniform};

/// TPE: after `startup` random trials, for each active dimension the ended trials that have
/// it are split into the `γ(n) = min(⌈0.1·n⌉, 25)` best complete ones ("below") and the rest
/// (pruned trials always above); each side becomes a Parzen estimator — a mixture of normal
/// kernels at the observed values on the dimension's scale plus a broad prior kernel, truncated
/// to the range (bandwidth: the larger gap to a neighbour, clipped to
/// `[range/min(100, n + 1), range]`), or for a categorical dimension smoothed frequencies —
/// and of `candidates` draws from the "below" estimator `l` the one with the largest
/// `l(x)/g(x)` is taken. Minimises the trial value. Trial `id`'s draws come from a stream of
/// `(seed, id)`, so a sequential search repeats exactly.
#[derive(Clone, Debug)]
pub struct TpeSampler {
    seed: u64,
    startup: usize,
    candidates: usize,
}

impl TpeSampler {
    /// Optuna's defaults: 10 random startup trials, 24 candidates.
    pub fn new(seed: u64) -> Self {
        TpeSampler {
            seed,
            startup: 10,
            candidates: 24,
        }
    }

    /// Sets the number of random trials before the model is used.
    pub fn with_startup(mut self, startup: usize) -> Self {
        self.startup = startup;
        self
    }

    /// Sets the number of candidates drawn from `l` per dimension (at least 1).
    pub fn with_candidates(mut self, candidates: usize) -> Self {
        self.candidates = candidates.max(1);
        self
    }
}

/// How many of `n` observations count as good.
fn gamma(n: usize) -> usize {
    n.div_ceil(10).min(25)
}

impl Sampler for TpeSampler {
    fn sample(&mut self, space: &Space, history: &[Trial], id: usize) -> Config {
        let mut rng = trial_rng(self.seed, id);
        let mut config = Config::new();
        let ended = history
            .iter()
            .filter(|t| t.state != TrialState::Failed)
            .count();
        for d in space.dimensions() {
            if !space.is_active(d, &config) {
                continue;
            }
            let value = if ended < self.startup {
                uniform(&d.domain, &mut rng)
            } else {
                self.sample_dimension(&d.name, &d.domain, history, &mut rng)
            };
            config.insert(d.name.clone(), value);
        }
        config
    }
}

impl TpeSampler {
    fn sample_dimension(
        &self,
        name: &str,
        domain: &Domain,
        history: &[Trial],
        rng: &mut StdRng,
    ) -> Value {
        // (value, score): complete trials by their value, pruned ones after every complete one.
        let mut observed: Vec<(&Value, f64, bool)> = history
            .iter()
            .filter_map(|t| {
                let v = t.config.get(name)?;
                match t.state {
                    TrialState::Complete => t.value.filter(|x| x.is_finite()).map(|x| (v, x, true)),
                    TrialState::Pruned => Some((v, f64::INFINITY, false)),
                    TrialState::Failed => None,
                }
            })
            .collect();
        if observed.is_empty() {
            return uniform(domain, rng);
        }
        observed.sort_by(|a, b| a.1.total_cmp(&b.1));
        let n_below = gamma(observed.len()).min(observed.iter().filter(|o| o.2).count());
        let (below, above) = observed.split_at(n_below);
        match domain {
            Domain::Categorical { choices } => {
                let l = frequencies(choices, below.iter().map(|o| o.0));
                let g = frequencies(choices, above.iter().map(|o| o.0));
                let mut best = (f64::NEG_INFINITY, 0);
                for _ in 0..self.candidates {
                    let k = draw_index(&l, rng);
                    let score = l[k].ln() - g[k].ln();
                    if score > best.0 {
                        best = (score, k);
                    }
                }
                Value::Choice(choices[best.1].clone())
            }
            _ => {
                let (a, b) = bounds(domain);
                if a == b {
                    return from_internal(domain, a);
                }
                let points = |side: &[(&Value, f64, bool)]| -> Vec<f64> {
                    side.iter()
                        .filter_map(|o| to_internal(domain, o.0))
                        .collect()
                };
                let l = Parzen::new(&points(below), a, b);
                let g = Parzen::new(&points(above), a, b);
                let mut best = (f64::NEG_INFINITY, (a + b) / 2.0);
                for _ in 0..self.candidates {
                    let u = l.draw(rng);
                    let score = l.log_pdf(u) - g.log_pdf(u);
                    if score > best.0 {
                        best = (score, u);
                    }
                }
                from_internal(domain, best.1)
            }
        }
    }
}

/// Choice probabilities: counts plus a prior of one observation spread evenly.
fn frequencies<'a>(choices: &[String], values: impl Iterator<Item = &'a Value>) -> Vec<f64> {
    let k = choices.len() as f64;
    let mut w = vec![1.0 / k; choices.len()];
    for v in values {
        if let Value::Choice(c) = v
            && let Some(i) = choices.iter().position(|x| x == c)
        {
            w[i] += 1.0;
        }
    }
    let total: f64 = w.iter().sum();
    w.iter().map(|x| x / total).collect()
}

fn draw_index(weights: &[f64], rng: &mut StdRng) -> usize {
    let mut u = rng.random::<f64>() * weights.iter().sum::<f64>();
    for (i, w) in weights.iter().enumerate() {
        if u < *w {
            return i;
        }
        u -= w;
    }
    weights.len() - 1
}

/// A mixture of equally weighted normal kernels truncated to `[a, b]`: one per observation and
/// a prior kernel at the centre with the range as its width.
struct Parzen {
    mus: Vec<f64>,
    sigmas: Vec<f64>,
    a: f64,
    b: f64,
}

impl Parzen {
    fn new(points: &[f64], a: f64, b: f64) -> Self {
        let range = b - a;
        let mut mus: Vec<f64> = points.iter().map(|p| p.clamp(a, b)).collect();
        mus.push((a + b) / 2.0);
        let prior = mus.len() - 1;
        let mut order: Vec<usize> = (0..mus.len()).collect();
        order.sort_by(|&i, &j| mus[i].total_cmp(&mus[j]));
        let min_sigma = range / (100.0f64).min(mus.len() as f64 + 1.0);
        let mut sigmas = vec![range; mus.len()];
        for (k, &i) in order.iter().enumerate() {
            if i == prior {
                continue;
            }
            let left = if k == 0 { a } else { mus[order[k - 1]] };
            let right = if k + 1 == order.len() {
                b
            } else {
                mus[order[k + 1]]
            };
            sigmas[i] = (mus[i] - left).max(right - mus[i]).clamp(min_sigma, range);
        }
        Parzen { mus, sigmas, a, b }
    }

    fn draw(&self, rng: &mut StdRng) -> f64 {
        let k = rng.random_range(0..self.mus.len());
        for _ in 0..100 {
            let z = standard_normal(rng);
            let u = self.mus[k] + self.sigmas[k] * z;
            if (self.a..=self.b).contains(&u) {
                return u;
            }
        }
        self.mus[k].clamp(self.a, self.b)
    }

    fn log_pdf(&self, u: f64) -> f64 {
        let n = self.mus.len() as f64;
        let terms: Vec<f64> = self
            .mus
            .iter()
            .zip(&self.sigmas)
            .map(|(&mu, &s)| {
                let z = (u - mu) / s;
                let mass = (phi((self.b - mu) / s) - phi((self.a - mu) / s)).max(1e-300);
                -0.5 * z * z - s.ln() - 0.5 * (2.0 * std::f64::consts::PI).ln() - mass.ln() - n.ln()
            })
            .collect();
        let m = terms.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        m + terms.iter().map(|t| (t - m).exp()).sum::<f64>().ln()
    }
}

/// The standard normal CDF.
fn phi(x: f64) -> f64 {
    0.5 * (1.0 + libm::erf(x / std::f64::consts::SQRT_2))
}

/// A standard normal draw (Box–Muller).
fn standard_normal(rng: &mut StdRng) -> f64 {
    let u1: f64 = rng.random::<f64>().max(f64::MIN_POSITIVE);
    let u2: f64 = rng.random();
    (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
}
