//! What the kernel half attaches to, its globals, and its records decoded.

use ebpftop_common::{
    COMM_LEN, TaskOffsets,
    runqslower::{RunqSlowEvent, RunqslowerConfig},
    sched::{
        SchedOffsets, TP_SWITCH_NEXT_COMM, TP_SWITCH_NEXT_PID, TP_SWITCH_PREV_PID,
        TP_SWITCH_PREV_STATE, TP_WAKEUP_PID,
    },
};
use ebpftop_output::{Comm, Common, Record, Row};
use ebpftop_runtime::{
    Clock, SCHED_OFFSETS_GLOBAL, TASK_OFFSETS_GLOBAL, ToolObject, embedded_object, read_record,
    sched_offsets, task_offsets, tracefs,
};
use serde::Serialize;

// tp_btf first (no trace record is built, task fields are direct loads),
// then raw tracepoints (task fields through a helper); the classic ones
// carry only thread ids.
ebpftop_runtime::sched_hooks!("runqslower");

pub fn object(raw_only: bool) -> ToolObject {
    ToolObject {
        tool: "runqslower",
        bytes: embedded_object!("runqslower"),
        hooks: if raw_only { HOOKS_RAW } else { HOOKS },
    }
}

/// The read-only globals of the kernel half.
pub struct Globals {
    pub config: RunqslowerConfig,
    pub task: TaskOffsets,
    pub sched: SchedOffsets,
}

impl Globals {
    pub fn to_globals(&self) -> Vec<(&'static str, aya::GlobalData<'_>)> {
        vec![
            ("RUNQSLOWER", (&self.config).into()),
            (TASK_OFFSETS_GLOBAL, (&self.task).into()),
            (SCHED_OFFSETS_GLOBAL, (&self.sched).into()),
        ]
    }
}

/// The object and its globals; `pid_filter` (which needs the woken task's
/// process) keeps to raw tracepoints.
pub fn kernel_half(
    config: RunqslowerConfig,
    pid_filter: bool,
) -> anyhow::Result<(ToolObject, Globals)> {
    let offsets = task_offsets().and_then(|t| Ok((t, sched_offsets()?)));
    let (task, sched) = match offsets {
        Ok(o) => o,
        Err(e) if pid_filter => {
            return Err(anyhow::Error::new(e).context("resolving task_struct offsets"));
        }
        Err(e) => {
            log::info!("raw tracepoints cannot read tasks ({e}); classic tracepoints");
            (TaskOffsets::UNSET, SchedOffsets::UNSET)
        }
    };
    let classic = tracefs::check_fields(
        "sched",
        "sched_switch",
        &[
            ("prev_pid", TP_SWITCH_PREV_PID, 4),
            ("prev_state", TP_SWITCH_PREV_STATE, 8),
            ("next_comm", TP_SWITCH_NEXT_COMM, COMM_LEN),
            ("next_pid", TP_SWITCH_NEXT_PID, 4),
        ],
    )
    .and_then(|()| tracefs::check_fields("sched", "sched_wakeup", &[("pid", TP_WAKEUP_PID, 4)]));
    if let Err(e) = &classic {
        log::info!("classic sched tracepoints not usable: {e}");
    }
    Ok((
        object(pid_filter || classic.is_err()),
        Globals {
            config,
            task,
            sched,
        },
    ))
}

/// One slow wait.
#[derive(Clone, Debug, Serialize)]
pub struct RunqSlowRecord {
    #[serde(flatten)]
    pub common: Common,
    pub delta_us: u64,
    pub cpu: u32,
    pub prev_pid: u32,
    pub prev_tid: u32,
    pub prev_comm: Comm,
    /// Table only: show the prev columns (`-P`).
    #[serde(skip)]
    pub show_prev: bool,
}

impl Record for RunqSlowRecord {
    const EVENT: &'static str = "runqslow";

    fn common(&self) -> &Common {
        &self.common
    }

    fn row(&self, row: &mut Row<'_>) {
        row.bytes(self.common.comm.as_bytes())
            .cell(self.common.tid)
            .cell(self.delta_us);
        if self.show_prev {
            row.bytes(self.prev_comm.as_bytes()).cell(self.prev_tid);
        }
    }
}

/// The process of thread `tid` from /proc (classic tracepoints do not
/// carry it); 0 when the thread is gone.
fn tgid_of(tid: u32) -> u32 {
    std::fs::read_to_string(format!("/proc/{tid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Tgid:"))
                .and_then(|v| v.trim().parse().ok())
        })
        .unwrap_or(0)
}

/// A ring buffer record decoded, or `None` when it is too short.
pub fn to_record(data: &[u8], clock: &Clock, show_prev: bool) -> Option<RunqSlowRecord> {
    let e: RunqSlowEvent = read_record(data)?;
    let pid = if e.pid == 0 { tgid_of(e.tid) } else { e.pid };
    Some(RunqSlowRecord {
        common: Common {
            ts_ns: clock.to_unix_ns(e.ts_ns),
            pid,
            tid: e.tid,
            comm: Comm(e.comm),
            uid: e.uid,
            cgroup_id: e.cgroup_id,
        },
        delta_us: e.delta_ns / 1000,
        cpu: e.cpu,
        prev_pid: e.prev_pid,
        prev_tid: e.prev_tid,
        prev_comm: Comm(e.prev_comm),
        show_prev,
    })
}
