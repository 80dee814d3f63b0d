//! tcpstates, user half: one record per TCP state change.

use std::process::ExitCode;

use ebpftop_cli::run_main;
use ebpftop_common::tcp::{TcpEvent, state};
use ebpftop_output::{Column, Common, Record, Row};
use ebpftop_runtime::{Clock, Hook, ToolObject, embedded_object};
use ebpftop_tcp::{
    EachEvent, Endpoints, Ports, accept_hooks, check_sock_state_layout, common, sock_state_hook,
    trace_tcp,
};
use serde::{Serialize, Serializer};
use tcpstates::cli::Args;

static HOOKS: &[Hook] = &{
    let [a, b, c, d] = accept_hooks!("tcpstates_accept_enter", "tcpstates_accept_exit");
    [sock_state_hook!("tcpstates_state"), a, b, c, d]
};

static OBJECT: ToolObject = ToolObject {
    tool: "tcpstates",
    bytes: embedded_object!("tcpstates"),
    hooks: HOOKS,
};

const COLUMNS: &[Column] = &[
    Column::left("SKADDR", 16),
    Column::left("PID", 7),
    Column::left("COMM", 16),
    Column::left("LADDR", 15),
    Column::right("LPORT", 5),
    Column::left("RADDR", 15),
    Column::right("RPORT", 5),
    Column::left("OLDSTATE", 11),
    Column::left("-> NEWSTATE", 14),
    Column::right("MS", 9),
];

#[derive(Serialize)]
struct StateRecord {
    #[serde(flatten)]
    common: Common,
    #[serde(serialize_with = "hex")]
    skaddr: u64,
    #[serde(flatten)]
    ep: Endpoints,
    oldstate: &'static str,
    newstate: &'static str,
    in_oldstate_ns: Option<u64>,
}

fn hex<S: Serializer>(v: &u64, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format!("{v:x}"))
}

impl Record for StateRecord {
    const EVENT: &'static str = "tcpstate";

    fn common(&self) -> &Common {
        &self.common
    }

    fn row(&self, row: &mut Row<'_>) {
        row.cell(format_args!("{:x}", self.skaddr))
            .cell(self.common.pid)
            .bytes(self.common.comm.as_bytes())
            .cell(self.ep.saddr)
            .cell(self.ep.sport)
            .cell(self.ep.daddr)
            .cell(self.ep.dport)
            .cell(self.oldstate)
            .cell(format_args!("-> {}", self.newstate));
        match self.in_oldstate_ns {
            Some(ns) => row.cell(format_args!("{:.3}", ns as f64 / 1e6)),
            None => row.cell("-"),
        };
    }
}

fn run(args: Args) -> anyhow::Result<()> {
    check_sock_state_layout()?;
    let config = ebpftop_tcp::config(
        args.family.family(),
        Ports::of(&args.dports),
        Ports::of(&args.lports),
    );
    let handler = EachEvent(|e: &TcpEvent, clock: &Clock| StateRecord {
        common: common(&e.header, clock),
        skaddr: e.skaddr,
        ep: Endpoints::from(&e.ep),
        oldstate: state::name(e.oldstate),
        newstate: state::name(e.newstate),
        in_oldstate_ns: (e.span_ns != 0).then_some(e.span_ns),
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
    run_main("tcpstates", |a: &Args| a.run.verbose, run)
}
