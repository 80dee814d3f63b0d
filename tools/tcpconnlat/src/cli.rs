//! tcpconnlat's command line: the shared grammar plus -m, -P and -4/-6.

use clap::Parser;
use ebpftop_cli::{FilterArgs, OutputArgs, RunArgs};
use ebpftop_tcp::{FamilyArgs, Ports, parse_ports};

const EXAMPLES: &str = "\
Examples:
  tcpconnlat                 latency of every active TCP connect
  tcpconnlat -m 1            only connects slower than 1 ms
  tcpconnlat -p 181 -P 443   process 181's connects to port 443
  tcpconnlat --json | jq .latency_ns

Latency is from connect() sending the SYN to the connection being
established; connects that fail are not shown (tcpconnect shows them).

JSON fields (--json), one object per line: event (\"connect\" or \"lost\"),
ts_ns, pid, tid, comm, uid, cgroup_id, then ip (4 or 6), saddr, sport,
daddr, dport, result (\"connected\"), errno, error, latency_ns.";

/// Trace TCP connect latency: how long each handshake took, and whose.
#[derive(Parser, Debug)]
#[command(name = "tcpconnlat", version, after_long_help = EXAMPLES)]
pub struct Args {
    /// Only connects slower than this many milliseconds (fractions allowed).
    #[arg(short = 'm', long = "min", value_name = "MS", value_parser = parse_ms)]
    pub min_ms: Option<f64>,
    /// Only connects to these destination ports (comma-separated, at most 8).
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

/// Milliseconds as a finite, non-negative number.
pub fn parse_ms(s: &str) -> Result<f64, String> {
    let ms: f64 = s
        .parse()
        .map_err(|_| format!("{s:?} is not a number of milliseconds"))?;
    if !ms.is_finite() || !(0.0..=1e9).contains(&ms) {
        return Err(format!("{s:?} must be between 0 and 1e9 milliseconds"));
    }
    Ok(ms)
}
