//! sigsnoop, user half: which hooks to attach, and signals to records.

use std::process::ExitCode;

use ebpftop_cli::{TraceSpec, emit_decoded, run_main, trace};
use ebpftop_common::{
    COMM_LEN,
    sigsnoop::{SignalConfig, SignalEvent, SignalSource, generate_layout as at},
};
use ebpftop_output::{
    Column, Comm, Common, Output, Record, Row, errno::errno_name, signal::signal_name,
};
use ebpftop_runtime::{
    AttachPoint, Candidate, Clock, Hook, ToolObject, embedded_object, privileges, read_record,
    syscall_hook, tracefs,
};
use serde::Serialize;
use sigsnoop::{
    cli::Args,
    result::{generate_result_name, kill_result_name},
};

const GENERATE: (&str, &str) = ("signal", "signal_generate");

static GENERATE_HOOKS: &[Hook] = &[Hook {
    name: "signal generated",
    candidates: &[Candidate {
        program: "signal_generate",
        at: AttachPoint::Tracepoint {
            category: GENERATE.0,
            name: GENERATE.1,
        },
    }],
    required: true,
    shared: false,
}];

static KILL_HOOKS: &[Hook] = &[
    syscall_hook!("kill entry", "kill_enter", "sys_enter_kill", true),
    syscall_hook!("kill exit", "kill_exit", "sys_exit_kill", true),
];

/// One object, two sets of hooks: only the chosen set's programs load.
const BYTES: &[u8] = embedded_object!("sigsnoop");

const COLUMNS: &[Column] = &[
    Column::left("PID", 7),
    Column::left("COMM", 16),
    Column::left("SIG", 10),
    Column::left("TPID", 7),
    Column::left("TCOMM", 16),
    Column::left("RESULT", 0),
];

const COLUMNS_KILL: &[Column] = &[
    Column::left("PID", 7),
    Column::left("COMM", 16),
    Column::left("SIG", 10),
    Column::left("TPID", 7),
    Column::left("RESULT", 0),
];

#[derive(Serialize)]
struct SignalRecord {
    #[serde(flatten)]
    common: Common,
    source: &'static str,
    sig: i32,
    signal: String,
    target_pid: i32,
    target_comm: Option<Comm>,
    result: String,
    errno: Option<i64>,
    error: Option<&'static str>,
    group: Option<bool>,
    si_code: Option<i32>,
    si_errno: Option<i32>,
}

impl Record for SignalRecord {
    const EVENT: &'static str = "signal";

    fn common(&self) -> &Common {
        &self.common
    }

    fn row(&self, row: &mut Row<'_>) {
        row.cell(self.common.pid)
            .bytes(self.common.comm.as_bytes())
            .cell(&self.signal)
            .cell(self.target_pid);
        if let Some(c) = &self.target_comm {
            row.bytes(c.as_bytes());
        }
        row.cell(&self.result);
    }
}

fn to_record(data: &[u8], clock: &Clock) -> Option<SignalRecord> {
    let e: SignalEvent = read_record(data)?;
    let h = e.header;
    let kill = e.source == SignalSource::Kill as u32;
    let failed = kill && e.result < 0;
    Some(SignalRecord {
        common: Common {
            ts_ns: clock.to_unix_ns(h.ts_ns),
            pid: h.pid,
            tid: h.tid,
            comm: Comm(h.comm),
            uid: h.uid,
            cgroup_id: h.cgroup_id,
        },
        source: if kill { "kill" } else { "generate" },
        sig: e.sig,
        signal: signal_name(i64::from(e.sig)).into_owned(),
        target_pid: e.target_pid,
        target_comm: (!kill).then_some(Comm(e.target_comm)),
        result: if kill {
            kill_result_name(e.result)
        } else {
            generate_result_name(e.result)
                .map_or_else(|| format!("result {}", e.result), Into::into)
        },
        errno: failed.then_some(-i64::from(e.result)),
        error: if failed {
            errno_name(-i64::from(e.result))
        } else {
            None
        },
        group: (!kill).then_some(e.group != 0),
        si_code: (!kill).then_some(e.si_code),
        si_errno: (!kill).then_some(e.si_errno),
    })
}

fn run(args: Args) -> anyhow::Result<()> {
    let mut config = SignalConfig::ALL;
    for &sig in &args.signals {
        config.add(sig);
    }
    let hooks = if args.kill {
        KILL_HOOKS
    } else {
        // The program reads signal_generate's fields at fixed offsets.
        privileges::check("sigsnoop")?;
        let (category, name) = GENERATE;
        tracefs::check_fields(
            category,
            name,
            &[
                ("sig", at::SIG, 4),
                ("errno", at::ERRNO, 4),
                ("code", at::CODE, 4),
                ("comm", at::COMM, COMM_LEN),
                ("pid", at::PID, 4),
                ("group", at::GROUP, 4),
                ("result", at::RESULT, 4),
            ],
        )?;
        GENERATE_HOOKS
    };
    let object = ToolObject {
        tool: "sigsnoop",
        bytes: BYTES,
        hooks,
    };
    let spec = TraceSpec {
        object: &object,
        filter: args.filter.spec(args.failed),
        output: args.output.options(),
        columns: if args.kill { COLUMNS_KILL } else { COLUMNS },
        run: &args.run,
        globals: vec![("SIGNAL_CONFIG", (&config).into())],
    };
    trace(spec, |data, clock, out: &mut Output| {
        emit_decoded(out, to_record(data, clock), data)
    })
}

fn main() -> ExitCode {
    run_main("sigsnoop", |a: &Args| a.run.verbose, run)
}
