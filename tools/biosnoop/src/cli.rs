//! biosnoop's command line.

use clap::Parser;
use ebpftop_cli::{FilterArgs, OutputArgs, RunArgs};

const EXAMPLES: &str = "\
Examples:
  biosnoop                  every block request, system-wide
  biosnoop -Q               with the time each waited in the OS queue
  biosnoop --disk sda       requests to disk sda only
  biosnoop -p 181           requests submitted by process 181
  biosnoop --json | jq 'select(.latency_ns > 10000000)'

A request is reported when it completes. Its submitter (pid, comm) is the
task current at block:block_io_start (or, on kernels before 6.5,
block_rq_insert); requests submitted from interrupts or by the kernel's
writeback threads show those. LAT is from block_rq_issue to
block_rq_complete; QUE (-Q) from block_rq_insert to block_rq_issue, '-'
for requests issued without queueing. Requests are told apart by disk and
first sector.

-d is --duration, as in every ebpftop tool; bcc's -d DISK is --disk here.

JSON fields (--json), one object per line: event (\"bio\" or \"lost\"),
ts_ns (completion), pid, tid, comm, uid, cgroup_id (of the submitter; 0 and
\"\" when it was not seen, with issuer_known false), then disk, dev
(\"MAJ:MIN\"), op (R, W, F flush, D discard, DE secure erase, N other),
flags (e.g. \"Sync-Write\"), rwbs, sector, bytes, error (negative errno, 0
for success), queue_ns (null when not queued), latency_ns, issuer_known.";

/// Trace block I/O requests: who submitted them, where, how big, how long.
#[derive(Parser, Debug)]
#[command(name = "biosnoop", version, after_long_help = EXAMPLES)]
pub struct Args {
    /// Show the time each request spent in the OS queue (QUE column).
    #[arg(short = 'Q', long = "queue")]
    pub queue: bool,
    /// Trace this disk only (sda, nvme0n1, loop3; a whole disk, not a
    /// partition).
    #[arg(long = "disk", value_name = "DISK")]
    pub disk: Option<String>,
    #[command(flatten)]
    pub filter: FilterArgs,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub run: RunArgs,
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn flags_parse_without_conflicts() {
        Args::command().debug_assert();
        let a = Args::try_parse_from(["biosnoop", "-Q", "--disk", "loop0", "-p", "7", "-d", "1"])
            .unwrap();
        assert!(a.queue);
        assert_eq!(a.disk.as_deref(), Some("loop0"));
        assert_eq!(a.filter.spec(false).pid, Some(7));
    }
}
