//! Sparse coding: dictionary learning by alternating LASSO coding (ISTA or FISTA) and
//! dictionary updates (gradient steps or closed-form least squares), with unit-norm atoms.
//!
//! Inputs are rows `x ∈ ℝᵈ` of `X: [N, d]`; the dictionary `D: [k, d]` holds one atom per row
//! (the matrix `Φ = Dᵀ` of the textbook notation `x ≈ Φa`), and codes are rows `a ∈ ℝᵏ` of
//! `A: [N, k]`, so `X ≈ A·D`. Each example's code minimises
//!
//! ```text
//! F(a) = ½‖x − Φa‖² + λ‖a‖₁
//! ```
//!
//! (the ½ makes `∇ = Φᵀ(Φa − x)`; `‖x − Φa‖² + λ′‖a‖₁` is the same problem with `λ′ = 2λ`).
//! Both solvers take proximal-gradient steps of size `1/L`, `L = λ_max(ΦᵀΦ) = λ_max(D·Dᵀ)` found
//! by power iteration:
//!
//! ```text
//! ISTA:  a ← S_{λ/L}(a − ∇/L)
//! FISTA: a⁺ ← S_{λ/L}(y − ∇(y)/L),  t⁺ = (1 + √(1 + 4t²))/2,  y ← a⁺ + ((t − 1)/t⁺)(a⁺ − a)
//! S_τ(z) = sign(z)·max(|z| − τ, 0)
//! ```
//!
//! FISTA restarts its momentum (`t ← 1`, `y ← a⁺`) whenever `⟨y − a⁺, a⁺ − a⟩ > 0` (the
//! gradient-based adaptive restart of O'Donoghue & Candès), which keeps the fast rate on
//! strongly convex problems where plain FISTA oscillates.

use strata_tensor::linalg::qr;
use strata_tensor::{Element, Tensor};

use crate::autoencoder::NoiseRng;

/// Which proximal-gradient method computes the codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LassoSolver {
    /// Iterative shrinkage-thresholding, `O(1/t)`.
    Ista,
    /// Fast ISTA (Beck & Teboulle 2009) with Nesterov momentum, `O(1/t²)`, and adaptive
    /// restart.
    Fista,
}

/// Settings of a LASSO solve.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LassoOptions {
    /// The weight `λ ≥ 0` of `‖a‖₁`.
    pub lambda: f64,
    /// The method.
    pub solver: LassoSolver,
    /// Iteration limit.
    pub max_iter: usize,
    /// Stop when no code element changed by more than `tol` in one iteration.
    pub tol: f64,
}

impl LassoOptions {
    /// FISTA with `lambda`, at most 500 iterations, tolerance `1e-6`.
    pub fn new(lambda: f64) -> Self {
        LassoOptions {
            lambda,
            solver: LassoSolver::Fista,
            max_iter: 500,
            tol: 1e-6,
        }
    }

    /// Sets the method.
    pub fn with_solver(mut self, solver: LassoSolver) -> Self {
        self.solver = solver;
        self
    }

    /// Sets the iteration limit and tolerance.
    pub fn with_stopping(mut self, max_iter: usize, tol: f64) -> Self {
        self.max_iter = max_iter;
        self.tol = tol;
        self
    }
}

/// The result of [`lasso`].
#[derive(Clone, Debug)]
pub struct LassoSolution<T: Element = f32> {
    /// The codes `A: [N, k]`.
    pub codes: Tensor<T>,
    /// Iterations taken.
    pub iterations: usize,
    /// Whether the tolerance was met before the limit.
    pub converged: bool,
}

/// The soft-thresholding operator `S_τ(z) = sign(z)·max(|z| − τ, 0) = z − clamp(z, −τ, τ)`,
/// elementwise.
///
/// # Panics
/// If `tau` is negative.
pub fn soft_threshold<T: Element>(z: &Tensor<T>, tau: T) -> Tensor<T> {
    assert!(
        tau >= T::zero(),
        "soft_threshold: threshold must be ≥ 0, got {tau}"
    );
    z.sub(&z.clamp(-tau, tau))
}

/// The largest eigenvalue of a symmetric positive semi-definite matrix `G: [k, k]` by power
/// iteration (`v ← Gv/‖Gv‖` from a fixed pseudo-random start, until the Rayleigh quotient
/// `vᵀGv` changes by less than `1e-12` relatively, at most 10,000 steps).
///
/// # Panics
/// If `G` is not square.
pub fn largest_eigenvalue<T: Element>(g: &Tensor<T>) -> f64 {
    assert!(
        g.ndim() == 2 && g.shape()[0] == g.shape()[1],
        "largest_eigenvalue: expects a square [k, k] matrix, got {:?}",
        g.shape()
    );
    let k = g.shape()[0];
    let mut rng = NoiseRng::new(0x5eed_e16e);
    let mut v = Tensor::from_vec(
        (0..k).map(|_| T::from_f64_lossy(rng.normal())).collect(),
        &[k, 1],
    );
    let mut lambda = 0.0f64;
    for _ in 0..10_000 {
        let norm = v.square().sum().sqrt();
        if norm == T::zero() {
            return 0.0;
        }
        v = v.div_scalar(norm);
        let gv = g.matmul(&v);
        let next = v.mul(&gv).sum().to_f64_lossless();
        v = gv;
        if (next - lambda).abs() <= 1e-12 * next.abs().max(f64::MIN_POSITIVE) {
            return next;
        }
        lambda = next;
    }
    lambda
}

/// The step constant `L = λ_max(D·Dᵀ)` of a dictionary `D: [k, d]`.
///
/// # Panics
/// If `D` is not 2-D.
pub fn lipschitz_constant<T: Element>(dictionary: &Tensor<T>) -> f64 {
    assert!(
        dictionary.ndim() == 2,
        "lipschitz_constant: dictionary must be [k, d], got {:?}",
        dictionary.shape()
    );
    largest_eigenvalue(&dictionary.matmul(&dictionary.t()))
}

/// Solves the LASSO `min_A Σₙ ½‖xₙ − aₙD‖² + λ‖aₙ‖₁` for every row of `x: [N, d]` with
/// dictionary `D: [k, d]`, by ISTA or FISTA from `A = 0` with step `1/L` (see the
/// [module documentation](self)).
///
/// # Panics
/// If the shapes do not fit (`x: [N, d]`, `D: [k, d]`) or `λ` is negative.
pub fn lasso<T: Element>(
    x: &Tensor<T>,
    dictionary: &Tensor<T>,
    options: &LassoOptions,
) -> LassoSolution<T> {
    lasso_with_step(x, dictionary, options, lipschitz_constant(dictionary))
}

fn lasso_with_step<T: Element>(
    x: &Tensor<T>,
    dictionary: &Tensor<T>,
    options: &LassoOptions,
    l: f64,
) -> LassoSolution<T> {
    assert!(
        x.ndim() == 2 && dictionary.ndim() == 2 && x.shape()[1] == dictionary.shape()[1],
        "lasso: inputs {:?} do not fit dictionary {:?} (expects [N, d] and [k, d])",
        x.shape(),
        dictionary.shape()
    );
    assert!(
        options.lambda >= 0.0 && options.lambda.is_finite(),
        "lasso: λ must be finite and ≥ 0, got {}",
        options.lambda
    );
    let (n, k) = (x.shape()[0], dictionary.shape()[0]);
    let mut a = Tensor::<T>::zeros(&[n, k]);
    if l <= 0.0 {
        return LassoSolution {
            codes: a,
            iterations: 0,
            converged: true,
        };
    }
    let step = T::from_f64_lossy(1.0 / l);
    let tau = T::from_f64_lossy(options.lambda / l);
    let gram = dictionary.matmul(&dictionary.t());
    let xd = x.matmul(&dictionary.t());
    // ∇ = (A·D − X)·Dᵀ = A·(D·Dᵀ) − X·Dᵀ
    let prox =
        |y: &Tensor<T>| soft_threshold(&y.sub(&y.matmul(&gram).sub(&xd).mul_scalar(step)), tau);
    let mut y = a.clone();
    let mut t = 1.0f64;
    for it in 1..=options.max_iter {
        let next = match options.solver {
            LassoSolver::Ista => prox(&a),
            LassoSolver::Fista => prox(&y),
        };
        let change = next.sub(&a).abs().max().to_f64_lossless();
        if options.solver == LassoSolver::Fista {
            let step_taken = next.sub(&a);
            if y.sub(&next).mul(&step_taken).sum() > T::zero() {
                // Adaptive restart: the momentum points uphill, so drop it.
                t = 1.0;
                y = next.clone();
            } else {
                let t_next = (1.0 + (1.0 + 4.0 * t * t).sqrt()) / 2.0;
                y = next.add(&step_taken.mul_scalar(T::from_f64_lossy((t - 1.0) / t_next)));
                t = t_next;
            }
        }
        a = next;
        if change <= options.tol {
            return LassoSolution {
                codes: a,
                iterations: it,
                converged: true,
            };
        }
    }
    LassoSolution {
        codes: a,
        iterations: options.max_iter,
        converged: false,
    }
}

/// How [`SparseCoding::update_dictionary`] moves the atoms (then renormalised to unit length).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum DictionaryUpdate {
    /// `steps` gradient steps `D ← D − η·Aᵀ(A·D − X)/N`.
    Gradient {
        /// The step size `η`.
        lr: f64,
        /// Steps per update.
        steps: usize,
    },
    /// The closed-form least-squares fit (the method of optimal directions):
    /// `D = argmin ‖X − A·D‖²_F + ε‖D‖²_F = (AᵀA + εI)⁻¹AᵀX`, solved by a QR decomposition.
    LeastSquares {
        /// The ridge `ε > 0` (keeps unused atoms defined).
        ridge: f64,
    },
}

/// Settings of [`SparseCoding`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SparseCodingConfig {
    /// Number of atoms `k`.
    pub atoms: usize,
    /// The code solver's settings (`λ`, method, limits).
    pub lasso: LassoOptions,
    /// The dictionary step.
    pub update: DictionaryUpdate,
    /// Seed of the initial atoms and of the re-drawn unused ones.
    pub seed: u64,
}

impl SparseCodingConfig {
    /// `atoms` atoms, FISTA with `lambda` (500 iterations, tolerance `1e-6`), least-squares
    /// dictionary updates with ridge `1e-6`, seed 0.
    pub fn new(atoms: usize, lambda: f64) -> Self {
        SparseCodingConfig {
            atoms,
            lasso: LassoOptions::new(lambda),
            update: DictionaryUpdate::LeastSquares { ridge: 1e-6 },
            seed: 0,
        }
    }
}

/// A learned sparse code `X ≈ A·D` with unit-norm atoms (rows of `D`), fitted by alternating
/// minimisation of `Σₙ ½‖xₙ − aₙD‖² + λ‖aₙ‖₁` over the codes `A` (LASSO by ISTA/FISTA) and the
/// dictionary `D` (gradient or least squares, then atoms rescaled to `‖dⱼ‖ = 1`).
pub struct SparseCoding<T: Element = f32> {
    /// The atoms `D: [k, d]`, one unit-norm row each.
    pub dictionary: Tensor<T>,
    config: SparseCodingConfig,
    rng: NoiseRng,
}

impl<T: Element> SparseCoding<T> {
    /// A dictionary of `config.atoms` random unit atoms (Gaussian directions) in `ℝᵈ`,
    /// `d = dim`.
    ///
    /// # Panics
    /// If `dim` or the number of atoms is 0.
    pub fn new(dim: usize, config: SparseCodingConfig) -> Self {
        assert!(
            dim > 0 && config.atoms > 0,
            "SparseCoding::new: needs d > 0 and k > 0 atoms, got d = {dim}, k = {}",
            config.atoms
        );
        let mut rng = NoiseRng::new(config.seed);
        let raw = Tensor::from_vec(
            (0..config.atoms * dim)
                .map(|_| T::from_f64_lossy(rng.normal()))
                .collect(),
            &[config.atoms, dim],
        );
        SparseCoding {
            dictionary: normalize_rows(&raw),
            config,
            rng,
        }
    }

    /// A dictionary whose atoms are `k` distinct examples of `x: [N, d]` drawn at random,
    /// normalised (a common, data-aware start).
    ///
    /// # Panics
    /// If `x` is not 2-D or has fewer than `k` rows.
    pub fn from_data(x: &Tensor<T>, config: SparseCodingConfig) -> Self {
        assert!(
            x.ndim() == 2 && x.shape()[0] >= config.atoms,
            "SparseCoding::from_data: needs at least {} rows of [N, d], got {:?}",
            config.atoms,
            x.shape()
        );
        let mut rng = NoiseRng::new(config.seed);
        let n = x.shape()[0];
        let mut order: Vec<usize> = (0..n).collect();
        for i in 0..config.atoms {
            let j = i + (rng.next_u64() % (n - i) as u64) as usize;
            order.swap(i, j);
        }
        let picked = x.index_select(0, &order[..config.atoms]);
        let mut sc = SparseCoding {
            dictionary: normalize_rows(&picked),
            config,
            rng,
        };
        sc.refill_dead_atoms(x);
        sc
    }

    /// The configuration.
    pub fn config(&self) -> &SparseCodingConfig {
        &self.config
    }

    /// The sparse codes `A: [N, k]` of `x: [N, d]` under the current dictionary (the LASSO by
    /// the configured solver).
    ///
    /// # Panics
    /// If `x` is not `[N, d]`.
    pub fn encode(&self, x: &Tensor<T>) -> LassoSolution<T> {
        lasso(x, &self.dictionary, &self.config.lasso)
    }

    /// The reconstruction `A·D`.
    ///
    /// # Panics
    /// If `codes` is not `[N, k]`.
    pub fn decode(&self, codes: &Tensor<T>) -> Tensor<T> {
        codes.matmul(&self.dictionary)
    }

    /// The objective per example, `Σₙ (½‖xₙ − aₙD‖² + λ‖aₙ‖₁) / N`.
    ///
    /// # Panics
    /// If the shapes do not fit.
    pub fn objective(&self, x: &Tensor<T>, codes: &Tensor<T>) -> f64 {
        let n = x.shape()[0].max(1) as f64;
        let residual = x.sub(&self.decode(codes)).square().sum().to_f64_lossless();
        let l1 = codes.abs().sum().to_f64_lossless();
        (0.5 * residual + self.config.lasso.lambda * l1) / n
    }

    /// One dictionary step for fixed codes (see [`DictionaryUpdate`]), then every atom is
    /// rescaled to unit norm; an atom that has shrunk to (near) zero is replaced by a random
    /// normalised example of `x`.
    ///
    /// # Panics
    /// If the shapes do not fit (`x: [N, d]`, `codes: [N, k]`).
    pub fn update_dictionary(&mut self, x: &Tensor<T>, codes: &Tensor<T>) {
        let (k, d) = (self.dictionary.shape()[0], self.dictionary.shape()[1]);
        assert!(
            x.ndim() == 2
                && codes.ndim() == 2
                && x.shape()[1] == d
                && codes.shape() == [x.shape()[0], k],
            "SparseCoding::update_dictionary: inputs {:?} and codes {:?} do not fit dictionary {:?}",
            x.shape(),
            codes.shape(),
            self.dictionary.shape()
        );
        let n = x.shape()[0];
        let updated = match self.config.update {
            DictionaryUpdate::Gradient { lr, steps } => {
                let mut dict = self.dictionary.clone();
                let ata = codes.t().matmul(codes);
                let atx = codes.t().matmul(x);
                let eta = T::from_f64_lossy(lr / n.max(1) as f64);
                for _ in 0..steps {
                    dict = dict.sub(&ata.matmul(&dict).sub(&atx).mul_scalar(eta));
                }
                dict
            }
            DictionaryUpdate::LeastSquares { ridge } => {
                assert!(
                    ridge > 0.0,
                    "SparseCoding::update_dictionary: the least-squares ridge must be > 0, got {ridge}"
                );
                // [A; √ε·I] = Q·R  ⇒  D = R⁻¹·Q[:N]ᵀ·X.
                let stacked = Tensor::concat(
                    &[
                        codes,
                        &Tensor::<T>::eye(k).mul_scalar(T::from_f64_lossy(ridge.sqrt())),
                    ],
                    0,
                );
                let (q, r) = qr(&stacked);
                let rhs = q.narrow(0, 0, n).t().matmul(x);
                solve_upper(&r, &rhs)
            }
        };
        self.dictionary = normalize_rows(&updated);
        self.refill_dead_atoms(x);
    }

    fn refill_dead_atoms(&mut self, x: &Tensor<T>) {
        let norms = self.dictionary.square().sum_axis(1, false).to_vec();
        let n = x.shape()[0];
        if n == 0 || norms.iter().all(|v| v.to_f64_lossless() > 0.5) {
            return;
        }
        let mut rows: Vec<Tensor<T>> = Vec::with_capacity(norms.len());
        for (j, v) in norms.iter().enumerate() {
            if v.to_f64_lossless() > 0.5 {
                rows.push(self.dictionary.narrow(0, j, 1));
            } else {
                let i = (self.rng.next_u64() % n as u64) as usize;
                rows.push(normalize_rows(&x.narrow(0, i, 1)));
            }
        }
        let refs: Vec<&Tensor<T>> = rows.iter().collect();
        self.dictionary = Tensor::concat(&refs, 0);
    }

    /// Alternates `iterations` times: codes of `x` by the LASSO, then one dictionary update.
    /// Returns the objective (see [`SparseCoding::objective`]) after each coding step.
    ///
    /// # Panics
    /// If `x` is not `[N, d]`.
    pub fn fit(&mut self, x: &Tensor<T>, iterations: usize) -> Vec<f64> {
        let mut history = Vec::with_capacity(iterations);
        for _ in 0..iterations {
            let codes = self.encode(x).codes;
            history.push(self.objective(x, &codes));
            self.update_dictionary(x, &codes);
        }
        history
    }
}

/// Rows scaled to unit Euclidean norm; rows shorter than `1e-10` times the longest (unused
/// atoms) become zero.
fn normalize_rows<T: Element>(m: &Tensor<T>) -> Tensor<T> {
    let norms = m.square().sum_axis(1, true).sqrt();
    let floor = norms.max() * T::from_f64_lossy(1e-10);
    let keep = norms.map(|v| {
        if v > floor && v > T::zero() {
            T::one()
        } else {
            T::zero()
        }
    });
    let safe = norms.map(|v| {
        if v > floor && v > T::zero() {
            v
        } else {
            T::one()
        }
    });
    m.div(&safe).mul(&keep)
}

/// Solves `R·X = B` for upper-triangular `R: [k, k]` and `B: [k, m]` by back substitution.
fn solve_upper<T: Element>(r: &Tensor<T>, b: &Tensor<T>) -> Tensor<T> {
    let (k, m) = (b.shape()[0], b.shape()[1]);
    let r: Vec<f64> = r.to_vec().iter().map(|v| v.to_f64_lossless()).collect();
    let mut x: Vec<f64> = b.to_vec().iter().map(|v| v.to_f64_lossless()).collect();
    for i in (0..k).rev() {
        let diag = r[i * k + i];
        for c in 0..m {
            let mut s = x[i * m + c];
            for j in i + 1..k {
                s -= r[i * k + j] * x[j * m + c];
            }
            x[i * m + c] = if diag != 0.0 { s / diag } else { 0.0 };
        }
    }
    Tensor::from_vec(x.into_iter().map(T::from_f64_lossy).collect(), &[k, m])
}
