//! execsnoop: the command line, the kernel half's hooks and the decoding
//! are a library, so `cargo xtask docs` can generate the man page, unit
//! tests reach them and the dashboard reuses the kernel half.
pub mod argv;
pub mod cli;
pub mod pairing;
pub mod record;
