//! statsnoop, user half: which hooks to attach, and events to records.

use std::process::ExitCode;

use ebpftop_cli::{TraceSpec, emit_decoded, run_main, trace};
use ebpftop_common::statsnoop::{StatEventFixed, StatSyscall};
use ebpftop_output::{
    Column, Comm, Common, KStr, Output, Record, Row, errno::errno_name, flags::at_flags,
};
use ebpftop_runtime::{Clock, Hook, ToolObject, embedded_object, read_record, syscall_hooks};
use serde::Serialize;
use statsnoop::{cli::Args, flags};

/// newfstatat is on every 64-bit architecture (and is what glibc's stat
/// calls); the rest are attached where the kernel has them: aarch64 has no
/// newstat, newlstat or access, and statx and faccessat2 are newer.
static HOOKS: &[Hook] = syscall_hooks![
    ("newfstatat", "fstatat", "newfstatat", true),
    ("statx", "statx", "statx", false),
    ("newstat", "stat", "newstat", false),
    ("newlstat", "lstat", "newlstat", false),
    ("access", "access", "access", false),
    ("faccessat", "faccessat", "faccessat", false),
    ("faccessat2", "faccessat2", "faccessat2", false),
];

static OBJECT: ToolObject = ToolObject {
    tool: "statsnoop",
    bytes: embedded_object!("statsnoop"),
    hooks: HOOKS,
};

/// libbpf-tools statsnoop's columns.
const COLUMNS: &[Column] = &[
    Column::left("PID", 7),
    Column::left("COMM", 16),
    Column::right("RET", 4),
    Column::right("ERR", 4),
    Column::left("PATH", 0),
];

const COLUMNS_EXTENDED: &[Column] = &[
    Column::left("PID", 7),
    Column::left("COMM", 16),
    Column::right("RET", 4),
    Column::right("ERR", 4),
    Column::left("SYSCALL", 10),
    Column::right("DFD", 8),
    Column::left("FLAGS", 19),
    Column::left("MODE", 17),
    Column::left("PATH", 0),
];

const AT_FDCWD: i32 = -100;

#[derive(Serialize)]
struct StatRecord<'a> {
    #[serde(flatten)]
    common: Common,
    syscall: &'static str,
    ret: i64,
    errno: Option<i64>,
    error: Option<&'static str>,
    dfd: Option<i32>,
    flags: Option<u32>,
    flags_str: Option<String>,
    mode: Option<u32>,
    mode_str: Option<String>,
    mask: Option<u32>,
    mask_str: Option<String>,
    path: Option<KStr<'a>>,
    path_truncated: bool,
    #[serde(skip)]
    extended: bool,
}

impl Record for StatRecord<'_> {
    const EVENT: &'static str = "stat";

    fn common(&self) -> &Common {
        &self.common
    }

    fn row(&self, row: &mut Row<'_>) {
        // As libbpf-tools prints it: RET -1 and ERR errno on failure.
        row.cell(self.common.pid)
            .bytes(self.common.comm.as_bytes())
            .cell(if self.ret < 0 { -1 } else { self.ret })
            .cell(self.errno.unwrap_or(0));
        if self.extended {
            row.cell(self.syscall);
            match self.dfd {
                Some(AT_FDCWD) => row.cell("AT_FDCWD"),
                Some(fd) => row.cell(fd),
                None => row.cell("-"),
            };
            row.cell(self.flags_str.as_deref().unwrap_or("-"));
            let mode = self.mode_str.as_deref().or(self.mask_str.as_deref());
            row.cell(mode.unwrap_or("-"));
        }
        match self.path {
            Some(p) if self.path_truncated => row.bytes(&[p.0, b"..."].concat()),
            Some(p) => row.bytes(p.0),
            None => row.cell("<unreadable>"),
        };
    }
}

fn to_record<'a>(data: &'a [u8], clock: &Clock, extended: bool) -> Option<StatRecord<'a>> {
    let e: StatEventFixed = read_record(data)?;
    let tail = &data[size_of::<StatEventFixed>()..];
    let h = e.header;
    let failed = e.ret < 0;
    let syscall = StatSyscall::from_u32(e.syscall)?;
    let has_flags = matches!(
        syscall,
        StatSyscall::Fstatat | StatSyscall::Statx | StatSyscall::Faccessat2
    );
    let is_statx = syscall == StatSyscall::Statx;
    Some(StatRecord {
        common: Common {
            ts_ns: clock.to_unix_ns(h.ts_ns),
            pid: h.pid,
            tid: h.tid,
            comm: Comm(h.comm),
            uid: h.uid,
            cgroup_id: h.cgroup_id,
        },
        syscall: syscall.name(),
        ret: e.ret,
        errno: failed.then_some(-e.ret),
        error: if failed { errno_name(-e.ret) } else { None },
        dfd: syscall.has_dfd().then_some(e.dfd),
        flags: has_flags.then_some(e.flags),
        flags_str: has_flags.then(|| at_flags(e.flags as u64, syscall.is_access())),
        mode: syscall.is_access().then_some(e.mode),
        mode_str: syscall.is_access().then(|| flags::access_mode(e.mode)),
        mask: is_statx.then_some(e.mode),
        mask_str: is_statx.then(|| flags::statx_mask(e.mode)),
        path: KStr::from_read(tail, e.path_len),
        path_truncated: e.path_truncated != 0,
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
    trace(spec, |data, clock, out: &mut Output| {
        emit_decoded(out, to_record(data, clock, extended), data)
    })
}

fn main() -> ExitCode {
    run_main("statsnoop", |a: &Args| a.run.verbose, run)
}
