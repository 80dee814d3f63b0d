//! tcpaccept, user half: one record per accepted connection.

use std::process::ExitCode;

use ebpftop_cli::run_main;
use ebpftop_common::tcp::TcpEvent;
use ebpftop_output::Column;
use ebpftop_runtime::Clock;
use ebpftop_tcp::{EachEvent, Ports, trace_tcp};
use tcpaccept::{
    cli::Args,
    record::{AcceptRecord, OBJECT},
};

const COLUMNS: &[Column] = &[
    Column::left("PID", 7),
    Column::left("COMM", 16),
    Column::right("IP", 2),
    Column::left("RADDR", 16),
    Column::right("RPORT", 5),
    Column::left("LADDR", 16),
    Column::right("LPORT", 5),
];

fn run(args: Args) -> anyhow::Result<()> {
    let config = ebpftop_tcp::config(args.family.family(), &[], Ports::of(&args.ports));
    let handler = EachEvent(|e: &TcpEvent, clock: &Clock| AcceptRecord::new(e, clock));
    trace_tcp(
        &OBJECT,
        config,
        &args.filter,
        &args.output,
        COLUMNS,
        &args.run,
        handler,
    )
}

fn main() -> ExitCode {
    run_main("tcpaccept", |a: &Args| a.run.verbose, run)
}
