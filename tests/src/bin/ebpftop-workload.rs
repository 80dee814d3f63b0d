//! Workloads for integration tests and benchmarks.
fn main() {}
