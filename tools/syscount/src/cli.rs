//! syscount's command line: bcc's flags on the shared grammar.

use clap::Parser;
use ebpftop_cli::{FilterArgs, IntervalArgs, SummaryOutputArgs};

const EXAMPLES: &str = "\
Examples:
  syscount                  count syscalls system-wide until Ctrl-C, top 10
  syscount -p 181           only process 181
  syscount -i 1 --count 5   print and reset every second, five times
  syscount -L               with total and average time per syscall
  syscount -P               per process instead of per syscall
  syscount -x               failed syscalls only
  syscount -e ENOENT        only those that failed with ENOENT
  syscount -c nginx --top 20 -L -m

bcc's -T (top N) is --top here: -T is the timestamp flag of every ebpftop
tool (with -i, each interval is headed by [HH:MM:SS]).

Counting happens in the kernel: nothing is sent to user space per call,
which reads the counts once per interval (or once, at the end).

JSON fields (--json), one object per row per interval: event
(\"syscount\"), ts_ns, interval (1, 2, ...), then syscall and nr (or pid
and comm with -P), count, and with -L timed (calls whose entry was seen),
total_ns and avg_ns. After each interval's rows an object with event
\"interval\", ts_ns, interval, lost (calls that could not be counted or
timed in it) and lost_total; \"lost\" objects say why.";

/// Count syscalls, per syscall or per process, in the kernel.
#[derive(Parser, Debug, Clone)]
#[command(name = "syscount", version, after_long_help = EXAMPLES)]
pub struct Args {
    /// Also measure time spent in each syscall: total and average.
    #[arg(short = 'L', long = "latency")]
    pub latency: bool,
    /// Count per process instead of per syscall.
    #[arg(short = 'P', long = "process")]
    pub process: bool,
    /// Count failed syscalls only.
    #[arg(short = 'x', long = "failures")]
    pub failures: bool,
    /// Count only syscalls that failed with this errno (ENOENT or 2).
    #[arg(short = 'e', long = "errno", value_name = "ERRNO", value_parser = parse_errno)]
    pub errno: Option<u32>,
    /// Print only the top N syscalls (or processes) by count, or by time with -L.
    #[arg(long = "top", value_name = "N", default_value_t = 10,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub top: u32,
    /// Show times in milliseconds instead of microseconds.
    #[arg(short = 'm', long = "milliseconds")]
    pub milliseconds: bool,
    /// List the syscalls this machine's table names, and exit.
    #[arg(short = 'l', long = "list")]
    pub list: bool,
    #[command(flatten)]
    pub filter: FilterArgs,
    #[command(flatten)]
    pub output: SummaryOutputArgs,
    #[command(flatten)]
    pub run: IntervalArgs,
}

fn parse_errno(s: &str) -> Result<u32, String> {
    ebpftop_output::errno::parse_errno(s)
        .map(|n| n as u32)
        .ok_or_else(|| format!("{s:?} is not an errno name (ENOENT) or number"))
}
