//! gethostlatency, user half: uprobes on libc, lookups to records.

use std::process::ExitCode;

use ebpftop_cli::{TraceSpec, run_main, short_record, trace};
use ebpftop_common::gethostlatency::{LookupEvent, LookupFunc};
use ebpftop_output::{Column, Comm, Common, KStr, Output, Record, Row};
use ebpftop_runtime::{AttachPoint, Candidate, Hook, ToolObject, embedded_object, read_record};
use gethostlatency::cli::Args;
use serde::Serialize;

/// An entry and a return probe on one libc function.
macro_rules! libc_hooks {
    ($symbol:literal, $enter:literal) => {
        [
            Hook {
                name: concat!($symbol, " entry"),
                candidates: &[Candidate {
                    program: $enter,
                    at: AttachPoint::UProbe {
                        target: "libc",
                        symbol: $symbol,
                    },
                }],
                required: true,
                shared: false,
            },
            Hook {
                name: concat!($symbol, " return"),
                candidates: &[Candidate {
                    program: "lookup_return",
                    at: AttachPoint::URetProbe {
                        target: "libc",
                        symbol: $symbol,
                    },
                }],
                required: true,
                shared: false,
            },
        ]
    };
}

static HOOKS: &[Hook] = &{
    let [a, b] = libc_hooks!("getaddrinfo", "getaddrinfo_enter");
    let [c, d] = libc_hooks!("gethostbyname", "gethostbyname_enter");
    let [e, f] = libc_hooks!("gethostbyname2", "gethostbyname2_enter");
    [a, b, c, d, e, f]
};

static OBJECT: ToolObject = ToolObject {
    tool: "gethostlatency",
    bytes: embedded_object!("gethostlatency"),
    hooks: HOOKS,
};

const COLUMNS: &[Column] = &[
    Column::left("PID", 7),
    Column::left("COMM", 16),
    Column::right("LATms", 10),
    Column::left("HOST", 0),
];

#[derive(Serialize)]
struct LookupRecord<'a> {
    #[serde(flatten)]
    common: Common,
    function: &'static str,
    host: Option<KStr<'a>>,
    latency_ns: u64,
}

impl Record for LookupRecord<'_> {
    const EVENT: &'static str = "lookup";

    fn common(&self) -> &Common {
        &self.common
    }

    fn row(&self, row: &mut Row<'_>) {
        row.cell(self.common.pid)
            .bytes(self.common.comm.as_bytes())
            .cell(format_args!("{:.2}", self.latency_ns as f64 / 1e6));
        match self.host {
            Some(h) => row.bytes(h.0),
            None => row.cell("<unreadable>"),
        };
    }
}

fn run(args: Args) -> anyhow::Result<()> {
    let spec = TraceSpec {
        object: &OBJECT,
        filter: args.filter.spec(false),
        output: args.output.options(),
        columns: COLUMNS,
        run: &args.run,
        globals: Vec::new(),
    };
    trace(spec, |data, clock, out: &mut Output| {
        let e: LookupEvent = read_record(data).ok_or_else(|| short_record(data))?;
        let h = e.header;
        out.emit(&LookupRecord {
            common: Common {
                ts_ns: clock.to_unix_ns(h.ts_ns),
                pid: h.pid,
                tid: h.tid,
                comm: Comm(h.comm),
                uid: h.uid,
                cgroup_id: h.cgroup_id,
            },
            function: LookupFunc::from_u32(e.func).map_or("?", LookupFunc::name),
            host: KStr::from_read(&data[std::mem::offset_of!(LookupEvent, host)..], e.host_len),
            latency_ns: e.latency_ns,
        })
    })
}

fn main() -> ExitCode {
    run_main("gethostlatency", |a: &Args| a.run.verbose, run)
}
