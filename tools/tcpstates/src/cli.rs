//! tcpstates's command line: the shared grammar plus bcc's -L, -D and -4/-6.

use clap::Parser;
use ebpftop_cli::{FilterArgs, OutputArgs, RunArgs};
use ebpftop_tcp::{FamilyArgs, Ports, parse_ports};

const EXAMPLES: &str = "\
Examples:
  tcpstates                  every TCP state change
  tcpstates -p 181           only sockets of process 181
  tcpstates -D 80            only sockets with remote port 80
  tcpstates --json | jq 'select(.newstate == \"CLOSE\")'

A change is reported under the socket's owner: the process that called
connect(), listen() or accept() on it, or where none is known (a socket
older than tcpstates), the task running at the change, as in bcc.

JSON fields (--json), one object per line: event (\"tcpstate\" or
\"lost\"), ts_ns, pid, tid, comm, uid, cgroup_id, then skaddr (the socket,
hex), ip (4 or 6), saddr, sport (local), daddr, dport (remote), oldstate,
newstate, in_oldstate_ns (the time since this socket's previous change;
null for the first one seen).";

/// Trace TCP state changes, with the time spent in the previous state.
#[derive(Parser, Debug)]
#[command(name = "tcpstates", version, after_long_help = EXAMPLES)]
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
