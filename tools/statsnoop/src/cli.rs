//! statsnoop's command line: the shared grammar plus `-x` and `-e`.

use clap::Parser;
use ebpftop_cli::{FilterArgs, OutputArgs, RunArgs};

const EXAMPLES: &str = "\
Examples:
  statsnoop                 trace every stat and access call, system-wide
  statsnoop -p 181          only process 181
  statsnoop -x              only failed calls
  statsnoop -e -c make      processes named make, with syscall, flags, mode
  statsnoop --json | jq 'select(.error == \"ENOENT\") | .path'

Traced where the kernel has them: stat, lstat (newstat, newlstat),
newfstatat (also what glibc's stat, lstat and fstat call), statx, access,
faccessat, faccessat2.

JSON fields (--json), one object per line: event (\"stat\" or \"lost\"),
ts_ns, pid, tid, comm, uid, cgroup_id, then syscall, ret (0 or -errno),
errno and error (null on success), dfd (-100 is AT_FDCWD; null for calls
without one), flags and flags_str (AT_* flags; null for calls without
them), mode and mode_str (R_OK|W_OK|X_OK or F_OK; access family only),
mask and mask_str (STATX_*; statx only), path (as the process passed it;
null if unreadable) and path_truncated (true only for a path longer than
PATH_MAX, which the kernel refuses anyway).";

/// Trace the stat(2) and access(2) families: who looked up which path, and whether it exists.
#[derive(Parser, Debug)]
#[command(name = "statsnoop", version, after_long_help = EXAMPLES)]
pub struct Args {
    /// Show failed calls only.
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
