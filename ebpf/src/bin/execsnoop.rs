//! execsnoop, kernel half: syscall tracepoints on execve and execveat.
//!
//! Design: two ring buffer records per exec, paired by user space. The
//! entry record carries the file name and argv, which must be read at entry
//! (a successful exec replaces the memory they live in); the exit record
//! carries the result and the new comm. The alternative, building the
//! event in a map at entry and sending it at exit, would need a map value
//! per exec in flight as large as the largest argv (tens of KiB each), and
//! a per-CPU scratch value cannot exceed 32 KiB; records straight in the
//! ring cost nothing while no exec is in flight. A small in-flight map
//! tells the exit which execs the filter selected (the comm filter cannot
//! be asked again after the exec changed the comm).
//!
//! argv is read into a record whose text area fits most execs; one that
//! does not fit is discarded and read again into a record of the largest
//! size, as opensnoop does with paths.
#![no_std]
#![no_main]

use aya_ebpf::{
    EbpfContext,
    helpers::generated::{bpf_get_current_pid_tgid, bpf_probe_read_user, bpf_probe_read_user_str},
    macros::{map, tracepoint},
    maps::HashMap,
    programs::TracePointContext,
};
use ebpftop_common::{
    LostReason,
    execsnoop::{
        ExecConfig, ExecEntry, ExecExit, KIND_ENTRY, KIND_EXIT, TEXT_LARGE, TEXT_SMALL, entry_flags,
    },
};
use ebpftop_ebpf::{
    EVENTS, SYSCALL_RET, count_lost, current_task, current_task_if_selected, fill_header, submit,
    syscall_arg, task_ppid, tp_u64,
};

/// Set by user space before load (`--max-args`, `--max-bytes`).
#[unsafe(no_mangle)]
static EXEC_CONFIG: ExecConfig = ExecConfig::DEFAULT;

/// Execs in flight that the filter selected: thread id -> process id.
#[map]
static IN_FLIGHT: HashMap<u32, u32> = HashMap::with_max_entries(16384, 0);

/// The same, process id -> thread id: a thread other than the leader that
/// execs successfully returns as the leader, with the leader's thread id.
#[map]
static IN_FLIGHT_BY_PID: HashMap<u32, u32> = HashMap::with_max_entries(16384, 0);

/// Turns of the read loop: one per argument, one per further 4 KiB of a
/// long argument, and the file name.
const MAX_TURNS: u32 = ebpftop_common::execsnoop::ARGS_COUNT_MAX
    + (ebpftop_common::execsnoop::ARGS_BYTES_MAX / 4096) as u32
    + 2;

#[tracepoint]
pub fn execve_enter(ctx: TracePointContext) -> u32 {
    // execve(filename, argv, envp)
    let p = ctx.as_ptr();
    // SAFETY: argument offsets of syscalls:sys_enter_execve.
    let (filename, argv) = unsafe { (tp_u64(p, syscall_arg(0)), tp_u64(p, syscall_arg(1))) };
    on_enter(filename, argv, 0);
    0
}

#[tracepoint]
pub fn execveat_enter(ctx: TracePointContext) -> u32 {
    // execveat(dfd, filename, argv, envp, flags)
    let p = ctx.as_ptr();
    // SAFETY: argument offsets of syscalls:sys_enter_execveat.
    let (filename, argv) = unsafe { (tp_u64(p, syscall_arg(1)), tp_u64(p, syscall_arg(2))) };
    on_enter(filename, argv, entry_flags::EXECVEAT);
    0
}

#[inline(always)]
fn on_enter(filename: u64, argv: u64, flags: u32) {
    let Some(pid_tgid) = current_task_if_selected() else {
        return;
    };
    let (pid, tid) = ((pid_tgid >> 32) as u32, pid_tgid as u32);
    if IN_FLIGHT.insert(tid, pid, 0).is_err() || IN_FLIGHT_BY_PID.insert(pid, tid, 0).is_err() {
        let _ = IN_FLIGHT.remove(tid);
        count_lost(LostReason::InFlightFull);
        return;
    }
    let ppid = task_ppid(current_task());
    if emit_entry::<TEXT_SMALL>(filename, argv, flags, ppid, pid_tgid) == Read::DidNotFit {
        emit_entry::<TEXT_LARGE>(filename, argv, flags, ppid, pid_tgid);
    }
}

#[derive(PartialEq, Eq)]
enum Read {
    Done,
    DidNotFit,
}

/// Reads one string, or the next piece of a long one, per turn. `CHUNK`
/// bytes are read at a time: a constant size is what the verifier needs to
/// bound the write, and `off <= N - CHUNK` keeps it inside the record.
#[inline(always)]
fn emit_entry<const N: usize>(
    filename: u64,
    argv: u64,
    flags: u32,
    ppid: u32,
    pid_tgid: u64,
) -> Read {
    let small = N == TEXT_SMALL;
    let chunk: usize = if small { N / 2 } else { 4096 };
    let Some(mut entry) = EVENTS.reserve::<ExecEntry<N>>(0) else {
        count_lost(LostReason::RingBufFull);
        return Read::Done;
    };
    let event = entry.as_mut_ptr();
    // SAFETY: globals set before load and never written by programs.
    let (max_args, max_bytes) = unsafe {
        (
            core::ptr::read_volatile(&raw const EXEC_CONFIG.max_args),
            core::ptr::read_volatile(&raw const EXEC_CONFIG.max_bytes) as usize,
        )
    };
    // SAFETY: `event` points at a reserved, writable record of our size.
    // Loop state lives in the record, read and written volatile (see
    // `ExecEntryFixed::cursor`); every offset is checked before use.
    unsafe {
        let fixed = &raw mut (*event).fixed;
        let text = (&raw mut (*event).text).cast::<u8>();
        let flen = bpf_probe_read_user_str(text.cast(), chunk as u32, filename as *const _);
        if small && flen == chunk as i64 {
            entry.discard(0);
            return Read::DidNotFit;
        }
        let mut f = flags;
        let flen = if flen < 0 {
            f |= entry_flags::FAULT;
            0
        } else {
            flen as usize
        };
        core::ptr::write_volatile(&raw mut (*fixed).filename_len, flen as u32);
        core::ptr::write_volatile(&raw mut (*fixed).text_len, flen as u32);
        core::ptr::write_volatile(&raw mut (*fixed).argc, 0);
        core::ptr::write_volatile(&raw mut (*fixed).cursor, 0);
        core::ptr::write_volatile(&raw mut (*fixed).flags, f);
        let mut turn = 0;
        while turn < MAX_TURNS {
            turn += 1;
            let off = core::ptr::read_volatile(&raw const (*fixed).text_len) as usize;
            let mut cursor = core::ptr::read_volatile(&raw const (*fixed).cursor);
            let argc = core::ptr::read_volatile(&raw const (*fixed).argc);
            if cursor == 0 {
                let mut next: u64 = 0;
                let at = argv + 8 * u64::from(argc);
                if bpf_probe_read_user((&raw mut next).cast(), 8, at as *const _) < 0 {
                    set_flag(fixed, entry_flags::FAULT);
                    break;
                }
                if next == 0 {
                    break;
                }
                if argc >= max_args {
                    set_flag(fixed, entry_flags::TRUNC_COUNT);
                    break;
                }
                cursor = next;
            }
            if off >= flen + max_bytes {
                set_flag(fixed, entry_flags::TRUNC_BYTES);
                break;
            }
            if off > N - chunk {
                if small {
                    entry.discard(0);
                    return Read::DidNotFit;
                }
                set_flag(fixed, entry_flags::TRUNC_BYTES);
                break;
            }
            let n = bpf_probe_read_user_str(text.add(off).cast(), chunk as u32, cursor as *const _);
            if n <= 0 {
                set_flag(fixed, entry_flags::FAULT);
                break;
            }
            let n = n as usize;
            if n == chunk {
                // Possibly cut: the next turn overwrites the NUL with the
                // rest of this string.
                core::ptr::write_volatile(&raw mut (*fixed).text_len, (off + n - 1) as u32);
                core::ptr::write_volatile(&raw mut (*fixed).cursor, cursor + n as u64 - 1);
            } else {
                core::ptr::write_volatile(&raw mut (*fixed).text_len, (off + n) as u32);
                core::ptr::write_volatile(&raw mut (*fixed).cursor, 0);
                core::ptr::write_volatile(&raw mut (*fixed).argc, argc + 1);
            }
        }
        (*fixed).kind = KIND_ENTRY;
        (*fixed).ppid = ppid;
        fill_header(&mut (*fixed).header, pid_tgid);
    }
    // SAFETY: the header was filled above.
    let now = unsafe { (*event).fixed.header.ts_ns };
    submit(entry, now);
    Read::Done
}

#[inline(always)]
unsafe fn set_flag(fixed: *mut ebpftop_common::execsnoop::ExecEntryFixed, flag: u32) {
    // SAFETY: `fixed` is the caller's reserved record.
    unsafe {
        let f = core::ptr::read_volatile(&raw const (*fixed).flags);
        core::ptr::write_volatile(&raw mut (*fixed).flags, f | flag);
    }
}

#[tracepoint]
pub fn execve_exit(ctx: TracePointContext) -> u32 {
    on_exit(&ctx);
    0
}

#[tracepoint]
pub fn execveat_exit(ctx: TracePointContext) -> u32 {
    on_exit(&ctx);
    0
}

#[inline(always)]
fn on_exit(ctx: &TracePointContext) {
    // SAFETY: helper call without arguments.
    let pid_tgid = unsafe { bpf_get_current_pid_tgid() };
    let (pid, tid) = ((pid_tgid >> 32) as u32, pid_tgid as u32);
    // SAFETY (map reads): values are copied out before any removal.
    if unsafe { IN_FLIGHT.get(tid) }.is_some() {
        let _ = IN_FLIGHT.remove(tid);
        if unsafe { IN_FLIGHT_BY_PID.get(pid) }.copied() == Some(tid) {
            let _ = IN_FLIGHT_BY_PID.remove(pid);
        }
    } else if let Some(entry_tid) = unsafe { IN_FLIGHT_BY_PID.get(pid) }.copied() {
        // A non-leader thread's exec, finished as the leader.
        let _ = IN_FLIGHT.remove(entry_tid);
        let _ = IN_FLIGHT_BY_PID.remove(pid);
    } else {
        return;
    }
    let Some(mut entry) = EVENTS.reserve::<ExecExit>(0) else {
        count_lost(LostReason::RingBufFull);
        return;
    };
    let event = entry.as_mut_ptr();
    // SAFETY: a reserved, writable record of our size, filled whole.
    unsafe {
        (*event).kind = KIND_EXIT;
        (*event)._pad = 0;
        (*event).ret = tp_u64(ctx.as_ptr(), SYSCALL_RET) as i64;
        fill_header(&mut (*event).header, pid_tgid);
    }
    // SAFETY: the header was filled above.
    let now = unsafe { (*event).header.ts_ns };
    submit(entry, now);
}
