//! What the kernel half attaches to, and its records decoded: shared by
//! the opensnoop command and the dashboard.

use std::collections::HashMap;

use ebpftop_common::opensnoop::{OpenEventFixed, OpenSyscall};
use ebpftop_output::{Comm, Common, KStr, Record, Row, errno::errno_name};
use ebpftop_runtime::{Clock, Hook, ToolObject, embedded_object, read_record, syscall_hooks};
use serde::Serialize;

use crate::flags;

/// openat is everywhere; open exists on x86_64 but not on aarch64, and
/// openat2 since Linux 5.6: those two are attached where the kernel has them.
static HOOKS: &[Hook] = syscall_hooks![
    ("openat", "openat", "openat", true),
    ("openat2", "openat2", "openat2", false),
    ("open", "open", "open", false),
];

pub static OBJECT: ToolObject = ToolObject {
    tool: "opensnoop",
    bytes: embedded_object!("opensnoop"),
    hooks: HOOKS,
};

#[derive(Serialize)]
pub struct OpenRecord<'a> {
    #[serde(flatten)]
    pub common: Common,
    pub syscall: &'static str,
    pub ret: i64,
    pub fd: Option<i64>,
    pub errno: Option<i64>,
    pub error: Option<&'static str>,
    pub flags: u64,
    pub flags_str: &'a str,
    #[serde(serialize_with = "octal")]
    pub mode: u32,
    pub dfd: i32,
    pub path: Option<KStr<'a>>,
    /// Table rows with the SYSCALL, FLAGS and MODE columns.
    #[serde(skip)]
    pub extended: bool,
}

/// Modes read best in octal, as chmod takes them: "0644".
fn octal<S: serde::Serializer>(mode: &u32, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format!("{mode:04o}"))
}

impl Record for OpenRecord<'_> {
    const EVENT: &'static str = "open";

    fn common(&self) -> &Common {
        &self.common
    }

    fn row(&self, row: &mut Row<'_>) {
        row.cell(self.common.pid)
            .bytes(self.common.comm.as_bytes())
            .cell(self.fd.unwrap_or(-1))
            .cell(self.errno.unwrap_or(0));
        if self.extended {
            row.cell(self.syscall).cell(self.flags_str);
            if flags::uses_mode(self.flags) {
                row.cell(format_args!("{:04o}", self.mode));
            } else {
                row.cell("-");
            }
        }
        match self.path {
            Some(p) => row.bytes(p.0),
            None => row.cell("<unreadable>"),
        };
    }
}

/// Decoded flag names by value: a process opens with few distinct flag
/// sets, so each is decoded once rather than per event.
#[derive(Default)]
pub struct FlagNames(HashMap<u64, String>);

impl FlagNames {
    fn get(&mut self, flags: u64) -> &str {
        if self.0.len() > 4096 {
            self.0.clear();
        }
        self.0.entry(flags).or_insert_with(|| flags::decode(flags))
    }
}

/// A ring buffer record as an [`OpenRecord`]; `None` for a short one.
pub fn to_record<'a>(
    data: &'a [u8],
    clock: &Clock,
    names: &'a mut FlagNames,
    extended: bool,
) -> Option<OpenRecord<'a>> {
    let e: OpenEventFixed = read_record(data)?;
    let tail = &data[size_of::<OpenEventFixed>()..];
    let path = (e.path_len > 0).then(|| {
        // path_len counts the NUL.
        let n = (e.path_len as usize - 1).min(tail.len());
        KStr(&tail[..n])
    });
    let h = e.header;
    let failed = e.ret < 0;
    Some(OpenRecord {
        common: Common {
            ts_ns: clock.to_unix_ns(h.ts_ns),
            pid: h.pid,
            tid: h.tid,
            comm: Comm(h.comm),
            uid: h.uid,
            cgroup_id: h.cgroup_id,
        },
        syscall: OpenSyscall::from_u32(e.syscall).map_or("?", OpenSyscall::name),
        ret: e.ret,
        fd: (!failed).then_some(e.ret),
        errno: failed.then_some(-e.ret),
        error: if failed { errno_name(-e.ret) } else { None },
        flags: e.flags,
        flags_str: names.get(e.flags),
        mode: e.mode,
        dfd: e.dfd,
        path,
        extended,
    })
}
