//! tcpconnect, user half: connects as records, or counted per destination.

use std::{collections::HashMap, io, net::IpAddr, process::ExitCode};

use ebpftop_cli::{RecordHandler, run_main};
use ebpftop_common::tcp::state;
use ebpftop_output::{Column, Common, Output, Record, Row};
use ebpftop_runtime::Clock;
use ebpftop_tcp::{
    Ports,
    connect::{COLUMNS, ConnectRecord},
    read_event, trace_tcp,
};
use serde::Serialize;
use tcpconnect::{OBJECT, cli::Args};

const COUNT_COLUMNS: &[Column] = &[
    Column::left("SADDR", 16),
    Column::left("DADDR", 16),
    Column::right("DPORT", 5),
    Column::right("CONNECTS", 8),
    Column::right("FAILED", 6),
];

#[derive(Serialize)]
struct CountRecord {
    #[serde(flatten)]
    common: Common,
    ip: u8,
    saddr: IpAddr,
    daddr: IpAddr,
    dport: u16,
    connects: u64,
    failed: u64,
}

impl Record for CountRecord {
    const EVENT: &'static str = "connect_count";

    fn common(&self) -> &Common {
        &self.common
    }

    fn row(&self, row: &mut Row<'_>) {
        row.cell(self.saddr)
            .cell(self.daddr)
            .cell(self.dport)
            .cell(self.connects)
            .cell(self.failed);
    }
}

enum Connects {
    Each,
    /// Per (ip, saddr, daddr, dport), in order of first connect.
    Counted(Vec<CountRecord>, HashMap<(u8, IpAddr, IpAddr, u16), usize>),
}

impl RecordHandler for Connects {
    fn record(&mut self, data: &[u8], clock: &Clock, out: &mut Output) -> io::Result<()> {
        let e = read_event(data)?;
        let r = ConnectRecord::new(&e, clock, false);
        match self {
            Connects::Each => out.emit(&r),
            Connects::Counted(counts, index) => {
                let key = (r.ep.ip, r.ep.saddr, r.ep.daddr, r.ep.dport);
                let i = *index.entry(key).or_insert_with(|| {
                    counts.push(CountRecord {
                        common: r.common,
                        ip: r.ep.ip,
                        saddr: r.ep.saddr,
                        daddr: r.ep.daddr,
                        dport: r.ep.dport,
                        connects: 0,
                        failed: 0,
                    });
                    counts.len() - 1
                });
                let c = &mut counts[i];
                c.common = r.common;
                c.connects += 1;
                c.failed += u64::from(e.newstate != state::ESTABLISHED);
                Ok(())
            }
        }
    }

    fn finish(&mut self, _clock: &Clock, out: &mut Output) -> io::Result<()> {
        if let Connects::Counted(counts, _) = self {
            for c in counts.iter() {
                out.emit(c)?;
            }
        }
        Ok(())
    }
}

fn run(args: Args) -> anyhow::Result<()> {
    let config = ebpftop_tcp::config(args.family.family(), Ports::of(&args.ports), &[]);
    let (columns, handler) = if args.count {
        (COUNT_COLUMNS, Connects::Counted(Vec::new(), HashMap::new()))
    } else {
        (COLUMNS, Connects::Each)
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
    run_main("tcpconnect", |a: &Args| a.run.verbose, run)
}
