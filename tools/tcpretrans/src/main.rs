//! tcpretrans, user half: retransmits as records, or counted per
//! connection.

use std::{collections::HashMap, io, process::ExitCode};

use ebpftop_cli::{RecordHandler, run_main};
use ebpftop_common::tcp::state;
use ebpftop_output::{Column, Common, Output, Record, Row};
use ebpftop_runtime::{Clock, Hook, ToolObject, embedded_object};
use ebpftop_tcp::{
    Endpoints, HostPort, Ports, accept_hooks, check_retransmit_layout, check_sock_state_layout,
    common, read_event, sock_state_hook, trace_tcp,
};
use serde::Serialize;
use tcpretrans::cli::Args;

static HOOKS: &[Hook] = &{
    let [a, b, c, d] = accept_hooks!("tcpretrans_accept_enter", "tcpretrans_accept_exit");
    [
        Hook {
            name: "TCP retransmits",
            candidates: &[ebpftop_runtime::Candidate {
                program: "tcpretrans_skb",
                at: ebpftop_runtime::AttachPoint::Tracepoint {
                    category: "tcp",
                    name: "tcp_retransmit_skb",
                },
            }],
            required: true,
            shared: false,
        },
        sock_state_hook!("tcpretrans_state"),
        a,
        b,
        c,
        d,
    ]
};

static OBJECT: ToolObject = ToolObject {
    tool: "tcpretrans",
    bytes: embedded_object!("tcpretrans"),
    hooks: HOOKS,
};

const COLUMNS: &[Column] = &[
    Column::left("PID", 7),
    Column::left("COMM", 16),
    Column::right("IP", 2),
    Column::left("LADDR:LPORT", 21),
    Column::left("T>", 2),
    Column::left("RADDR:RPORT", 21),
    Column::left("STATE", 0),
];

const COUNT_COLUMNS: &[Column] = &[
    Column::left("LADDR:LPORT", 21),
    Column::left("RADDR:RPORT", 21),
    Column::right("RETRANSMITS", 11),
];

#[derive(Serialize)]
struct RetransRecord {
    #[serde(flatten)]
    common: Common,
    #[serde(flatten)]
    ep: Endpoints,
    state: &'static str,
}

impl Record for RetransRecord {
    const EVENT: &'static str = "retransmit";

    fn common(&self) -> &Common {
        &self.common
    }

    fn row(&self, row: &mut Row<'_>) {
        row.cell(self.common.pid)
            .bytes(self.common.comm.as_bytes())
            .cell(self.ep.ip)
            .cell(HostPort(self.ep.saddr, self.ep.sport))
            .cell("R>")
            .cell(HostPort(self.ep.daddr, self.ep.dport))
            .cell(self.state);
    }
}

#[derive(Serialize)]
struct CountRecord {
    #[serde(flatten)]
    common: Common,
    #[serde(flatten)]
    ep: Endpoints,
    retransmits: u64,
}

impl Record for CountRecord {
    const EVENT: &'static str = "retransmit_count";

    fn common(&self) -> &Common {
        &self.common
    }

    fn row(&self, row: &mut Row<'_>) {
        row.cell(HostPort(self.ep.saddr, self.ep.sport))
            .cell(HostPort(self.ep.daddr, self.ep.dport))
            .cell(self.retransmits);
    }
}

enum Retransmits {
    Each,
    /// Per connection, in order of first retransmit.
    Counted(Vec<CountRecord>, HashMap<Endpoints, usize>),
}

impl RecordHandler for Retransmits {
    fn record(&mut self, data: &[u8], clock: &Clock, out: &mut Output) -> io::Result<()> {
        let e = read_event(data)?;
        let r = RetransRecord {
            common: common(&e.header, clock),
            ep: Endpoints::from(&e.ep),
            state: state::name(e.newstate),
        };
        match self {
            Retransmits::Each => out.emit(&r),
            Retransmits::Counted(counts, index) => {
                let i = *index.entry(r.ep).or_insert_with(|| {
                    counts.push(CountRecord {
                        common: r.common,
                        ep: r.ep,
                        retransmits: 0,
                    });
                    counts.len() - 1
                });
                counts[i].common = r.common;
                counts[i].retransmits += 1;
                Ok(())
            }
        }
    }

    fn finish(&mut self, _clock: &Clock, out: &mut Output) -> io::Result<()> {
        if let Retransmits::Counted(counts, _) = self {
            for c in counts.iter() {
                out.emit(c)?;
            }
        }
        Ok(())
    }
}

fn run(args: Args) -> anyhow::Result<()> {
    check_retransmit_layout()?;
    check_sock_state_layout()?;
    let config = ebpftop_tcp::config(
        args.family.family(),
        Ports::of(&args.dports),
        Ports::of(&args.lports),
    );
    let (columns, handler) = if args.count {
        (
            COUNT_COLUMNS,
            Retransmits::Counted(Vec::new(), HashMap::new()),
        )
    } else {
        (COLUMNS, Retransmits::Each)
    };
    trace_tcp(
        &OBJECT,
        config,
        &args.filter.filter,
        &args.output,
        columns,
        &args.run,
        handler,
    )
}

fn main() -> ExitCode {
    run_main("tcpretrans", |a: &Args| a.run.verbose, run)
}
