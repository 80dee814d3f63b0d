//! syscount: the command line and the ordering of rows are a library, so
//! `cargo xtask docs` can generate the man page and the logic is tested.
pub mod cli;
pub mod rows;
