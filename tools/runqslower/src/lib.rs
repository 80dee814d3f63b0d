//! runqslower: the command line, the kernel half's hooks and the decoding
//! of its events are a library, so `cargo xtask docs` can generate the man
//! page and the dashboard can reuse the kernel half.
pub mod cli;
pub mod object;
