//! gethostlatency's command line: the shared grammar.

use clap::Parser;
use ebpftop_cli::{FilterArgs, OutputArgs, RunArgs};

const EXAMPLES: &str = "\
Examples:
  gethostlatency             every lookup through libc, system-wide
  gethostlatency -p 181      only process 181
  gethostlatency --json | jq 'select(.latency_ns > 100000000) | .host'

Lookups are seen in the system's libc (uprobes on getaddrinfo,
gethostbyname and gethostbyname2): statically linked programs and
resolvers that bypass libc are not.

JSON fields (--json), one object per line: event (\"lookup\" or \"lost\"),
ts_ns (the return), pid, tid, comm, uid, cgroup_id, then function, host
(null if unreadable), latency_ns.";

/// Trace host name lookups in libc, with how long each took.
#[derive(Parser, Debug)]
#[command(name = "gethostlatency", version, after_long_help = EXAMPLES)]
pub struct Args {
    #[command(flatten)]
    pub filter: FilterArgs,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub run: RunArgs,
}
