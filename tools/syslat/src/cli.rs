//! syslat's command line.

use clap::Parser;
use ebpftop_cli::{FilterArgs, IntervalArgs, SummaryOutputArgs, syscalls::parse_syscall_list};

const EXAMPLES: &str = "\
Examples:
  syslat                        latency of every syscall, system-wide, until Ctrl-C
  syslat -s nanosleep -p 181    nanosleep in process 181 only
  syslat -s read,write -i 1     every second, reset after each
  syslat -P -c nginx            per process and syscall, processes named nginx
  syslat -m                     histograms in milliseconds

Each syscall is timed from raw_syscalls:sys_enter to sys_exit on its thread
and counted in the kernel into a histogram with 32 linear buckets per power
of two: printed folded into bcc's log2 rows, and read for p50/p90/p99
(within 2% of the true values).

JSON fields (--json), one object per syscall (per process and syscall
with -P) per interval: event (\"syslat\"), ts_ns, interval, syscall, nr,
pid and comm (with -P), total_ns, hist {unit, buckets: [{low, high,
count}]} (log2 rows), latency {count, min, mean, p50, p90, p99, max} (in
the unit). After each interval an object with event \"interval\", lost
(calls that could not be timed: too many threads in syscalls at once, or no
room for a new histogram) and lost_total.";

/// Syscall numbers from `-s`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Syscalls(pub Vec<u32>);

/// Syscall latency distributions, kept in the kernel.
#[derive(Parser, Debug, Clone)]
#[command(name = "syslat", version, after_long_help = EXAMPLES)]
pub struct Args {
    /// Time only these syscalls (names as syscount -l lists them).
    #[arg(short = 's', long = "syscalls", value_name = "NAME[,NAME]",
          value_parser = |s: &str| parse_syscall_list(s).map(Syscalls))]
    pub syscalls: Option<Syscalls>,
    /// A histogram per process and syscall instead of per syscall.
    #[arg(short = 'P', long = "process")]
    pub process: bool,
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
    use ebpftop_output::syscalls::syscall_number;

    use super::*;

    #[test]
    fn flags() {
        Args::command().debug_assert();
        let a = Args::try_parse_from(["syslat", "-s", "nanosleep,getppid", "-P", "-m"]).unwrap();
        let want = ["nanosleep", "getppid"].map(|n| syscall_number(n).unwrap());
        assert_eq!(a.syscalls, Some(Syscalls(want.to_vec())));
        assert!(a.process && a.milliseconds);
        let e = Args::try_parse_from(["syslat", "-s", "nosuch"]).unwrap_err();
        assert!(e.to_string().contains("unknown syscall \"nosuch\""), "{e}");
    }
}
