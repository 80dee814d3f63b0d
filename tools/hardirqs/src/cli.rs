//! hardirqs' command line.

use clap::Parser;
use ebpftop_cli::{IntervalArgs, SummaryOutputArgs};
use ebpftop_irqtime::IrqTimeArgs;

const EXAMPLES: &str = "\
Examples:
  hardirqs                time in each IRQ handler until Ctrl-C
  hardirqs -C             how many times each handler ran
  hardirqs --dist -i 1    a histogram of handler times per IRQ, every second
  hardirqs -N -T -i 5     nanoseconds, timestamped, every 5 seconds

Each handler run is timed from irq:irq_handler_entry to irq_handler_exit
and summed per CPU in the kernel by IRQ number and handler name (a shared
IRQ has a handler per device). Raw tracepoints are used where the kernel's
BTF gives irqaction's layout: a classic tracepoint program (the fallback)
is skipped by the kernel when the IRQ interrupts another kprobe or
tracepoint program, so it can miss IRQs while other tracers run; -v says
which is used. The local timer, IPIs and other interrupts
the kernel handles without an IRQ handler (LOC, RES, CAL in
/proc/interrupts) do not pass these tracepoints.

bcc's -d (distribution) is --dist here, since -d is --duration in every
ebpftop tool; bcc's -C/--count is -C/--counts, since --count is the number
of intervals.

JSON fields (--json), one object per IRQ handler per interval: event
(\"hardirqs\"), ts_ns, interval, irq, name, count, total_ns, and with
--dist hist {unit, buckets: [{low, high, count}]}. After each interval an
object with event \"interval\", lost and lost_total.";

/// Time spent in hard IRQ handlers, summed per CPU in the kernel.
#[derive(Parser, Debug, Clone)]
#[command(name = "hardirqs", version, after_long_help = EXAMPLES)]
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
        let a = Args::try_parse_from(["hardirqs", "-C", "-N", "-i", "1", "--count", "2"]).unwrap();
        assert!(a.report.counts && a.report.nanoseconds && !a.report.dist);
        assert_eq!(a.run.count, Some(2));
        assert!(Args::try_parse_from(["hardirqs", "--dist", "-d", "1"]).is_ok());
        assert!(Args::try_parse_from(["hardirqs", "--dist", "-C"]).is_err());
    }
}
