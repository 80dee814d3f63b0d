//! biolatency's command line.

use clap::Parser;
use ebpftop_cli::{IntervalArgs, SummaryOutputArgs};

const EXAMPLES: &str = "\
Examples:
  biolatency                    block I/O latency of every disk, until Ctrl-C
  biolatency -i 1 --count 10    every second, ten times, reset after each
  biolatency -D                 a histogram per disk
  biolatency -F                 a histogram per operation and flags (Sync-Write, ...)
  biolatency -Q                 include the time requests wait in the OS queue
  biolatency --disk sda -m      disk sda only, in milliseconds

Each request is timed from block:block_rq_issue (with -Q, block_rq_insert)
to block_rq_complete and counted in the kernel into a histogram with 32
linear buckets per power of two: printed folded into bcc's log2 rows, and
read for p50/p90/p99 (within 2% of the true values). Requests are told
apart by disk and first sector.

-d is --duration, as in every ebpftop tool; bcc's -d DISK is --disk here.

JSON fields (--json), one object per histogram per interval: event
(\"biolatency\"), ts_ns, interval, disk (with -D: its name), flags and rwbs
(with -F: e.g. \"Sync-Write\" and \"WS\"), total_ns, hist {unit, buckets:
[{low, high, count}]} (log2 rows), latency {count, min, mean, p50, p90,
p99, max} (in the unit). After each interval an object with event
\"interval\", lost (requests that could not be counted: no room for a new
histogram) and lost_total.";

/// Block I/O latency distributions, kept in the kernel.
#[derive(Parser, Debug, Clone)]
#[command(name = "biolatency", version, after_long_help = EXAMPLES)]
pub struct Args {
    /// A histogram per disk.
    #[arg(short = 'D', long = "disks")]
    pub disks: bool,
    /// A histogram per operation and flags (Read, Sync-Write, Flush, ...).
    #[arg(short = 'F', long = "flags")]
    pub flags: bool,
    /// Include the time in the OS queue: from insertion, not issue.
    #[arg(short = 'Q', long = "queued")]
    pub queued: bool,
    /// Histograms in milliseconds instead of microseconds.
    #[arg(short = 'm', long = "milliseconds")]
    pub milliseconds: bool,
    /// Trace this disk only (sda, nvme0n1, loop3; a whole disk, not a
    /// partition).
    #[arg(long = "disk", value_name = "DISK")]
    pub disk: Option<String>,
    #[command(flatten)]
    pub output: SummaryOutputArgs,
    #[command(flatten)]
    pub run: IntervalArgs,
}

#[cfg(test)]
mod tests {
    use clap::{CommandFactory, Parser};

    use super::*;

    #[test]
    fn flags() {
        Args::command().debug_assert();
        let a = Args::try_parse_from(["biolatency", "-DFQm", "--disk", "sda", "-d", "2"]).unwrap();
        assert!(a.disks && a.flags && a.queued && a.milliseconds);
        assert_eq!(a.disk.as_deref(), Some("sda"));
        assert!(a.run.run.duration.is_some());
    }
}
