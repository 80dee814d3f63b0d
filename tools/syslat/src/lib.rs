//! syslat: the command line, the kernel half's hooks and the histogram
//! arithmetic are a library, so `cargo xtask docs` can generate the man
//! page, the logic is tested and the dashboard reuses the kernel half.
pub mod cli;
pub mod latency;
pub mod object;
