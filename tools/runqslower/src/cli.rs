//! runqslower's command line: bcc's `min_us`, `-p`, `-t`, `-P`.

use clap::Parser;
use ebpftop_cli::{OutputArgs, RunArgs};
use ebpftop_runtime::FilterSpec;

const EXAMPLES: &str = "\
Examples:
  runqslower            run-queue waits of 10 ms or more, system-wide
  runqslower 1000       waits of 1 ms or more
  runqslower -p 185     process 185 only
  runqslower -t 188     thread 188 only
  runqslower -P         also show the task that left the CPU (prev)
  runqslower --json 500 | jq 'select(.prev_comm == \"stress\")'

A wait runs from when a task became runnable (sched_wakeup,
sched_wakeup_new, or preempted while still runnable) to the sched_switch
that gives it a CPU; the previous task is the one that switch took off.

JSON fields (--json), one object per line: event (\"runqslow\" or
\"lost\"), ts_ns, pid, tid, comm (the task that waited; pid 0 when only
classic tracepoints were usable and /proc no longer has it), uid (its real
user id; 4294967295 from classic tracepoints), cgroup_id (its cgroup v2 id;
0 from classic tracepoints), delta_us, cpu, prev_pid, prev_tid, prev_comm
(the task switched out for it; always, with or without -P).";

/// Trace high run-queue latency: each wait of at least MIN_US.
#[derive(Parser, Debug)]
#[command(name = "runqslower", version, after_long_help = EXAMPLES)]
pub struct Args {
    /// Report waits of at least this many microseconds.
    #[arg(value_name = "MIN_US", default_value_t = 10_000)]
    pub min_us: u64,
    /// Show the previous task on the CPU (comm and tid) in the table.
    #[arg(short = 'P', long = "previous")]
    pub previous: bool,
    /// Trace this process only.
    #[arg(short = 'p', long = "pid", value_name = "PID")]
    pub pid: Option<u32>,
    /// Trace this thread only.
    #[arg(short = 't', long = "tid", value_name = "TID")]
    pub tid: Option<u32>,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub run: RunArgs,
}

impl Args {
    pub fn filter(&self) -> FilterSpec {
        FilterSpec {
            pid: self.pid,
            tid: self.tid,
            ..FilterSpec::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn flags() {
        Args::command().debug_assert();
        let a = Args::try_parse_from(["runqslower"]).unwrap();
        assert_eq!(a.min_us, 10_000);
        let a = Args::try_parse_from(["runqslower", "-P", "-t", "5", "500"]).unwrap();
        assert!(a.previous);
        assert_eq!((a.min_us, a.filter().tid), (500, Some(5)));
    }
}
