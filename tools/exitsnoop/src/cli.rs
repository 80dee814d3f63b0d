//! exitsnoop's command line: the shared grammar (with `--tid` long only,
//! since `-t` is `--threads` here) plus `-x` and `-t`.

use clap::Parser;
use ebpftop_cli::{OutputArgs, ProcessFilterArgs, RunArgs};

const EXAMPLES: &str = "\
Examples:
  exitsnoop                 trace every process exit, system-wide
  exitsnoop -x              only exits with a non-zero code or a signal
  exitsnoop -t              every thread's exit, not only processes'
  exitsnoop -p 181          only process 181 (and with -t its threads)
  exitsnoop -c nginx -T     processes named nginx, with a timestamp
  exitsnoop --json | jq 'select(.signal == \"SIGSEGV\")'

A process is reported once, when its last thread exits (the exit its
parent's wait() sees); its age counts from when it was forked.

JSON fields (--json), one object per line: event (\"exit\" or \"lost\"),
ts_ns, pid, tid (the exiting thread), comm, uid, cgroup_id, then ppid,
status (the raw wait(2) status), exit_code (0-255; null when a signal
ended it), signal (its name, e.g. SIGKILL; null after a normal exit),
core_dumped, age_ns (since the process, or with -t the thread, started;
null if unknown), process_ended (false for a thread that was not the last).";

/// Trace process exits: who exited, with what code or signal, after how long.
#[derive(Parser, Debug)]
#[command(name = "exitsnoop", version, after_long_help = EXAMPLES)]
pub struct Args {
    /// Show only failed exits: a non-zero exit code or a terminating signal.
    #[arg(short = 'x', long = "failed")]
    pub failed: bool,
    /// Report every thread's exit, not only each process's.
    #[arg(short = 't', long = "threads")]
    pub threads: bool,
    #[command(flatten)]
    pub filter: ProcessFilterArgs,
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
        let a = Args::try_parse_from(["exitsnoop", "-t", "-x", "--tid", "7", "-T"]).unwrap();
        assert!(a.threads && a.failed && a.output.timestamp);
        assert_eq!(a.filter.spec(a.failed).tid, Some(7));
    }
}
