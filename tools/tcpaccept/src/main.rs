//! tcpaccept, user half: one record per accepted connection.

use std::process::ExitCode;

use ebpftop_cli::run_main;
use ebpftop_common::tcp::TcpEvent;
use ebpftop_output::{Column, Common, Record, Row};
use ebpftop_runtime::{Clock, Hook, ToolObject, embedded_object};
use ebpftop_tcp::{EachEvent, Endpoints, Ports, accept_hooks, common, trace_tcp};
use serde::Serialize;
use tcpaccept::cli::Args;

static HOOKS: &[Hook] = &accept_hooks!("tcpaccept_enter", "tcpaccept_exit");

static OBJECT: ToolObject = ToolObject {
    tool: "tcpaccept",
    bytes: embedded_object!("tcpaccept"),
    hooks: HOOKS,
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

#[derive(Serialize)]
struct AcceptRecord {
    #[serde(flatten)]
    common: Common,
    #[serde(flatten)]
    ep: Endpoints,
}

impl Record for AcceptRecord {
    const EVENT: &'static str = "accept";

    fn common(&self) -> &Common {
        &self.common
    }

    fn row(&self, row: &mut Row<'_>) {
        row.cell(self.common.pid)
            .bytes(self.common.comm.as_bytes())
            .cell(self.ep.ip)
            .cell(self.ep.daddr)
            .cell(self.ep.dport)
            .cell(self.ep.saddr)
            .cell(self.ep.sport);
    }
}

fn run(args: Args) -> anyhow::Result<()> {
    let config = ebpftop_tcp::config(args.family.family(), &[], Ports::of(&args.ports));
    let handler = EachEvent(|e: &TcpEvent, clock: &Clock| AcceptRecord {
        common: common(&e.header, clock),
        ep: Endpoints::from(&e.ep),
    });
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
