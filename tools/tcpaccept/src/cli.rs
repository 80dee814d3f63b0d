//! tcpaccept's command line: the shared grammar plus bcc's -P and -4/-6.

use clap::Parser;
use ebpftop_cli::{FilterArgs, OutputArgs, RunArgs};
use ebpftop_tcp::{FamilyArgs, Ports, parse_ports};

const EXAMPLES: &str = "\
Examples:
  tcpaccept                  every TCP connection accepted
  tcpaccept -p 181           only accepts by process 181
  tcpaccept -P 80,443        only on local port 80 or 443
  tcpaccept --json | jq .daddr

JSON fields (--json), one object per line: event (\"accept\" or \"lost\"),
ts_ns, pid, tid, comm, uid, cgroup_id (of the accepting task), then ip (4
or 6), saddr, sport (local), daddr, dport (remote).";

/// Trace TCP connections accepted: by which process, from where.
#[derive(Parser, Debug)]
#[command(name = "tcpaccept", version, after_long_help = EXAMPLES)]
pub struct Args {
    /// Only accepts on these local ports (comma-separated, at most 8).
    #[arg(short = 'P', long = "port", value_name = "PORT[,PORT]", value_parser = parse_ports)]
    pub ports: Option<Ports>,
    #[command(flatten)]
    pub family: FamilyArgs,
    #[command(flatten)]
    pub filter: FilterArgs,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub run: RunArgs,
}
