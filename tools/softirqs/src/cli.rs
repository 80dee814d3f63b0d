//! softirqs' command line.

use clap::Parser;
use ebpftop_cli::{IntervalArgs, SummaryOutputArgs};
use ebpftop_irqtime::IrqTimeArgs;

const EXAMPLES: &str = "\
Examples:
  softirqs                time in each softirq vector until Ctrl-C
  softirqs -C             how many times each vector ran
  softirqs --dist -i 1    a histogram of handler times per vector, every second
  softirqs -N -T -i 5     nanoseconds, timestamped, every 5 seconds

Each softirq run is timed from irq:softirq_entry to softirq_exit (raw
tracepoints where the kernel has them, the classic ones otherwise) and
summed per CPU in the kernel by vector: hi, timer, net_tx, net_rx, block,
irq_poll, tasklet, sched, hrtimer, rcu (bcc's names).

bcc's -d (distribution) is --dist here, since -d is --duration in every
ebpftop tool; -C/--counts shows counts, since --count is the number of
intervals.

JSON fields (--json), one object per vector per interval: event
(\"softirqs\"), ts_ns, interval, vec, name, count, total_ns, and with
--dist hist {unit, buckets: [{low, high, count}]}. After each interval an
object with event \"interval\", lost and lost_total.";

/// Time spent in softirq handlers, summed per CPU in the kernel.
#[derive(Parser, Debug, Clone)]
#[command(name = "softirqs", version, after_long_help = EXAMPLES)]
pub struct Args {
    #[command(flatten)]
    pub report: IrqTimeArgs,
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
        let a = Args::try_parse_from(["softirqs", "--dist", "-N", "-T"]).unwrap();
        assert!(a.report.dist && a.report.nanoseconds && a.output.timestamp);
    }
}
