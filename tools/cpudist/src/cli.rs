//! cpudist's command line.

use clap::Parser;
use ebpftop_cli::{FilterArgs, IntervalArgs, SummaryOutputArgs};

const EXAMPLES: &str = "\
Examples:
  cpudist                 on-CPU time per slice, system-wide, until Ctrl-C
  cpudist -O              off-CPU time instead (switched out to switched back in)
  cpudist -P -p 181       process 181 only, one histogram for it
  cpudist -L -i 1         a histogram per thread, every second
  cpudist -m --count 5 -i 1   in milliseconds, five one-second intervals

A slice is the time from a thread being switched onto a CPU to it being
switched off (on-CPU), or from being switched off to being switched back
on (off-CPU: sleeping, blocked or waiting on a run queue). Both come from
the scheduler's sched_switch tracepoint (tp_btf, then raw, then the
classic tracepoint; -v says which) and are counted in the kernel into
histograms with 32 linear buckets per power of two: printed folded into
bcc's log2 rows, and read for p50/p90/p99 (within 2%). The idle task is
not counted.

JSON fields (--json), one object per histogram per interval: event
(\"cpudist\"), ts_ns, interval, mode (\"on-cpu\" or \"off-cpu\"), pid and
comm (with -P; with -L also tid), total_ns, hist {unit, buckets: [{low,
high, count}]} (log2 rows), latency {count, min, mean, p50, p90, p99, max}
(in the unit). After each interval an object with event \"interval\",
lost and lost_total.";

/// On-CPU (or off-CPU) time per scheduler slice, as histograms kept in
/// the kernel.
#[derive(Parser, Debug, Clone)]
#[command(name = "cpudist", version, after_long_help = EXAMPLES)]
pub struct Args {
    /// Time spent off the CPU instead of on it.
    #[arg(short = 'O', long = "offcpu")]
    pub offcpu: bool,
    /// A histogram per process.
    #[arg(short = 'P', long = "pids", conflicts_with = "tids")]
    pub pids: bool,
    /// A histogram per thread.
    #[arg(short = 'L', long = "tids")]
    pub tids: bool,
    /// Histograms in milliseconds instead of microseconds.
    #[arg(short = 'm', long = "milliseconds")]
    pub milliseconds: bool,
    #[command(flatten)]
    pub filter: FilterArgs,
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
        let a = Args::try_parse_from(["cpudist", "-O", "-P", "-p", "7", "-m"]).unwrap();
        assert!(a.offcpu && a.pids && a.milliseconds && !a.tids);
        assert_eq!(a.filter.pid, Some(7));
        assert!(Args::try_parse_from(["cpudist", "-P", "-L"]).is_err());
    }
}
