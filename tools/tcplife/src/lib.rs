//! tcplife: the command line and the decoding of kernel events are a
//! library, so `cargo xtask docs` can generate the man page and the
//! dashboard can reuse the kernel half.
pub mod cli;
pub mod record;
