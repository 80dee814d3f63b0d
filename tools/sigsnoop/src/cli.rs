//! sigsnoop's command line: the shared grammar (filters select the
//! sender) plus `-x`, `-k` and `-s`.

use clap::Parser;
use ebpftop_cli::{FilterArgs, OutputArgs, RunArgs};
use ebpftop_output::signal::parse_signal;

const EXAMPLES: &str = "\
Examples:
  sigsnoop                  trace every signal sent, system-wide
  sigsnoop -s KILL,TERM     only SIGKILL and SIGTERM
  sigsnoop -s 10 -s RTMIN+1 only SIGUSR1 and glibc's SIGRTMIN+1
  sigsnoop -x               only signals not delivered (ignored, already
                            pending, queue overflow, delivered without info)
  sigsnoop -k -x            only kill(2) calls that failed (ESRCH, EPERM...)
  sigsnoop -p 181           only signals process 181 sends
  sigsnoop --json | jq 'select(.signal == \"SIGSEGV\")'

The sender is the task that was running when the signal was generated:
the caller of kill(2), tgkill(2), sigqueue(3)..., or for a signal the
kernel raises (SIGSEGV, SIGCHLD, SIGPIPE) the task it happened in.
Filters (-p, -t, -u, -c, --cgroup) select the sender. Without -k, kills
that found no target are not seen (no signal was generated): use -k.

JSON fields (--json), one object per line: event (\"signal\" or \"lost\"),
ts_ns, pid, tid, comm, uid, cgroup_id (the sender), then source
(\"generate\" or \"kill\"), sig (number), signal (name), target_pid (the
target thread; with -k kill's pid argument, where 0, -1 and -PGID name
groups), target_comm (null with -k), result (delivered, ignored,
already_pending, overflow, lose_info; with -k ok or the errno name), errno
and error (-k: the failure, else null), group (whether sent to the whole
process; null with -k), si_code and si_errno (the siginfo's; null with -k).";

/// Trace signals sent: who sent which signal to whom, and what became of it.
#[derive(Parser, Debug)]
#[command(name = "sigsnoop", version, after_long_help = EXAMPLES)]
pub struct Args {
    /// Show only signals that failed: not delivered, or with -k a kill(2)
    /// that returned an error.
    #[arg(short = 'x', long = "failed")]
    pub failed: bool,
    /// Trace kill(2) calls only, with their result (sees kills that fail).
    #[arg(short = 'k', long = "kill")]
    pub kill: bool,
    /// Trace only this signal: a number or a name (KILL, SIGUSR1,
    /// RTMIN+2); repeat or give a comma list for several.
    #[arg(
        short = 's',
        long = "signal",
        value_name = "SIGNAL",
        value_delimiter = ',',
        value_parser = parse_signal
    )]
    pub signals: Vec<u32>,
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
    fn signal_lists() {
        Args::command().debug_assert();
        let a = Args::try_parse_from(["sigsnoop", "-s", "KILL,usr1", "-s", "15"]).unwrap();
        assert_eq!(a.signals, [9, 10, 15]);
        let e = Args::try_parse_from(["sigsnoop", "-s", "SIGFOO"]).unwrap_err();
        assert!(e.to_string().contains("is not a signal"), "{e}");
    }
}
