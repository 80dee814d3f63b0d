//! opensnoop, kernel half: syscall tracepoints on open, openat and openat2.
//!
//! Entry saves the arguments of selected threads; exit pairs them with the
//! return value and emits one event. The filter runs at entry, before any
//! copy; `-x` runs at exit, before the ring buffer is touched.
#![no_std]
#![no_main]

use aya_ebpf::{
    EbpfContext,
    helpers::generated::{bpf_get_current_pid_tgid, bpf_probe_read_user},
    macros::{map, tracepoint},
    maps::HashMap,
    programs::TracePointContext,
};
use ebpftop_common::{
    Filter, LostReason,
    opensnoop::{OpenArgs, OpenEvent, OpenSyscall, PATH_LARGE, PATH_SMALL},
};
use ebpftop_ebpf::{
    SYSCALL_RET, Written, count_lost, current_task_if_selected, emit_small_or_large, fill_header,
    filter_has, read_user_str, syscall_arg, tp_u64,
};

/// Arguments of opens in flight, by thread id.
#[map]
static IN_FLIGHT: HashMap<u32, OpenArgs> = HashMap::with_max_entries(16384, 0);

const AT_FDCWD: i32 = -100;

#[tracepoint]
pub fn open_enter(ctx: TracePointContext) -> u32 {
    // open(filename, flags, mode)
    let p = ctx.as_ptr();
    // SAFETY: argument offsets of syscalls:sys_enter_open.
    let (filename, flags, mode) = unsafe {
        (
            tp_u64(p, syscall_arg(0)),
            tp_u64(p, syscall_arg(1)),
            tp_u64(p, syscall_arg(2)),
        )
    };
    save_args(OpenSyscall::Open, AT_FDCWD, filename, flags, mode as u32);
    0
}

#[tracepoint]
pub fn openat_enter(ctx: TracePointContext) -> u32 {
    // openat(dfd, filename, flags, mode)
    let p = ctx.as_ptr();
    // SAFETY: argument offsets of syscalls:sys_enter_openat.
    let (dfd, filename, flags, mode) = unsafe {
        (
            tp_u64(p, syscall_arg(0)),
            tp_u64(p, syscall_arg(1)),
            tp_u64(p, syscall_arg(2)),
            tp_u64(p, syscall_arg(3)),
        )
    };
    save_args(
        OpenSyscall::OpenAt,
        dfd as i32,
        filename,
        flags,
        mode as u32,
    );
    0
}

/// `struct open_how`'s first two fields (include/uapi/linux/openat2.h).
#[repr(C)]
struct OpenHowHead {
    flags: u64,
    mode: u64,
}

#[tracepoint]
pub fn openat2_enter(ctx: TracePointContext) -> u32 {
    // openat2(dfd, filename, how, usize)
    let p = ctx.as_ptr();
    // SAFETY: argument offsets of syscalls:sys_enter_openat2.
    let (dfd, filename, how) = unsafe {
        (
            tp_u64(p, syscall_arg(0)),
            tp_u64(p, syscall_arg(1)),
            tp_u64(p, syscall_arg(2)),
        )
    };
    let Some(pid_tgid) = current_task_if_selected() else {
        return 0;
    };
    let mut head = OpenHowHead { flags: 0, mode: 0 };
    // SAFETY: reads 16 bytes of user memory into `head`; a fault leaves zeros.
    unsafe {
        bpf_probe_read_user(
            (&raw mut head).cast(),
            size_of::<OpenHowHead>() as u32,
            how as *const core::ffi::c_void,
        )
    };
    store(
        pid_tgid,
        OpenArgs {
            filename,
            flags: head.flags,
            mode: head.mode as u32,
            dfd: dfd as i32,
            syscall: OpenSyscall::OpenAt2 as u32,
            _pad: 0,
        },
    );
    0
}

#[inline(always)]
fn save_args(syscall: OpenSyscall, dfd: i32, filename: u64, flags: u64, mode: u32) {
    let Some(pid_tgid) = current_task_if_selected() else {
        return;
    };
    store(
        pid_tgid,
        OpenArgs {
            filename,
            flags,
            mode,
            dfd,
            syscall: syscall as u32,
            _pad: 0,
        },
    );
}

#[inline(always)]
fn store(pid_tgid: u64, args: OpenArgs) {
    let tid = pid_tgid as u32;
    if IN_FLIGHT.insert(tid, args, 0).is_err() {
        count_lost(LostReason::InFlightFull);
    }
}

ebpftop_ebpf::syscall_exit_programs!(on_exit: open_exit, openat_exit, openat2_exit);

#[inline(always)]
fn on_exit(ctx: &TracePointContext) {
    // SAFETY: helper call without arguments.
    let pid_tgid = unsafe { bpf_get_current_pid_tgid() };
    let tid = pid_tgid as u32;
    // SAFETY: the value is copied out before the entry is removed.
    let Some(args) = (unsafe { IN_FLIGHT.get(tid) }).copied() else {
        return;
    };
    let _ = IN_FLIGHT.remove(tid);
    // SAFETY: `ret` offset of syscalls:sys_exit_*.
    let ret = unsafe { tp_u64(ctx.as_ptr(), SYSCALL_RET) } as i64;
    if ret >= 0 && filter_has(Filter::FAILED_ONLY) {
        return;
    }
    // Most paths fit the small record; one that does not is read again
    // into a PATH_MAX record rather than cut.
    emit_small_or_large(
        |e: *mut OpenEvent<PATH_SMALL>| write(e, &args, ret, pid_tgid),
        |e: *mut OpenEvent<PATH_LARGE>| write(e, &args, ret, pid_tgid),
    );
}

#[inline(always)]
fn write<const N: usize>(
    event: *mut OpenEvent<N>,
    args: &OpenArgs,
    ret: i64,
    pid_tgid: u64,
) -> Written {
    // SAFETY: `event` points at a reserved, writable record of our size;
    // every field the reader uses is written below.
    unsafe {
        let path = read_user_str((*event).path.as_mut_ptr(), N, args.filename);
        if N == PATH_SMALL && path.truncated {
            return Written::NeedsLarger { ts_ns: 0 };
        }
        let fixed = &mut (*event).fixed;
        fill_header(&mut fixed.header, pid_tgid);
        fixed.ret = ret;
        fixed.flags = args.flags;
        fixed.mode = args.mode;
        fixed.dfd = args.dfd;
        fixed.syscall = args.syscall;
        fixed.path_len = path.len;
        Written::Complete {
            ts_ns: fixed.header.ts_ns,
        }
    }
}
