//! Dense linear algebra beyond GEMM: the QR decomposition (orthogonal initialisation) and the
//! symmetric eigensolver (PCA and ZCA whitening).

mod eigen;
mod qr;

pub use eigen::{SymmetricEigen, symmetric_eigen};
pub use qr::qr;
