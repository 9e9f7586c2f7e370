//! Sparse coding: the LASSO solvers against a coordinate-descent reference, the step constant
//! by power iteration, and dictionary recovery on synthetic data from a known sparse
//! dictionary.

use strata_models::sparse_coding::{
    DictionaryUpdate, LassoOptions, LassoSolver, SparseCoding, SparseCodingConfig,
    largest_eigenvalue, lasso, lipschitz_constant, soft_threshold,
};
use strata_tensor::Tensor;

/// A small deterministic generator (SplitMix64) for the synthetic problems.
struct Gen(u64);

impl Gen {
    fn u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn uniform(&mut self) -> f64 {
        (self.u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn normal(&mut self) -> f64 {
        let (u1, u2) = (1.0 - self.uniform(), self.uniform());
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }
    fn normals(&mut self, n: usize) -> Vec<f64> {
        (0..n).map(|_| self.normal()).collect()
    }
}

fn unit_rows(v: Vec<f64>, k: usize, d: usize) -> Tensor<f64> {
    let mut v = v;
    for row in v.chunks_mut(d) {
        let n = row.iter().map(|x| x * x).sum::<f64>().sqrt();
        row.iter_mut().for_each(|x| *x /= n);
    }
    Tensor::from_vec(v, &[k, d])
}

/// Coordinate descent for `min_a ½‖x − Σⱼ aⱼdⱼ‖² + λ‖a‖₁` (atoms `dⱼ` = rows of `dict`).
fn lasso_cd(x: &[f64], dict: &[f64], k: usize, d: usize, lambda: f64) -> Vec<f64> {
    let mut a = vec![0.0; k];
    let mut r = x.to_vec();
    for _ in 0..100_000 {
        let mut change = 0.0f64;
        for j in 0..k {
            let dj = &dict[j * d..(j + 1) * d];
            let norm2: f64 = dj.iter().map(|v| v * v).sum();
            let rho: f64 = dj.iter().zip(&r).map(|(p, q)| p * q).sum::<f64>() + a[j] * norm2;
            let new = rho.signum() * (rho.abs() - lambda).max(0.0) / norm2;
            let delta = new - a[j];
            if delta != 0.0 {
                r.iter_mut().zip(dj).for_each(|(ri, p)| *ri -= delta * p);
                a[j] = new;
            }
            change = change.max(delta.abs());
        }
        if change < 1e-15 {
            break;
        }
    }
    a
}

#[test]
fn soft_threshold_shrinks_toward_zero() {
    let z = Tensor::<f64>::from_vec(vec![-2.0, -0.5, 0.0, 0.3, 1.5], &[5]);
    assert_eq!(
        soft_threshold(&z, 0.5).to_vec(),
        vec![-1.5, 0.0, 0.0, 0.0, 1.0]
    );
}

#[test]
fn power_iteration_finds_the_largest_eigenvalue() {
    // Q·diag(4, 2.5, 1, 0.1)·Qᵀ with Q orthogonal.
    let (q, _) = strata_tensor::linalg::qr(&Tensor::<f64>::from_vec(Gen(1).normals(16), &[4, 4]));
    let l = Tensor::<f64>::from_vec(
        vec![
            4.0, 0.0, 0.0, 0.0, 0.0, 2.5, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.1,
        ],
        &[4, 4],
    );
    let g = q.matmul(&l).matmul(&q.t());
    let top = largest_eigenvalue(&g);
    assert!((top - 4.0).abs() < 1e-8, "λ_max {top}");
    let dict = unit_rows(Gen(2).normals(6 * 4), 6, 4);
    let l = lipschitz_constant(&dict);
    // L bounds the Rayleigh quotient of D·Dᵀ and is at most trace = k for unit atoms.
    assert!(l > 1.0 && l <= 6.0, "L = {l}");
}

#[test]
fn ista_and_fista_match_coordinate_descent() {
    for (d, k, lambda) in [(10, 6, 0.1), (8, 12, 0.05), (16, 24, 0.2)] {
        let mut rng = Gen(10 + k as u64);
        let dict = unit_rows(rng.normals(k * d), k, d);
        let n = 5;
        let x = Tensor::<f64>::from_vec(rng.normals(n * d), &[n, d]);
        let reference: Vec<f64> = (0..n)
            .flat_map(|i| {
                lasso_cd(
                    &x.to_vec()[i * d..(i + 1) * d],
                    &dict.to_vec(),
                    k,
                    d,
                    lambda,
                )
            })
            .collect();
        let mut iterations = Vec::new();
        for solver in [LassoSolver::Ista, LassoSolver::Fista] {
            let sol = lasso(
                &x,
                &dict,
                &LassoOptions::new(lambda)
                    .with_solver(solver)
                    .with_stopping(200_000, 1e-12),
            );
            assert!(
                sol.converged,
                "{solver:?} d={d} k={k}: no convergence in {} iterations",
                sol.iterations
            );
            let err = sol
                .codes
                .to_vec()
                .iter()
                .zip(&reference)
                .map(|(a, b)| (a - b).abs())
                .fold(0.0, f64::max);
            println!(
                "d={d} k={k} λ={lambda}: {solver:?} {} iterations, max |a − a_cd| = {err:.2e}",
                sol.iterations
            );
            assert!(err < 1e-4, "{solver:?} d={d} k={k}: max |a − a_cd| = {err}");
            iterations.push(sol.iterations);
        }
        assert!(
            iterations[1] < iterations[0],
            "d={d} k={k}: FISTA took {} iterations, ISTA {}",
            iterations[1],
            iterations[0]
        );
    }
}

/// `n` examples, each a combination of `s` random atoms of `dict` with coefficients of random
/// sign and magnitude in [0.5, 1.5], plus noise of standard deviation `noise`.
fn synthetic(dict: &Tensor<f64>, n: usize, s: usize, noise: f64, rng: &mut Gen) -> Tensor<f64> {
    let (k, d) = (dict.shape()[0], dict.shape()[1]);
    let mut codes = vec![0.0; n * k];
    for i in 0..n {
        let mut chosen = Vec::new();
        while chosen.len() < s {
            let j = (rng.u64() % k as u64) as usize;
            if !chosen.contains(&j) {
                chosen.push(j);
                let sign = if rng.uniform() < 0.5 { -1.0 } else { 1.0 };
                codes[i * k + j] = sign * (0.5 + rng.uniform());
            }
        }
    }
    let clean = Tensor::from_vec(codes, &[n, k]).matmul(dict);
    clean.add(&Tensor::from_vec(rng.normals(n * d), &[n, d]).mul_scalar(noise))
}

/// The fraction of true atoms whose best match among the learned ones has |cosine| > 0.9.
fn recovered(truth: &Tensor<f64>, learned: &Tensor<f64>) -> f64 {
    let cos = truth.matmul(&learned.t()).abs();
    let best = cos.max_axis(1, false).to_vec();
    best.iter().filter(|&&c| c > 0.9).count() as f64 / best.len() as f64
}

#[test]
fn dictionary_learning_recovers_the_atoms() {
    // 30 unit atoms in 20-D (1.5× overcomplete), 3 active per example, 3000 examples.
    let (d, k, s, n) = (20, 30, 3, 3000);
    let mut rng = Gen(42);
    let truth = unit_rows(rng.normals(k * d), k, d);
    let x = synthetic(&truth, n, s, 0.01, &mut rng);
    for update in [
        DictionaryUpdate::LeastSquares { ridge: 1e-6 },
        DictionaryUpdate::Gradient { lr: 1.0, steps: 20 },
    ] {
        let mut config = SparseCodingConfig::new(k, 0.05);
        config.update = update;
        config.lasso = config.lasso.with_stopping(300, 1e-6);
        config.seed = 7;
        let mut sc = SparseCoding::from_data(&x, config);
        let before = recovered(&truth, &sc.dictionary);
        let history = sc.fit(&x, 100);
        let after = recovered(&truth, &sc.dictionary);
        println!(
            "{update:?}: recovered {:.0}% of atoms (|cos| > 0.9; {:.0}% at start), objective {:.4} → {:.4}",
            100.0 * after,
            100.0 * before,
            history[0],
            history[history.len() - 1]
        );
        let norms = sc.dictionary.square().sum_axis(1, false).to_vec();
        assert!(
            norms.iter().all(|v| (v - 1.0).abs() < 1e-9),
            "atoms are unit norm: {norms:?}"
        );
        assert!(
            history[history.len() - 1] < history[0],
            "objective did not fall: {history:?}"
        );
        assert!(
            after >= 0.8,
            "{update:?}: recovered only {after} of the atoms"
        );
        // Codes of new inputs are sparse and reconstruct them.
        let fresh = synthetic(&truth, 200, s, 0.0, &mut rng);
        let codes = sc.encode(&fresh).codes;
        let nonzero = codes.to_vec().iter().filter(|v| v.abs() > 1e-8).count() as f64 / 200.0;
        let rel = fresh.sub(&sc.decode(&codes)).square().sum() / fresh.square().sum();
        println!(
            "{update:?}: new inputs: {nonzero:.2} non-zeros per code (true {s}), relative residual {rel:.4}"
        );
        assert!(
            nonzero < 3.0 * s as f64,
            "codes not sparse: {nonzero} non-zeros per example"
        );
        assert!(rel < 0.1, "relative residual {rel}");
    }
}

#[test]
fn sparse_coding_runs_in_f32() {
    let mut rng = Gen(3);
    let truth = unit_rows(rng.normals(8 * 6), 8, 6);
    let x: Tensor<f32> = synthetic(&truth, 100, 2, 0.0, &mut rng).cast();
    let mut sc = SparseCoding::<f32>::new(6, SparseCodingConfig::new(8, 0.05));
    let history = sc.fit(&x, 5);
    assert!(history[4] < history[0], "{history:?}");
}
