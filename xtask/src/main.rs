//! Strata developer tasks.
fn main() {}
