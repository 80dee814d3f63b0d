//! mountsnoop, user half: which hooks to attach, and events to records.

use std::{io::Write as _, process::ExitCode};

use ebpftop_cli::{TraceSpec, emit_decoded, run_main, trace};
use ebpftop_common::mountsnoop::{
    MntNsOffsets, MountEventFixed, MountStr, MountSyscall, STR_LARGE, STR_SMALL,
};
use ebpftop_output::{Column, Comm, Common, KStr, Output, Record, Row, errno::errno_name};
use ebpftop_runtime::{
    Clock, Hook, ToolObject, aya::GlobalData, embedded_object, field_offset, kernel_btf,
    read_record, syscall_hooks,
};
use mountsnoop::{cli::Args, flags};
use serde::Serialize;

/// mount and umount2 are everywhere (umount2's tracepoint is named
/// sys_enter_umount); the new mount API is attached where the kernel has
/// it (5.2+, mount_setattr 5.12+).
static HOOKS: &[Hook] = syscall_hooks![
    ("mount", "mount", "mount", true),
    ("umount2", "umount", "umount", true),
    ("fsopen", "fsopen", "fsopen", false),
    ("fsconfig", "fsconfig", "fsconfig", false),
    ("fsmount", "fsmount", "fsmount", false),
    ("move_mount", "move_mount", "move_mount", false),
    ("open_tree", "open_tree", "open_tree", false),
    ("fspick", "fspick", "fspick", false),
    ("mount_setattr", "mount_setattr", "mount_setattr", false),
];

static OBJECT: ToolObject = ToolObject {
    tool: "mountsnoop",
    bytes: embedded_object!("mountsnoop"),
    hooks: HOOKS,
};

/// libbpf-tools mountsnoop's columns.
const COLUMNS: &[Column] = &[
    Column::left("COMM", 16),
    Column::left("PID", 7),
    Column::left("TID", 7),
    Column::left("MNT_NS", 11),
    Column::left("CALL", 0),
];

const AT_FDCWD: i32 = -100;

/// One string argument as the kernel read it.
#[derive(Clone, Copy)]
enum Arg<'a> {
    /// A NULL pointer, or a string this syscall does not take.
    Null,
    /// The pointer could not be read (the len is -errno).
    Unreadable,
    Text {
        text: KStr<'a>,
        truncated: bool,
    },
}

impl<'a> Arg<'a> {
    fn json(self) -> Option<KStr<'a>> {
        match self {
            Arg::Text { text, .. } => Some(text),
            _ => None,
        }
    }

    /// strace style: `"text"`, `"text"...` when cut, NULL.
    fn write(self, call: &mut Vec<u8>) {
        match self {
            Arg::Null => call.extend_from_slice(b"NULL"),
            Arg::Unreadable => call.extend_from_slice(b"<unreadable>"),
            Arg::Text { text, truncated } => {
                call.push(b'"');
                call.extend_from_slice(text.0);
                call.push(b'"');
                if truncated {
                    call.extend_from_slice(b"...");
                }
            }
        }
    }
}

#[derive(Serialize)]
struct MountRecord<'a> {
    #[serde(flatten)]
    common: Common,
    syscall: &'static str,
    #[serde(serialize_with = "as_text")]
    call: Vec<u8>,
    ret: i64,
    errno: Option<i64>,
    error: Option<&'static str>,
    mnt_ns: Option<u32>,
    flags: Option<u64>,
    flags_str: Option<String>,
    source: Option<KStr<'a>>,
    target: Option<KStr<'a>>,
    fstype: Option<KStr<'a>>,
    data: Option<KStr<'a>>,
    key: Option<KStr<'a>>,
    value: Option<KStr<'a>>,
    fd: Option<i32>,
    to_fd: Option<i32>,
    cmd: Option<u32>,
    cmd_str: Option<String>,
    aux: Option<i32>,
    attr_set: Option<u64>,
    attr_set_str: Option<String>,
    attr_clr: Option<u64>,
    attr_clr_str: Option<String>,
    propagation: Option<u64>,
    propagation_str: Option<String>,
    truncated: Vec<&'static str>,
}

fn as_text<S: serde::Serializer>(b: &[u8], s: S) -> Result<S::Ok, S::Error> {
    KStr(b).serialize(s)
}

impl Record for MountRecord<'_> {
    const EVENT: &'static str = "mount";

    fn common(&self) -> &Common {
        &self.common
    }

    fn row(&self, row: &mut Row<'_>) {
        row.bytes(self.common.comm.as_bytes())
            .cell(self.common.pid)
            .cell(self.common.tid);
        match self.mnt_ns {
            Some(ns) => row.cell(ns),
            None => row.cell("-"),
        };
        row.bytes(&self.call);
    }
}

/// `AT_FDCWD` or the number.
fn fd_text(fd: i32) -> String {
    if fd == AT_FDCWD {
        "AT_FDCWD".to_string()
    } else {
        fd.to_string()
    }
}

const SLOT_NAMES: [&str; MountStr::COUNT] = ["source", "target", "fstype", "data"];

fn to_record<'a>(data: &'a [u8], clock: &Clock) -> Option<MountRecord<'a>> {
    let e: MountEventFixed = read_record(data)?;
    let tail = &data[size_of::<MountEventFixed>()..];
    // The four string slots follow, each of the small or the large size.
    let slot_size = tail.len() / MountStr::COUNT;
    if slot_size != STR_SMALL && slot_size != STR_LARGE {
        return None;
    }
    let arg = |slot: MountStr| -> Arg<'a> {
        let i = slot as usize;
        let buf = &tail[i * slot_size..(i + 1) * slot_size];
        match e.str_len[i] {
            0 => Arg::Null,
            n if n < 0 => Arg::Unreadable,
            n => Arg::Text {
                text: KStr::from_read(buf, n).unwrap_or(KStr(b"")),
                truncated: e.truncated & (1 << i) != 0,
            },
        }
    };
    let syscall = MountSyscall::from_u32(e.syscall)?;
    let (source, target, fstype, slot3) = (
        arg(MountStr::Source),
        arg(MountStr::Target),
        arg(MountStr::Fstype),
        arg(MountStr::Data),
    );
    let is_fsconfig = syscall == MountSyscall::Fsconfig;
    let flags_str = (!is_fsconfig).then(|| flags::syscall_flags(syscall, e.flags));
    let attr = matches!(syscall, MountSyscall::Fsmount | MountSyscall::MountSetattr);
    let setattr = syscall == MountSyscall::MountSetattr;

    // The call as strace would print it.
    let mut call = Vec::with_capacity(128);
    let _ = write!(call, "{}(", syscall.name());
    let f = flags_str.as_deref().unwrap_or("");
    match syscall {
        MountSyscall::Mount => {
            for a in [source, target, fstype] {
                a.write(&mut call);
                call.extend_from_slice(b", ");
            }
            let _ = write!(call, "{f}, ");
            slot3.write(&mut call);
        }
        MountSyscall::Umount => {
            target.write(&mut call);
            let _ = write!(call, ", {f}");
        }
        MountSyscall::Fsopen => {
            fstype.write(&mut call);
            let _ = write!(call, ", {f}");
        }
        MountSyscall::Fsconfig => {
            let _ = write!(call, "{}, {}, ", e.fd, flags::fsconfig_cmd(e.cmd));
            source.write(&mut call);
            call.extend_from_slice(b", ");
            slot3.write(&mut call);
            let _ = write!(call, ", {}", e.aux);
        }
        MountSyscall::Fsmount => {
            let _ = write!(call, "{}, {f}, {}", e.fd, flags::mount_attr(e.attr_set));
        }
        MountSyscall::MoveMount => {
            let _ = write!(call, "{}, ", fd_text(e.fd));
            source.write(&mut call);
            let _ = write!(call, ", {}, ", fd_text(e.to_fd));
            target.write(&mut call);
            let _ = write!(call, ", {f}");
        }
        MountSyscall::OpenTree => {
            let _ = write!(call, "{}, ", fd_text(e.fd));
            source.write(&mut call);
            let _ = write!(call, ", {f}");
        }
        MountSyscall::Fspick | MountSyscall::MountSetattr => {
            let _ = write!(call, "{}, ", fd_text(e.fd));
            target.write(&mut call);
            let _ = write!(call, ", {f}");
            if setattr {
                let _ = write!(
                    call,
                    ", {{attr_set={}, attr_clr={}, propagation={}}}",
                    flags::mount_attr(e.attr_set),
                    flags::mount_attr(e.attr_clr),
                    flags::propagation(e.propagation)
                );
            }
        }
    }
    let failed = e.ret < 0;
    let error = if failed { errno_name(-e.ret) } else { None };
    match (failed, error) {
        (true, Some(name)) => {
            let _ = write!(call, ") = -{name}");
        }
        _ => {
            let _ = write!(call, ") = {}", e.ret);
        }
    }

    let h = e.header;
    let has_fd = !matches!(
        syscall,
        MountSyscall::Mount | MountSyscall::Umount | MountSyscall::Fsopen
    );
    Some(MountRecord {
        common: Common {
            ts_ns: clock.to_unix_ns(h.ts_ns),
            pid: h.pid,
            tid: h.tid,
            comm: Comm(h.comm),
            uid: h.uid,
            cgroup_id: h.cgroup_id,
        },
        syscall: syscall.name(),
        call,
        ret: e.ret,
        errno: failed.then_some(-e.ret),
        error,
        mnt_ns: (e.mnt_ns != 0).then_some(e.mnt_ns),
        flags: (!is_fsconfig).then_some(e.flags),
        flags_str,
        source: if is_fsconfig { None } else { source.json() },
        target: target.json(),
        fstype: fstype.json(),
        data: if is_fsconfig { None } else { slot3.json() },
        key: if is_fsconfig { source.json() } else { None },
        value: if is_fsconfig { slot3.json() } else { None },
        fd: has_fd.then_some(e.fd),
        to_fd: (syscall == MountSyscall::MoveMount).then_some(e.to_fd),
        cmd: is_fsconfig.then_some(e.cmd),
        cmd_str: is_fsconfig.then(|| flags::fsconfig_cmd(e.cmd)),
        aux: is_fsconfig.then_some(e.aux),
        attr_set: attr.then_some(e.attr_set),
        attr_set_str: attr.then(|| flags::mount_attr(e.attr_set)),
        attr_clr: setattr.then_some(e.attr_clr),
        attr_clr_str: setattr.then(|| flags::mount_attr(e.attr_clr)),
        propagation: setattr.then_some(e.propagation),
        propagation_str: setattr.then(|| flags::propagation(e.propagation)),
        truncated: (0..MountStr::COUNT)
            .filter(|i| e.truncated & (1 << i) != 0)
            .map(|i| match (is_fsconfig, i) {
                (true, 0) => "key",
                (true, 3) => "value",
                _ => SLOT_NAMES[i],
            })
            .collect(),
    })
}

/// Offsets to `task->nsproxy->mnt_ns->ns.inum` from the kernel's BTF; all
/// zero (no namespace ids) when they cannot be resolved.
fn mnt_ns_offsets() -> MntNsOffsets {
    let resolve = || -> Result<MntNsOffsets, ebpftop_runtime::Error> {
        let btf = kernel_btf()?;
        Ok(MntNsOffsets {
            task_nsproxy: field_offset(btf, "task_struct", "nsproxy", 8)?,
            nsproxy_mnt_ns: field_offset(btf, "nsproxy", "mnt_ns", 8)?,
            mnt_ns_inum: field_offset(btf, "mnt_namespace", "ns.inum", 4)?,
            _pad: 0,
        })
    };
    resolve().unwrap_or_else(|e| {
        log::info!("no mount namespace ids: {e}");
        MntNsOffsets::default()
    })
}

fn run(args: Args) -> anyhow::Result<()> {
    let offsets = mnt_ns_offsets();
    let spec = TraceSpec {
        object: &OBJECT,
        filter: args.filter.spec(args.failed),
        output: args.output.options(),
        columns: COLUMNS,
        run: &args.run,
        globals: vec![("MNT_NS", GlobalData::from(&offsets))],
    };
    trace(spec, |data, clock, out: &mut Output| {
        emit_decoded(out, to_record(data, clock), data)
    })
}

fn main() -> ExitCode {
    run_main("mountsnoop", |a: &Args| a.run.verbose, run)
}
