//! tcplife, user half: one record per closed connection.

use std::process::ExitCode;

use ebpftop_cli::run_main;
use ebpftop_common::tcp::TcpEvent;
use ebpftop_output::Column;
use ebpftop_runtime::Clock;
use ebpftop_tcp::{EachEvent, Ports, trace_tcp};
use tcplife::{
    cli::Args,
    record::{LifeRecord, OBJECT},
};

const COLUMNS: &[Column] = &[
    Column::left("PID", 7),
    Column::left("COMM", 16),
    Column::left("LADDR", 15),
    Column::right("LPORT", 5),
    Column::left("RADDR", 15),
    Column::right("RPORT", 5),
    Column::right("TX_KB", 8),
    Column::right("RX_KB", 8),
    Column::right("MS", 9),
];

fn run(args: Args) -> anyhow::Result<()> {
    let config = ebpftop_tcp::config(
        args.family.family(),
        Ports::of(&args.dports),
        Ports::of(&args.lports),
    );
    let handler = EachEvent(|e: &TcpEvent, clock: &Clock| LifeRecord::new(e, clock));
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
    run_main("tcplife", |a: &Args| a.run.verbose, run)
}
