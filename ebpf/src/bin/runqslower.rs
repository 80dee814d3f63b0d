//! runqslower, kernel half: each run-queue wait (wakeup or preemption to
//! on-CPU, timed as runqlat does) of at least the threshold is one record
//! in the ring buffer, with the task that left the CPU for it.
#![no_std]
#![no_main]

use aya_ebpf::{
    EbpfContext,
    helpers::generated::{
        bpf_get_current_comm, bpf_get_current_pid_tgid, bpf_get_smp_processor_id,
        bpf_probe_read_kernel,
    },
    macros::{btf_tracepoint, map, raw_tracepoint, tracepoint},
    programs::{BtfTracePointContext, RawTracePointContext, TracePointContext},
};
use ebpftop_common::{
    COMM_LEN, LostReason,
    runqslower::{RunqSlowEvent, RunqslowerConfig},
    sched::{
        MAX_QUEUED, TP_SWITCH_NEXT_COMM, TP_SWITCH_NEXT_PID, TP_SWITCH_PREV_STATE, TP_WAKEUP_PID,
    },
};
use ebpftop_ebpf::{
    EVENTS, count_lost,
    sched::{
        Direct, Probe, Queued, RAW_SWITCH_NEXT, RAW_SWITCH_PREV_STATE, TaskRead,
        classic_prev_runnable, now, read_task_comm, switched_in, switched_out_runnable,
        task_cgroup_id, task_uid, tgid_of, tid_of, woken, woken_tid,
    },
    submit, tp_u64,
};

/// When each queued thread entered its run queue.
#[map]
static QUEUED: Queued = Queued::with_max_entries(MAX_QUEUED, 0);

#[unsafe(no_mangle)]
static RUNQSLOWER: RunqslowerConfig = RunqslowerConfig::DEFAULT;

#[btf_tracepoint(function = "sched_wakeup")]
pub fn runqslower_wakeup_btf(ctx: BtfTracePointContext) -> u32 {
    // TP_PROTO(struct task_struct *p)
    woken::<Direct>(&QUEUED, ctx.arg::<u64>(0));
    0
}

#[btf_tracepoint(function = "sched_wakeup_new")]
pub fn runqslower_wakeup_new_btf(ctx: BtfTracePointContext) -> u32 {
    woken::<Direct>(&QUEUED, ctx.arg::<u64>(0));
    0
}

#[raw_tracepoint(tracepoint = "sched_wakeup")]
pub fn runqslower_wakeup_raw(ctx: RawTracePointContext) -> u32 {
    woken::<Probe>(&QUEUED, ctx.arg::<u64>(0));
    0
}

#[raw_tracepoint(tracepoint = "sched_wakeup_new")]
pub fn runqslower_wakeup_new_raw(ctx: RawTracePointContext) -> u32 {
    woken::<Probe>(&QUEUED, ctx.arg::<u64>(0));
    0
}

#[tracepoint]
pub fn runqslower_wakeup(ctx: TracePointContext) -> u32 {
    // SAFETY: `pid` (4 bytes, then `prio`) of sched:sched_wakeup(_new),
    // checked at start-up.
    let tid = unsafe { tp_u64(ctx.as_ptr(), TP_WAKEUP_PID) } as u32;
    woken_tid(&QUEUED, tid);
    0
}

/// Where the switched-in task's name comes from.
enum Next {
    /// A `task_struct` (raw tracepoint).
    Task(u64),
    /// A classic record's `next_comm` (the process id is not in it).
    Record(*const u8),
}

#[btf_tracepoint(function = "sched_switch")]
pub fn runqslower_switch_btf(ctx: BtfTracePointContext) -> u32 {
    let ts = now();
    let prev_state = ctx.arg::<u64>(RAW_SWITCH_PREV_STATE) as u32;
    let next: u64 = ctx.arg(RAW_SWITCH_NEXT);
    switched::<Direct>(
        ts,
        prev_state == 0,
        Next::Task(next),
        tid_of::<Direct>(next),
    );
    0
}

#[raw_tracepoint(tracepoint = "sched_switch")]
pub fn runqslower_switch_raw(ctx: RawTracePointContext) -> u32 {
    let ts = now();
    let prev_state = ctx.arg::<u64>(RAW_SWITCH_PREV_STATE) as u32;
    let next: u64 = ctx.arg(RAW_SWITCH_NEXT);
    switched::<Probe>(ts, prev_state == 0, Next::Task(next), tid_of::<Probe>(next));
    0
}

#[tracepoint]
pub fn runqslower_switch(ctx: TracePointContext) -> u32 {
    let ts = now();
    // SAFETY: offsets of sched:sched_switch, checked at start-up.
    let (state, next_tid) = unsafe {
        (
            tp_u64(ctx.as_ptr(), TP_SWITCH_PREV_STATE),
            tp_u64(ctx.as_ptr(), TP_SWITCH_NEXT_PID) as u32,
        )
    };
    // SAFETY: next_comm lies inside the record.
    let comm = unsafe { ctx.as_ptr().cast::<u8>().add(TP_SWITCH_NEXT_COMM) };
    switched::<Probe>(
        ts,
        classic_prev_runnable(state),
        Next::Record(comm),
        next_tid,
    );
    0
}

#[inline(always)]
fn switched<R: TaskRead>(ts: u64, prev_runnable: bool, next: Next, next_tid: u32) {
    if prev_runnable {
        switched_out_runnable(&QUEUED, ts);
    }
    let Some(t0) = switched_in(&QUEUED, next_tid) else {
        return;
    };
    let delta = ts.saturating_sub(t0);
    // SAFETY: a plain static, set before load and never written here.
    if delta < unsafe { core::ptr::read_volatile(&raw const RUNQSLOWER.min_ns) } {
        return;
    }
    let Some(mut entry) = EVENTS.reserve::<RunqSlowEvent>(0) else {
        count_lost(LostReason::RingBufFull);
        return;
    };
    let e = entry.as_mut_ptr();
    // SAFETY: `e` is our reservation, every field written before submit;
    // the helpers write at most COMM_LEN bytes into the comm arrays.
    unsafe {
        (*e).ts_ns = ts;
        (*e).delta_ns = delta;
        (*e).tid = next_tid;
        match next {
            Next::Task(task) => {
                (*e).pid = tgid_of::<R>(task);
                (*e).cgroup_id = task_cgroup_id::<R>(task);
                (*e).uid = task_uid::<R>(task);
                read_task_comm(task, (&raw mut (*e).comm).cast());
            }
            Next::Record(comm) => {
                (*e).pid = 0;
                (*e).cgroup_id = 0;
                (*e).uid = u32::MAX;
                bpf_probe_read_kernel((&raw mut (*e).comm).cast(), COMM_LEN as u32, comm.cast());
            }
        }
        // At sched_switch the current task is the one leaving the CPU.
        let pid_tgid = bpf_get_current_pid_tgid();
        (*e).prev_tid = pid_tgid as u32;
        (*e).prev_pid = (pid_tgid >> 32) as u32;
        bpf_get_current_comm((&raw mut (*e).prev_comm).cast(), COMM_LEN as u32);
        (*e).cpu = bpf_get_smp_processor_id();
    }
    submit(entry, ts);
}
