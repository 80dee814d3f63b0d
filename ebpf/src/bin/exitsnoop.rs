//! exitsnoop, kernel half: `sched:sched_process_exit`, which runs in the
//! exiting thread after `exit_code` is set and before its parent is told.
//!
//! The filter runs first, then process-or-thread and `-x`, all before the
//! ring buffer is touched.
#![no_std]
#![no_main]

use aya_ebpf::{EbpfContext, macros::tracepoint, programs::TracePointContext};
use ebpftop_common::{
    Filter, LostReason,
    exitsnoop::{ExitConfig, ExitEvent, GROUP_DEAD_OFFSET},
};
use ebpftop_ebpf::{
    EVENTS, count_lost, current_task, current_task_if_selected, fill_header, filter_has, submit,
    task_exit_code, task_group_leader, task_ppid, task_start_time,
};

/// Set by user space before load; `.rodata`, so the verifier prunes the
/// mode that is off.
#[unsafe(no_mangle)]
static EXIT_CONFIG: ExitConfig = ExitConfig::DEFAULT;

macro_rules! config {
    ($field:ident) => {
        // SAFETY: a plain static, never written by programs.
        unsafe { core::ptr::read_volatile(&raw const EXIT_CONFIG.$field) }
    };
}

#[tracepoint]
pub fn sched_process_exit(ctx: TracePointContext) -> u32 {
    let Some(pid_tgid) = current_task_if_selected() else {
        return 0;
    };
    let threads = config!(threads) != 0;
    // A process ends with its last live thread, which is not always the
    // leader (the leader may pthread_exit first): that thread's exit is
    // the process's, the one its parent's wait() sees. Kernels before the
    // tracepoint had `group_dead` only let us wait for the leader.
    let process_ended = if config!(process_end) == ExitConfig::GROUP_DEAD_FIELD {
        // SAFETY: user space checked `bool group_dead` at this offset of
        // sched_process_exit's record.
        let word =
            unsafe { core::ptr::read_volatile(ctx.as_ptr().cast::<u8>().add(GROUP_DEAD_OFFSET)) };
        word != 0
    } else {
        (pid_tgid >> 32) as u32 == pid_tgid as u32
    };
    if !threads && !process_ended {
        return 0;
    }
    let task = current_task();
    let exit_code = task_exit_code(task);
    if exit_code == 0 && filter_has(Filter::FAILED_ONLY) {
        return 0;
    }
    // A process's age counts from its leader's start (exec by another
    // thread copies the leader's start_time to it).
    let start_ns = if threads {
        task_start_time(task)
    } else {
        task_start_time(task_group_leader(task))
    };
    let Some(mut entry) = EVENTS.reserve::<ExitEvent>(0) else {
        count_lost(LostReason::RingBufFull);
        return 0;
    };
    // SAFETY: a reserved, writable record of our size; every field the
    // reader uses is written below.
    let ts_ns = unsafe {
        let e = &mut *entry.as_mut_ptr();
        fill_header(&mut e.header, pid_tgid);
        e.exit_code = exit_code;
        e.ppid = task_ppid(task);
        e.start_ns = start_ns;
        e.process_ended = process_ended as u32;
        e._pad = 0;
        e.header.ts_ns
    };
    submit(entry, ts_ns);
    0
}
