//! opensnoop's command line: the shared grammar plus `-x` and `-e`.

use clap::Parser;
use ebpftop_cli::{FilterArgs, OutputArgs, RunArgs};

const EXAMPLES: &str = "\
Examples:
  opensnoop                 trace every open, system-wide
  opensnoop -p 181          only process 181
  opensnoop -x              only failed opens
  opensnoop -c nginx -e     only processes named nginx, with flags and mode
  opensnoop --cgroup system.slice/foo.service
  opensnoop --json | jq 'select(.errno == 2) | .path'

JSON fields (--json), one object per line: event (\"open\" or \"lost\"),
ts_ns, pid, tid, comm, uid, cgroup_id, then syscall (open, openat,
openat2), ret (fd or -errno), fd (null on failure), errno and error (null
on success), flags (number), flags_str (O_WRONLY|O_CREAT...), mode, dfd
(-100 is AT_FDCWD), path (as the process passed it; null if unreadable).";

/// Trace open(2), openat(2) and openat2(2): who opened what, and whether it worked.
#[derive(Parser, Debug)]
#[command(name = "opensnoop", version, after_long_help = EXAMPLES)]
pub struct Args {
    /// Show failed opens only.
    #[arg(short = 'x', long = "failed")]
    pub failed: bool,
    /// Show extended fields: syscall, decoded flags and mode.
    #[arg(short = 'e', long = "extended-fields")]
    pub extended: bool,
    #[command(flatten)]
    pub filter: FilterArgs,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub run: RunArgs,
}
