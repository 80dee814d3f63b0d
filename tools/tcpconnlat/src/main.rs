//! tcpconnlat, user half: tcpconnect's kernel half, told to report only
//! completed connects and only those above the threshold.

use std::process::ExitCode;

use ebpftop_cli::run_main;
use ebpftop_common::tcp::TcpEvent;
use ebpftop_runtime::{Clock, Hook, ToolObject, embedded_object};
use ebpftop_tcp::{
    EachEvent, Ports,
    connect::{COLUMNS_LATENCY, ConnectRecord},
    state_change_hook, trace_tcp,
};
use tcpconnlat::cli::Args;

static HOOKS: &[Hook] = &[state_change_hook!("tcpconnect_state")];

/// The same programs as tcpconnect: only their configuration differs.
static OBJECT: ToolObject = ToolObject {
    tool: "tcpconnlat",
    bytes: embedded_object!("tcpconnect"),
    hooks: HOOKS,
};

fn run(args: Args) -> anyhow::Result<()> {
    let mut config = ebpftop_tcp::config(args.family.family(), Ports::of(&args.ports), &[]);
    config.report_failed = 0;
    config.min_span_ns = (args.min_ms.unwrap_or(0.0) * 1e6) as u64;
    let handler = EachEvent(|e: &TcpEvent, clock: &Clock| ConnectRecord::new(e, clock, true));
    trace_tcp(
        &OBJECT,
        config,
        &args.filter,
        &args.output,
        COLUMNS_LATENCY,
        &args.run,
        handler,
    )
}

fn main() -> ExitCode {
    run_main("tcpconnlat", |a: &Args| a.run.verbose, run)
}
