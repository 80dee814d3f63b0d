//! What the kernel half attaches to, and an exec's entry and exit records
//! decoded: shared by the execsnoop command and the dashboard.

use ebpftop_common::execsnoop::{ExecEntryFixed, ExecExit, entry_flags};
use ebpftop_output::{Comm, Common, KStr, Record, Row, errno::errno_name};
use ebpftop_runtime::{Clock, Hook, ToolObject, embedded_object, syscall_hooks};
use serde::Serialize;

use crate::argv::{self, Argv};

static HOOKS: &[Hook] = syscall_hooks![
    ("execve", "execve", "execve", true),
    ("execveat", "execveat", "execveat", false),
];

pub static OBJECT: ToolObject = ToolObject {
    tool: "execsnoop",
    bytes: embedded_object!("execsnoop"),
    hooks: HOOKS,
};

/// How long an entry waits for its exit before it is reported without a
/// result. An exec returns within milliseconds; its exit record is only
/// missing when it was lost (and counted).
pub const PAIR_TIMEOUT_NS: u64 = 2_000_000_000;

#[derive(Serialize)]
pub struct ExecRecord<'a> {
    #[serde(flatten)]
    pub common: Common,
    pub syscall: &'static str,
    pub ppid: u32,
    pub ret: Option<i64>,
    pub errno: Option<i64>,
    pub error: Option<&'static str>,
    pub filename: Option<KStr<'a>>,
    pub argv: Vec<KStr<'a>>,
    pub args_truncated: bool,
    #[serde(skip)]
    pub line: &'a str,
}

impl Record for ExecRecord<'_> {
    const EVENT: &'static str = "exec";

    fn common(&self) -> &Common {
        &self.common
    }

    fn row(&self, row: &mut Row<'_>) {
        row.bytes(self.common.comm.as_bytes())
            .cell(self.common.pid)
            .cell(self.ppid);
        match self.ret {
            Some(r) => row.cell(r),
            None => row.cell("?"),
        };
        row.escaped(self.line);
    }
}

/// The file name and arguments of an entry record, at most `max_bytes`
/// of them.
pub fn split_args<'a>(entry: &'a [u8], e: &ExecEntryFixed, max_bytes: usize) -> Argv<'a> {
    let text = entry.get(size_of::<ExecEntryFixed>()..).unwrap_or(&[]);
    let text = &text[..(e.text_len as usize).min(text.len())];
    let mask = entry_flags::TRUNC_COUNT | entry_flags::TRUNC_BYTES | entry_flags::FAULT;
    argv::split(
        text,
        e.filename_len as usize,
        max_bytes,
        e.flags & mask != 0,
    )
}

/// One exec: its entry, and its exit when that came. `line` is the
/// command line as the table shows it.
pub fn exec_record<'a>(
    e: &ExecEntryFixed,
    a: &Argv<'a>,
    exit: Option<&ExecExit>,
    clock: &Clock,
    line: &'a str,
) -> ExecRecord<'a> {
    let ret = exit.map(|x| x.ret);
    // The command name after the exec; the caller's when it failed or its
    // result never came.
    let comm = exit.map_or(e.header.comm, |x| x.header.comm);
    let h = e.header;
    ExecRecord {
        common: Common {
            ts_ns: clock.to_unix_ns(h.ts_ns),
            pid: h.pid,
            tid: exit.map_or(h.tid, |x| x.header.tid),
            comm: Comm(comm),
            uid: h.uid,
            cgroup_id: h.cgroup_id,
        },
        syscall: if e.flags & entry_flags::EXECVEAT != 0 {
            "execveat"
        } else {
            "execve"
        },
        ppid: e.ppid,
        ret,
        errno: ret.filter(|r| *r < 0).map(|r| -r),
        error: ret.filter(|r| *r < 0).and_then(|r| errno_name(-r)),
        filename: a.filename.map(KStr),
        argv: a.args.iter().map(|s| KStr(s)).collect(),
        args_truncated: a.truncated,
        line,
    }
}
