//! tcplife, user half: one record per closed connection.

use std::process::ExitCode;

use ebpftop_cli::run_main;
use ebpftop_common::tcp::TcpEvent;
use ebpftop_output::{Column, Common, Record, Row};
use ebpftop_runtime::{Clock, Hook, ToolObject, embedded_object};
use ebpftop_tcp::{EachEvent, Endpoints, Ports, accept_hooks, common, sock_state_hook, trace_tcp};
use serde::Serialize;
use tcplife::cli::Args;

static HOOKS: &[Hook] = &{
    let [a, b, c, d] = accept_hooks!("tcplife_accept_enter", "tcplife_accept_exit");
    [sock_state_hook!("tcplife_state"), a, b, c, d]
};

static OBJECT: ToolObject = ToolObject {
    tool: "tcplife",
    bytes: embedded_object!("tcplife"),
    hooks: HOOKS,
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

#[derive(Serialize)]
struct LifeRecord {
    #[serde(flatten)]
    common: Common,
    #[serde(flatten)]
    ep: Endpoints,
    tx_bytes: u64,
    rx_bytes: u64,
    duration_ns: u64,
}

impl Record for LifeRecord {
    const EVENT: &'static str = "tcplife";

    fn common(&self) -> &Common {
        &self.common
    }

    fn row(&self, row: &mut Row<'_>) {
        row.cell(self.common.pid)
            .bytes(self.common.comm.as_bytes())
            .cell(self.ep.saddr)
            .cell(self.ep.sport)
            .cell(self.ep.daddr)
            .cell(self.ep.dport)
            .cell(self.tx_bytes / 1024)
            .cell(self.rx_bytes / 1024)
            .cell(format_args!("{:.2}", self.duration_ns as f64 / 1e6));
    }
}

fn run(args: Args) -> anyhow::Result<()> {
    let config = ebpftop_tcp::config(
        args.family.family(),
        Ports::of(&args.dports),
        Ports::of(&args.lports),
    );
    let handler = EachEvent(|e: &TcpEvent, clock: &Clock| LifeRecord {
        common: common(&e.header, clock),
        ep: Endpoints::from(&e.ep),
        tx_bytes: e.tx_bytes,
        rx_bytes: e.rx_bytes,
        duration_ns: e.span_ns,
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
    run_main("tcplife", |a: &Args| a.run.verbose, run)
}
