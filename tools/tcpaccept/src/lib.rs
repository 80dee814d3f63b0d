//! tcpaccept: the command line is a library so `cargo xtask docs` can
//! generate the man page and completions from it.
pub mod cli;
