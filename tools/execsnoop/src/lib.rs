//! execsnoop: the command line and the pure decoding are a library, so
//! `cargo xtask docs` can generate the man page and unit tests reach them.
pub mod argv;
pub mod cli;
pub mod pairing;
