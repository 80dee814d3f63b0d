//! tcplife's command line: the shared grammar plus bcc's -L, -D and -4/-6.

use clap::Parser;
use ebpftop_cli::{FilterArgs, OutputArgs, RunArgs};
use ebpftop_tcp::{FamilyArgs, Ports, parse_ports};

const EXAMPLES: &str = "\
Examples:
  tcplife                    every TCP connection, when it closes
  tcplife -p 181             only connections of process 181
  tcplife -L 80 -D 5432      local port 80 or remote port 5432 (both must match)
  tcplife --json | jq 'select(.rx_bytes > 1000000)'

A connection is reported when it closes, under its owner: for one it
opened, the process that called connect(); for one it accepted, the
process that closed it with a FIN (close() or shutdown()), else the
process that called listen() on its listener, else (a listener older than
tcplife, and a connection reset by its peer) the task running at the
close, as bcc reports it. No syscall is traced, so tcplife costs the rest
of the system nothing. Connections opened before tcplife started are not
reported: their lifespan is unknown.

JSON fields (--json), one object per line: event (\"tcplife\" or
\"lost\"), ts_ns, pid, tid, comm, uid, cgroup_id, then ip (4 or 6), saddr,
sport (local), daddr, dport (remote), tx_bytes (bytes acknowledged by the
peer), rx_bytes (bytes received), duration_ns.";

/// Trace TCP connection lifespans: endpoints, duration, bytes each way.
#[derive(Parser, Debug)]
#[command(name = "tcplife", version, after_long_help = EXAMPLES)]
pub struct Args {
    /// Only connections with these local ports (comma-separated, at most 8).
    #[arg(short = 'L', long = "localport", value_name = "PORT[,PORT]", value_parser = parse_ports)]
    pub lports: Option<Ports>,
    /// Only connections with these remote ports (comma-separated, at most 8).
    #[arg(short = 'D', long = "remoteport", value_name = "PORT[,PORT]", value_parser = parse_ports)]
    pub dports: Option<Ports>,
    #[command(flatten)]
    pub family: FamilyArgs,
    #[command(flatten)]
    pub filter: FilterArgs,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub run: RunArgs,
}
