//! opensnoop, user half: which hooks to attach, and events to records.

use std::{collections::HashMap, process::ExitCode};

use ebpftop_cli::{TraceSpec, emit_decoded, run_main, trace};
use ebpftop_common::opensnoop::{OpenEventFixed, OpenSyscall};
use ebpftop_output::{Column, Comm, Common, KStr, Output, Record, Row, errno::errno_name};
use ebpftop_runtime::{Clock, Hook, ToolObject, embedded_object, read_record, syscall_hooks};
use opensnoop::{cli::Args, flags};
use serde::Serialize;

/// openat is everywhere; open exists on x86_64 but not on aarch64, and
/// openat2 since Linux 5.6: those two are attached where the kernel has them.
static HOOKS: &[Hook] = syscall_hooks![
    ("openat", "openat", "openat", true),
    ("openat2", "openat2", "openat2", false),
    ("open", "open", "open", false),
];

static OBJECT: ToolObject = ToolObject {
    tool: "opensnoop",
    bytes: embedded_object!("opensnoop"),
    hooks: HOOKS,
};

const COLUMNS: &[Column] = &[
    Column::left("PID", 7),
    Column::left("COMM", 16),
    Column::right("FD", 3),
    Column::right("ERR", 3),
    Column::left("PATH", 0),
];

const COLUMNS_EXTENDED: &[Column] = &[
    Column::left("PID", 7),
    Column::left("COMM", 16),
    Column::right("FD", 3),
    Column::right("ERR", 3),
    Column::left("SYSCALL", 7),
    Column::left("FLAGS", 28),
    Column::right("MODE", 4),
    Column::left("PATH", 0),
];

#[derive(Serialize)]
struct OpenRecord<'a> {
    #[serde(flatten)]
    common: Common,
    syscall: &'static str,
    ret: i64,
    fd: Option<i64>,
    errno: Option<i64>,
    error: Option<&'static str>,
    flags: u64,
    flags_str: &'a str,
    #[serde(serialize_with = "octal")]
    mode: u32,
    dfd: i32,
    path: Option<KStr<'a>>,
    #[serde(skip)]
    extended: bool,
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
struct FlagNames(HashMap<u64, String>);

impl FlagNames {
    fn get(&mut self, flags: u64) -> &str {
        if self.0.len() > 4096 {
            self.0.clear();
        }
        self.0.entry(flags).or_insert_with(|| flags::decode(flags))
    }
}

fn to_record<'a>(
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

fn run(args: Args) -> anyhow::Result<()> {
    let spec = TraceSpec {
        object: &OBJECT,
        filter: args.filter.spec(args.failed),
        output: args.output.options(),
        columns: if args.extended {
            COLUMNS_EXTENDED
        } else {
            COLUMNS
        },
        run: &args.run,
        globals: Vec::new(),
    };
    let extended = args.extended;
    let mut names = FlagNames::default();
    trace(spec, |data, clock, out: &mut Output| {
        emit_decoded(out, to_record(data, clock, &mut names, extended), data)
    })
}

fn main() -> ExitCode {
    run_main("opensnoop", |a: &Args| a.run.verbose, run)
}
