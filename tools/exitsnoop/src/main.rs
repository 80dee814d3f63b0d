//! exitsnoop, user half: one tracepoint, and exits to records.

use std::process::ExitCode;

use anyhow::Context as _;
use ebpftop_cli::{TraceSpec, emit_decoded, run_main, trace};
use ebpftop_common::exitsnoop::{ExitConfig, ExitEvent, GROUP_DEAD_OFFSET};
use ebpftop_output::{Column, Comm, Common, Output, Record, Row, signal::signal_name};
use ebpftop_runtime::{
    AttachPoint, Candidate, Clock, Hook, TASK_OFFSETS_GLOBAL, ToolObject, embedded_object,
    privileges, read_record, task_offsets, tracefs,
};
use exitsnoop::{cli::Args, status::ExitStatus};
use serde::Serialize;

const EXIT_TRACEPOINT: (&str, &str) = ("sched", "sched_process_exit");

static HOOKS: &[Hook] = &[Hook {
    name: "task exit",
    candidates: &[Candidate {
        program: "sched_process_exit",
        at: AttachPoint::Tracepoint {
            category: EXIT_TRACEPOINT.0,
            name: EXIT_TRACEPOINT.1,
        },
    }],
    required: true,
    shared: false,
}];

static OBJECT: ToolObject = ToolObject {
    tool: "exitsnoop",
    bytes: embedded_object!("exitsnoop"),
    hooks: HOOKS,
};

const COLUMNS: &[Column] = &[
    Column::left("PCOMM", 16),
    Column::left("PID", 7),
    Column::left("PPID", 7),
    Column::left("TID", 7),
    Column::right("AGE(s)", 8),
    Column::left("EXIT", 0),
];

#[derive(Serialize)]
struct ExitRecord {
    #[serde(flatten)]
    common: Common,
    ppid: u32,
    status: i32,
    exit_code: Option<i32>,
    signal: Option<String>,
    core_dumped: bool,
    age_ns: Option<u64>,
    process_ended: bool,
}

impl Record for ExitRecord {
    const EVENT: &'static str = "exit";

    fn common(&self) -> &Common {
        &self.common
    }

    fn row(&self, row: &mut Row<'_>) {
        row.bytes(self.common.comm.as_bytes())
            .cell(self.common.pid)
            .cell(self.ppid)
            .cell(self.common.tid);
        match self.age_ns {
            Some(ns) => row.cell(format_args!("{:.2}", ns as f64 / 1e9)),
            None => row.cell("?"),
        };
        row.cell(ExitStatus(self.status));
    }
}

fn to_record(data: &[u8], clock: &Clock) -> Option<ExitRecord> {
    let e: ExitEvent = read_record(data)?;
    let h = e.header;
    let status = ExitStatus(e.exit_code);
    Some(ExitRecord {
        common: Common {
            ts_ns: clock.to_unix_ns(h.ts_ns),
            pid: h.pid,
            tid: h.tid,
            comm: Comm(h.comm),
            uid: h.uid,
            cgroup_id: h.cgroup_id,
        },
        ppid: e.ppid,
        status: e.exit_code,
        exit_code: status.code(),
        signal: status
            .signal()
            .map(|s| signal_name(i64::from(s)).into_owned()),
        core_dumped: status.core_dumped(),
        // Both are CLOCK_MONOTONIC; a start time that could not be read is 0.
        age_ns: (e.start_ns != 0 && e.start_ns <= h.ts_ns).then(|| h.ts_ns - e.start_ns),
        process_ended: e.process_ended != 0,
    })
}

/// How the kernel program can tell a process's end from a thread's.
fn process_end_mode() -> Result<u32, ebpftop_runtime::Error> {
    let (category, name) = EXIT_TRACEPOINT;
    match tracefs::check_fields(category, name, &[("group_dead", GROUP_DEAD_OFFSET, 1)]) {
        Ok(()) => Ok(ExitConfig::GROUP_DEAD_FIELD),
        Err(ebpftop_runtime::Error::Layout(why)) => {
            log::info!("{why}: a process is reported when its group leader exits");
            Ok(ExitConfig::LEADER_EXIT)
        }
        Err(e) => Err(e),
    }
}

fn run(args: Args) -> anyhow::Result<()> {
    // Reading tracefs and BTF needs root: say so first, plainly.
    privileges::check("exitsnoop")?;
    let offsets = task_offsets().context("resolving task_struct offsets")?;
    let config = ExitConfig {
        threads: args.threads.into(),
        process_end: process_end_mode()?,
    };
    let spec = TraceSpec {
        object: &OBJECT,
        filter: args.filter.spec(args.failed),
        output: args.output.options(),
        columns: COLUMNS,
        run: &args.run,
        globals: vec![
            (TASK_OFFSETS_GLOBAL, (&offsets).into()),
            ("EXIT_CONFIG", (&config).into()),
        ],
    };
    trace(spec, |data, clock, out: &mut Output| {
        emit_decoded(out, to_record(data, clock), data)
    })
}

fn main() -> ExitCode {
    run_main("exitsnoop", |a: &Args| a.run.verbose, run)
}
