//! The command line.

use std::{path::PathBuf, time::Duration};

use clap::Parser;
use ebpftop_cli::args::parse_seconds;

use crate::ui::View;

/// The live dashboard: what this machine is doing, and what is hurting it.
///
/// Processes with their syscalls, opens, execs, connects and run-queue
/// latency; syscalls system-wide with latency percentiles; files; TCP
/// connections; the scheduler; and every BPF program loaded, including
/// ebpftop's own. Keys: 1-6 or Tab switch views, ? shows the rest.
#[derive(Parser, Debug)]
#[command(name = "ebpftop", version)]
pub struct Args {
    /// Refresh every SECS seconds; rates are per second over it. With
    /// --replay, how often the next recorded interval is shown (rates stay
    /// per second of the recording).
    #[arg(short = 'i', long = "interval", value_name = "SECS", default_value = "1",
          value_parser = parse_seconds)]
    pub interval: Duration,
    /// Print a text snapshot of the view after one interval and exit
    /// (no terminal needed); with --replay, after the whole capture.
    #[arg(long)]
    pub once: bool,
    /// Write the event stream to FILE as JSON lines (the tools' --json
    /// records) while the dashboard runs.
    #[arg(long, value_name = "FILE", conflicts_with = "replay")]
    pub record: Option<PathBuf>,
    /// Show a capture made with --record instead of tracing (no root needed).
    #[arg(long, value_name = "FILE")]
    pub replay: Option<PathBuf>,
    /// The view to open with.
    #[arg(long, value_enum, default_value_t = View::Processes)]
    pub view: View,
    /// Stop after SECS seconds.
    #[arg(short = 'd', long = "duration", value_name = "SECS", value_parser = parse_seconds)]
    pub duration: Option<Duration>,
    /// Say which attach path each program took, and why a view is missing.
    #[arg(short = 'v', long)]
    pub verbose: bool,
}
