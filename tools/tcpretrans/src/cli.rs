//! tcpretrans's command line: the shared grammar plus -4/-6, -L/-D and
//! count mode (`-c`, as in bcc; the comm filter is `--comm` here).

use clap::Parser;
use ebpftop_cli::{CountingFilterArgs, OutputArgs, RunArgs};
use ebpftop_tcp::{FamilyArgs, Ports, parse_ports};

const EXAMPLES: &str = "\
Examples:
  tcpretrans                 every TCP retransmit
  tcpretrans -c              retransmits per connection, printed at exit
  tcpretrans -p 181 -D 443   process 181's connections to port 443
  tcpretrans --json | jq .daddr

Retransmits run from kernel timers: each is reported under the process
that called connect() or accept() on the socket when tcpretrans saw it,
else under pid 0 or whatever task was interrupted (and not at all with
-p, -t, -u, --comm or --cgroup).

JSON fields (--json), one object per line: event (\"retransmit\", or
\"retransmit_count\" with -c, or \"lost\"), ts_ns, pid, tid, comm,
uid, cgroup_id, then ip (4 or 6), saddr, sport (local), daddr, dport
(remote), state (the socket's TCP state). retransmit_count records have
the endpoints and retransmits; their pid and comm are of the last
retransmit's owner.";

/// Trace TCP retransmits: which connection, in which state, whose.
#[derive(Parser, Debug)]
#[command(name = "tcpretrans", version, after_long_help = EXAMPLES)]
pub struct Args {
    /// Count retransmits per connection; print the counts at exit instead.
    #[arg(short = 'c', long = "count")]
    pub count: bool,
    /// Only connections with these local ports (comma-separated, at most 8).
    #[arg(short = 'L', long = "localport", value_name = "PORT[,PORT]", value_parser = parse_ports)]
    pub lports: Option<Ports>,
    /// Only connections with these remote ports (comma-separated, at most 8).
    #[arg(short = 'D', long = "remoteport", value_name = "PORT[,PORT]", value_parser = parse_ports)]
    pub dports: Option<Ports>,
    #[command(flatten)]
    pub family: FamilyArgs,
    #[command(flatten)]
    pub filter: CountingFilterArgs,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub run: RunArgs,
}
