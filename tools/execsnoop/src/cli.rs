//! execsnoop's command line: the shared grammar plus argv limits, quoting
//! and the user-space name and line filters.

use clap::Parser;
use ebpftop_cli::{FilterArgs, OutputArgs, RunArgs};
use ebpftop_common::execsnoop::{ARGS_BYTES_MAX, ARGS_COUNT_MAX};

const EXAMPLES: &str = "\
Examples:
  execsnoop                 trace every exec, system-wide
  execsnoop -x              only failed execs
  execsnoop -p 181          only execs by process 181
  execsnoop -n '^(ba)?sh$'  only execs whose command name matches
  execsnoop -l -- '--force' only execs whose argument line matches
  execsnoop -q --max-args 100
  execsnoop --json | jq -c '{pid, ppid, argv}'

-p, -t, -u, -c and --cgroup select the process calling exec, in the
kernel; -n and -l are regular expressions applied in user space, to the
command name after the exec and to the arguments joined by spaces.

JSON fields (--json), one object per line: event (\"exec\" or \"lost\"),
ts_ns (when the exec was called), pid, tid, comm (the command name after
the exec, or the caller's when it failed), uid, cgroup_id, then syscall
(execve, execveat), ppid, ret (0 or -errno; null when the result never
arrived), errno and error (null on success), filename (as passed; null if
unreadable), argv (array of strings, exact bytes, invalid UTF-8 as \\xNN),
args_truncated (true when --max-args, --max-bytes or unreadable memory
stopped the copy of argv).";

/// Trace execve(2) and execveat(2): who ran what, with which arguments, and whether it worked.
#[derive(Parser, Debug)]
#[command(name = "execsnoop", version, after_long_help = EXAMPLES)]
pub struct Args {
    /// Show failed execs only.
    #[arg(short = 'x', long = "failed")]
    pub failed: bool,
    /// Put "quotemarks" around each argument (table output).
    #[arg(short = 'q', long = "quote")]
    pub quote: bool,
    /// Only show execs whose command name matches this regular expression.
    #[arg(short = 'n', long = "name", value_name = "REGEX")]
    pub name: Option<String>,
    /// Only show execs whose arguments, joined by spaces, match this
    /// regular expression.
    #[arg(short = 'l', long = "line", value_name = "REGEX")]
    pub line: Option<String>,
    /// Copy at most this many arguments; "..." marks the rest.
    #[arg(long = "max-args", value_name = "N", default_value_t = 20,
          value_parser = clap::value_parser!(u32).range(1..=ARGS_COUNT_MAX as i64))]
    pub max_args: u32,
    /// Copy at most this many bytes of arguments (NULs counted); "..."
    /// marks the rest.
    #[arg(long = "max-bytes", value_name = "BYTES", default_value_t = ARGS_BYTES_MAX as u32,
          value_parser = clap::value_parser!(u32).range(1..=ARGS_BYTES_MAX as i64))]
    pub max_bytes: u32,
    #[command(flatten)]
    pub filter: FilterArgs,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub run: RunArgs,
}
