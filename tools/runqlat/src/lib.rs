//! runqlat: the command line, the kernel half's hooks and globals, and the
//! reading of its histograms are a library, so `cargo xtask docs` can
//! generate the man page and the dashboard reuses the kernel half
//! ([`object::kernel_half`], [`object::RunqlatMaps`],
//! [`object::scheduler_snapshot`]).
pub mod cli;
pub mod object;
pub mod preemptors;
