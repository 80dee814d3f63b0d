//! sigsnoop, kernel half: `signal:signal_generate` (every signal the kernel
//! queues, in the sender's context), or with `-k` kill(2)'s entry and exit
//! tracepoints (which also see the kills that found no target).
//!
//! The sender filter, the signal set and `-x` all run before the ring
//! buffer is touched.
#![no_std]
#![no_main]

use aya_ebpf::{EbpfContext, macros::tracepoint, programs::TracePointContext};
use ebpftop_common::{
    COMM_LEN, Filter, LostReason,
    sigsnoop::{SignalConfig, SignalEvent, SignalSource, generate_layout as at, generate_result},
};
use ebpftop_ebpf::{
    EVENTS, count_lost, current_task_if_selected, fill_header, filter_has, save_syscall, submit,
    syscall_arg, take_syscall, tp_u64,
};

ebpftop_ebpf::in_flight_syscalls!(InFlight);

/// Set by user space before load (`-s`); `.rodata`.
#[unsafe(no_mangle)]
static SIGNAL_CONFIG: SignalConfig = SignalConfig::ALL;

#[inline(always)]
fn selected(sig: i32) -> bool {
    // SAFETY: a plain static, never written by programs; read whole so the
    // verifier sees constants.
    let config = unsafe { core::ptr::read_volatile(&raw const SIGNAL_CONFIG) };
    sig >= 0 && config.selects(sig as u32)
}

/// Reads an `int` of the tracepoint record at a constant `offset`.
///
/// # Safety
/// `offset` must be a 4-byte field of the record.
#[inline(always)]
unsafe fn tp_i32(ctx: &TracePointContext, offset: usize) -> i32 {
    unsafe { core::ptr::read_volatile(ctx.as_ptr().cast::<u8>().add(offset).cast::<i32>()) }
}

#[tracepoint]
pub fn signal_generate(ctx: TracePointContext) -> u32 {
    let Some(pid_tgid) = current_task_if_selected() else {
        return 0;
    };
    // SAFETY (all reads): offsets of signal_generate's record, checked
    // against its format file by user space.
    let sig = unsafe { tp_i32(&ctx, at::SIG) };
    if !selected(sig) {
        return 0;
    }
    let result = unsafe { tp_i32(&ctx, at::RESULT) };
    if result == generate_result::DELIVERED && filter_has(Filter::FAILED_ONLY) {
        return 0;
    }
    let Some(mut entry) = EVENTS.reserve::<SignalEvent>(0) else {
        count_lost(LostReason::RingBufFull);
        return 0;
    };
    // SAFETY: a reserved, writable record of our size; every field the
    // reader uses is written below.
    let ts_ns = unsafe {
        let e = &mut *entry.as_mut_ptr();
        fill_header(&mut e.header, pid_tgid);
        e.source = SignalSource::Generate as u32;
        e.sig = sig;
        e.target_pid = tp_i32(&ctx, at::PID);
        e.result = result;
        e.si_errno = tp_i32(&ctx, at::ERRNO);
        e.si_code = tp_i32(&ctx, at::CODE);
        e.group = tp_i32(&ctx, at::GROUP);
        e._pad = 0;
        // comm sits at offset 20: 4-byte loads, as tracepoint records must
        // be read at their access size's alignment.
        let mut i = 0;
        while i < COMM_LEN / 4 {
            let word = tp_i32(&ctx, at::COMM + 4 * i);
            e.target_comm[4 * i..4 * i + 4].copy_from_slice(&word.to_ne_bytes());
            i += 1;
        }
        e.header.ts_ns
    };
    submit(entry, ts_ns);
    0
}

#[tracepoint]
pub fn kill_enter(ctx: TracePointContext) -> u32 {
    // kill(pid, sig)
    // SAFETY: argument offset of syscalls:sys_enter_kill.
    let sig = unsafe { tp_u64(ctx.as_ptr(), syscall_arg(1)) } as i32;
    if selected(sig) {
        save_syscall::<InFlight, 2>(&ctx, 0);
    }
    0
}

#[tracepoint]
pub fn kill_exit(ctx: TracePointContext) -> u32 {
    let Some((saved, pid_tgid, ret)) = take_syscall::<InFlight>(&ctx) else {
        return 0;
    };
    if ret == 0 && filter_has(Filter::FAILED_ONLY) {
        return 0;
    }
    let Some(mut entry) = EVENTS.reserve::<SignalEvent>(0) else {
        count_lost(LostReason::RingBufFull);
        return 0;
    };
    // SAFETY: a reserved, writable record of our size; every field the
    // reader uses is written below.
    let ts_ns = unsafe {
        let e = &mut *entry.as_mut_ptr();
        fill_header(&mut e.header, pid_tgid);
        e.source = SignalSource::Kill as u32;
        e.sig = saved.args[1] as i32;
        e.target_pid = saved.args[0] as i32;
        e.result = ret as i32;
        e.si_errno = 0;
        e.si_code = 0;
        e.group = 0;
        e._pad = 0;
        e.target_comm = [0; COMM_LEN];
        e.header.ts_ns
    };
    submit(entry, ts_ns);
    0
}
