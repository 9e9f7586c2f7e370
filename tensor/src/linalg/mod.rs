//! Dense linear algebra beyond GEMM: the QR decomposition (orthogonal initialisation), the
//! symmetric eigensolver and square root (PCA and ZCA whitening, Fréchet distances), column
//! means and covariances.

mod covariance;
mod eigen;
mod qr;

pub use covariance::{column_means, covariance};
pub use eigen::{SymmetricEigen, symmetric_eigen, symmetric_sqrt};
pub use qr::qr;
