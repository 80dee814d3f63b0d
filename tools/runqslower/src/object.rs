//! What the kernel half attaches to, its globals, and its records decoded.

use anyhow::Context as _;
use ebpftop_common::runqslower::{RunqSlowEvent, RunqslowerConfig};
use ebpftop_output::{Comm, Common, Record, Row};
use ebpftop_runtime::sched::{SchedGlobals, classic_layout_ok};
use ebpftop_runtime::{Clock, ToolObject, embedded_object, read_record};
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

/// The name of the configuration global, for [`Globals::to_globals`].
pub const CONFIG_GLOBAL: &str = "RUNQSLOWER";

/// The read-only globals of the kernel half.
pub type Globals = SchedGlobals<RunqslowerConfig>;

/// The object and its globals; `pid_filter` (which needs the woken task's
/// process) keeps to raw tracepoints.
pub fn kernel_half(
    config: RunqslowerConfig,
    pid_filter: bool,
) -> anyhow::Result<(ToolObject, Globals)> {
    let globals = Globals::resolve(config, pid_filter).context("resolving task_struct offsets")?;
    Ok((object(pid_filter || !classic_layout_ok()), globals))
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
