//! runqlat's command line: bcc's flags, the shared interval and output
//! groups, and `--preemptors`.

use std::time::Duration;

use clap::Parser;
use ebpftop_cli::{IntervalArgs, SummaryOutputArgs, args::parse_seconds};
use ebpftop_runtime::FilterSpec;

const EXAMPLES: &str = "\
Examples:
  runqlat                    run-queue latency, system-wide, until Ctrl-C
  runqlat 1 10               every second, ten times (as -i 1 --count 10)
  runqlat -m 5               every 5 seconds, in milliseconds
  runqlat -P                 a histogram per process
  runqlat -C                 a histogram per cgroup (v2), named by its path
  runqlat --pidnss           a histogram per pid namespace
  runqlat -p 185             process 185 only
  runqlat --cgroup system.slice/nginx.service
  runqlat --preemptors -i 5  per cgroup: time spent waiting, and whose tasks
                             held the CPU meanwhile (-P: per process)

A task's run-queue latency is the time from when it became runnable (woken
by sched_wakeup or sched_wakeup_new, or preempted while still runnable, seen
at sched_switch) to the sched_switch that puts it on a CPU. Each wait is
counted in the kernel into a histogram with 32 linear buckets per power of
two: printed folded into bcc's log2 rows, with p50/p99/max read from it
(within 2%).

--preemptors: each CPU keeps its last 64 run slices (who ran, from when to
when); when a waiting task gets the CPU, each slice's overlap with its wait
is time stolen by that slice's cgroup (or process). A wait longer than the
slices cover is partly unattributed.

JSON fields (--json), one object per histogram per interval: event
(\"runqlat\"), ts_ns, interval, then pid and comm (-P), tid and comm (-L),
cgroup_id and cgroup (its path, or null) (-C), pidns (--pidnss), then
total_ns, hist {unit, buckets: [{low, high, count}]} (log2 rows), latency
{count, min, mean, p50, p90, p99, max} (in the unit). With --preemptors,
one object per victim group: event \"preemptors\", ts_ns, interval, by
(\"cgroup\" or \"pid\"), id, name, wait_ns, count, unattributed_ns,
preemptors [{id, name, stolen_ns, share}] (share of the victim's wait, 0-1).
After each interval an object with event \"interval\", lost and lost_total
(waits that could not be timed: too many tasks queued at once, or no room
for a new key).";

/// Summarize run-queue (scheduler) latency as histograms.
#[derive(Parser, Debug, Clone)]
#[command(name = "runqlat", version, after_long_help = EXAMPLES)]
pub struct Args {
    /// Histograms in milliseconds instead of microseconds.
    #[arg(short = 'm', long = "milliseconds")]
    pub milliseconds: bool,
    /// A histogram per process.
    #[arg(short = 'P', long = "pids", group = "per")]
    pub pids: bool,
    /// A histogram per thread.
    #[arg(short = 'L', long = "tids", group = "per")]
    pub tids: bool,
    /// A histogram per cgroup (v2).
    #[arg(short = 'C', long = "cgroups", group = "per")]
    pub cgroups: bool,
    /// A histogram per pid namespace.
    #[arg(long = "pidnss", group = "per")]
    pub pidnss: bool,
    /// Instead of histograms: for each cgroup (each process with -P), its
    /// total wait and which cgroups (processes) held the CPU meanwhile.
    #[arg(long = "preemptors", conflicts_with_all = ["tids", "cgroups", "pidnss"])]
    pub preemptors: bool,
    /// With --preemptors: how many preemptors to list per victim.
    #[arg(
        long = "top",
        value_name = "N",
        default_value_t = 5,
        requires = "preemptors"
    )]
    pub top: usize,
    /// Trace this process only.
    #[arg(short = 'p', long = "pid", value_name = "PID")]
    pub pid: Option<u32>,
    /// Trace this cgroup v2 only: a directory, a path relative to the
    /// cgroup v2 mount, or a cgroup id.
    #[arg(long = "cgroup", value_name = "PATH|ID")]
    pub cgroup: Option<String>,
    /// Print every INTERVAL seconds (as -i).
    #[arg(value_name = "INTERVAL", value_parser = parse_seconds, conflicts_with = "interval")]
    pub interval_pos: Option<Duration>,
    /// Stop after COUNT intervals (as --count).
    #[arg(value_name = "COUNT", requires = "interval_pos", conflicts_with = "count",
          value_parser = clap::value_parser!(u64).range(1..))]
    pub count_pos: Option<u64>,
    #[command(flatten)]
    pub output: SummaryOutputArgs,
    #[command(flatten)]
    pub run: IntervalArgs,
}

impl Args {
    /// The interval arguments, with bcc's positional `interval [count]`
    /// folded in.
    pub fn intervals(&self) -> IntervalArgs {
        let mut run = self.run.clone();
        if self.interval_pos.is_some() {
            run.interval = self.interval_pos;
            run.count = self.count_pos;
        }
        run
    }

    pub fn filter(&self) -> FilterSpec {
        FilterSpec {
            pid: self.pid,
            cgroup: self.cgroup.clone(),
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
        let a = Args::try_parse_from(["runqlat", "-P", "-m", "1", "3"]).unwrap();
        assert!(a.pids && a.milliseconds);
        let r = a.intervals();
        assert_eq!(r.interval, Some(Duration::from_secs(1)));
        assert_eq!(r.count, Some(3));
        let a = Args::try_parse_from(["runqlat", "-i", "0.5", "--count", "2", "-C"]).unwrap();
        assert_eq!(a.intervals().interval, Some(Duration::from_millis(500)));
        assert!(Args::try_parse_from(["runqlat", "-P", "-C"]).is_err());
        assert!(Args::try_parse_from(["runqlat", "1", "-i", "1"]).is_err());
        let a = Args::try_parse_from(["runqlat", "--preemptors", "-P", "--top", "3"]).unwrap();
        assert!(a.preemptors && a.pids && a.top == 3);
        assert!(Args::try_parse_from(["runqlat", "--preemptors", "-C"]).is_err());
        assert!(Args::try_parse_from(["runqlat", "--top", "3"]).is_err());
    }
}
