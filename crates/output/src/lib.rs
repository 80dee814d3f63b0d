//! Output for every ebpftop tool: one record model, table and JSON-lines
//! sinks, terminal-safe text, errno names, log2 and HDR histograms.

pub mod disks;
pub mod errno;
pub mod flags;
pub mod histogram;
pub mod json_line;
pub mod loglinear;
pub mod record;
pub mod signal;
pub mod sink;
pub mod syscalls;
pub mod table;
pub mod text;

pub use record::{Common, Record};
pub use sink::{Output, OutputOptions};
pub use table::{Align, Column, Row};
pub use text::{Comm, KStr};
