//! statsnoop, kernel half: syscall tracepoints on the stat and access
//! families.
//!
//! Entry saves the arguments of selected threads (the filter runs there,
//! before any copy); exit reads the path through the saved pointer, now
//! that the kernel has read it too, and emits one event. `-x` runs at
//! exit, before the ring buffer is touched.
#![no_std]
#![no_main]

use aya_ebpf::programs::TracePointContext;
use ebpftop_common::{
    Filter,
    statsnoop::{PATH_LARGE, PATH_SMALL, StatEvent, StatSyscall},
};
use ebpftop_ebpf::{
    SavedSyscall, Written, emit_small_or_large, fill_header, filter_has, read_user_str,
    take_syscall,
};

const AT_FDCWD: i32 = -100;

ebpftop_ebpf::in_flight_syscalls!(InFlight);

ebpftop_ebpf::save_syscall_programs! {
    InFlight;
    stat_enter: 1 => StatSyscall::Stat;
    lstat_enter: 1 => StatSyscall::Lstat;
    fstatat_enter: 4 => StatSyscall::Fstatat;
    statx_enter: 4 => StatSyscall::Statx;
    access_enter: 2 => StatSyscall::Access;
    faccessat_enter: 3 => StatSyscall::Faccessat;
    faccessat2_enter: 4 => StatSyscall::Faccessat2;
}

ebpftop_ebpf::syscall_exit_programs!(on_exit: stat_exit, lstat_exit, fstatat_exit, statx_exit, access_exit, faccessat_exit, faccessat2_exit);

/// The saved arguments in one shape: (dfd, path pointer, flags, mode).
#[inline(always)]
fn decode_args(s: &SavedSyscall) -> (i32, u64, u32, u32) {
    let a = &s.args;
    match StatSyscall::from_u32(s.tag) {
        Some(StatSyscall::Stat | StatSyscall::Lstat) => (AT_FDCWD, a[0], 0, 0),
        Some(StatSyscall::Fstatat) => (a[0] as i32, a[1], a[3] as u32, 0),
        // statx(dfd, path, flags, mask, buf): the mask goes in `mode`.
        Some(StatSyscall::Statx) => (a[0] as i32, a[1], a[2] as u32, a[3] as u32),
        Some(StatSyscall::Access) => (AT_FDCWD, a[0], 0, a[1] as u32),
        Some(StatSyscall::Faccessat) => (a[0] as i32, a[1], 0, a[2] as u32),
        Some(StatSyscall::Faccessat2) => (a[0] as i32, a[1], a[3] as u32, a[2] as u32),
        None => (AT_FDCWD, 0, 0, 0),
    }
}

#[inline(always)]
fn on_exit(ctx: &TracePointContext) {
    let Some((saved, pid_tgid, ret)) = take_syscall::<InFlight>(ctx) else {
        return;
    };
    if ret >= 0 && filter_has(Filter::FAILED_ONLY) {
        return;
    }
    emit_small_or_large(
        |e: *mut StatEvent<PATH_SMALL>| write(e, &saved, pid_tgid, ret),
        |e: *mut StatEvent<PATH_LARGE>| write(e, &saved, pid_tgid, ret),
    );
}

#[inline(always)]
fn write<const N: usize>(
    event: *mut StatEvent<N>,
    saved: &SavedSyscall,
    pid_tgid: u64,
    ret: i64,
) -> Written {
    let (dfd, path_ptr, flags, mode) = decode_args(saved);
    // SAFETY: `event` points at a reserved, writable record of our size;
    // every field the reader uses is written below.
    unsafe {
        let path = read_user_str((*event).path.as_mut_ptr(), N, path_ptr);
        if path.truncated && N == PATH_SMALL {
            return Written::NeedsLarger { ts_ns: 0 };
        }
        let fixed = &mut (*event).fixed;
        fill_header(&mut fixed.header, pid_tgid);
        fixed.ret = ret;
        fixed.flags = flags;
        fixed.mode = mode;
        fixed.dfd = dfd;
        fixed.syscall = saved.tag;
        fixed.path_len = path.len;
        fixed.path_truncated = path.truncated as u32;
        Written::Complete {
            ts_ns: fixed.header.ts_ns,
        }
    }
}
