//! tcpconnect's command line: the shared grammar plus bcc's -P, -4/-6 and
//! count mode (`-c`, as in bcc; the comm filter is `--comm` here).

use clap::Parser;
use ebpftop_cli::{CountingFilterArgs, OutputArgs, RunArgs};
use ebpftop_tcp::{FamilyArgs, Ports, parse_ports};

const EXAMPLES: &str = "\
Examples:
  tcpconnect                 trace every active TCP connect
  tcpconnect -p 181          only process 181
  tcpconnect -P 80,443       only connects to port 80 or 443
  tcpconnect -6 -U           IPv6 only, with the uid
  tcpconnect -c              count connects per destination, printed at exit
  tcpconnect --json | jq 'select(.result != \"connected\")'

A connect is reported when its handshake ends: connected, refused, timed
out, unreachable (or another errno), or aborted (closed before the end).

JSON fields (--json), one object per line: event (\"connect\", or
\"connect_count\" with -c, or \"lost\"), ts_ns, pid, tid, comm, uid,
cgroup_id, then ip (4 or 6), saddr, sport, daddr, dport, result, errno (0
unless failed), error (its name), latency_ns (connect() to the handshake's
end). connect_count records have ip, saddr, daddr, dport, connects and
failed; their pid and comm are of the last process that connected there.";

/// Trace active TCP connects: who connected where, and how it ended.
#[derive(Parser, Debug)]
#[command(name = "tcpconnect", version, after_long_help = EXAMPLES)]
pub struct Args {
    /// Only connects to these destination ports (comma-separated, at most 8).
    #[arg(short = 'P', long = "port", value_name = "PORT[,PORT]", value_parser = parse_ports)]
    pub ports: Option<Ports>,
    /// Count connects per source address, destination and port; print the
    /// counts at exit instead of each connect.
    #[arg(short = 'c', long = "count")]
    pub count: bool,
    #[command(flatten)]
    pub family: FamilyArgs,
    #[command(flatten)]
    pub filter: CountingFilterArgs,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub run: RunArgs,
}
