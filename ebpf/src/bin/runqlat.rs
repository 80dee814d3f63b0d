//! runqlat, kernel half: each task's run-queue wait, from the moment it
//! becomes runnable (woken, new, or preempted while still runnable) to the
//! `sched_switch` that puts it on a CPU, counted into log-linear histograms
//! in the kernel: a per-CPU system-wide one always, and one per process,
//! thread, cgroup or pid namespace when asked. User space reads them once
//! per interval.
//!
//! `--preemptors` also attributes each wait to whoever held the CPU
//! meanwhile. Each CPU keeps a ring of its last [`SLICES`] run slices
//! (start, end, group of the task that ran; consecutive slices of one group
//! merged). When a queued task is switched in, every slice overlapping its
//! wait adds the overlap to (its group, the slice's group). A wait longer
//! than the ring covers is attributed only for its recent part (the report
//! shows the rest as unattributed); a task that waited on one CPU and was
//! migrated to another is attributed against the CPU it ran on. The work is
//! bounded: one ring walk of [`SLICES`] entries per switch-in.
//!
//! tp_btf programs are preferred (no trace record is built, and task
//! fields are direct loads), raw tracepoints next (fields through
//! `bpf_probe_read_kernel`); the classic tracepoints are the fallback for
//! the modes that need only thread ids.
#![no_std]
#![no_main]
// The BPF target has no atomic types with fetch_add; the intrinsic compiles
// to BPF's atomic add.

use aya_ebpf::{
    EbpfContext,
    bindings::BPF_F_NO_PREALLOC,
    helpers::generated::bpf_get_current_cgroup_id,
    macros::{btf_tracepoint, map, raw_tracepoint, tracepoint},
    maps::{HashMap, PerCpuArray},
    programs::{BtfTracePointContext, RawTracePointContext, TracePointContext},
};
use ebpftop_common::{
    runqlat::{
        MAX_KEYS, MAX_STOLEN, RunqKey, RunqLatency, RunqlatConfig, SLICES, SliceRing, StolenKey,
        WaitTotal,
    },
    sched::{MAX_QUEUED, TP_SWITCH_NEXT_PID, TP_SWITCH_PREV_STATE, TP_WAKEUP_PID},
};
use ebpftop_ebpf::{
    histogram::{atomic_add, bucket_of},
    sched::{
        Direct, Probe, Queued, RAW_SWITCH_NEXT, RAW_SWITCH_PREV_STATE, TaskRead,
        classic_prev_runnable, current_ids, now, read_task_comm, switched_in,
        switched_out_runnable, task_cgroup_id, task_pidns, tgid_of, tid_of, woken, woken_tid,
    },
    syscall_latency::shared_value_for,
    tp_u64,
};

/// When each queued thread entered its run queue.
#[map]
static QUEUED: Queued = Queued::with_max_entries(MAX_QUEUED, 0);

#[unsafe(no_mangle)]
static RUNQLAT: RunqlatConfig = RunqlatConfig::DEFAULT;

macro_rules! config {
    ($field:ident) => {
        // SAFETY: a plain static, set before load and never written here.
        unsafe { core::ptr::read_volatile(&raw const RUNQLAT.$field) }
    };
}

/// The system-wide histogram, per CPU: no contention, no atomics.
#[map]
static SYSTEM: PerCpuArray<RunqLatency> = PerCpuArray::with_max_entries(1, 0);

/// Histograms by process, thread, cgroup or pid namespace, created on
/// demand and shared by the CPUs (atomic adds).
#[map]
static LATENCIES: HashMap<RunqKey, RunqLatency> =
    HashMap::with_max_entries(MAX_KEYS, BPF_F_NO_PREALLOC);

/// A zeroed value to create entries from: too large for the BPF stack.
#[map]
static ZERO: PerCpuArray<RunqLatency> = PerCpuArray::with_max_entries(1, 0);

/// `--preemptors`: each CPU's recent run slices.
#[map]
static RUN_SLICES: PerCpuArray<SliceRing> = PerCpuArray::with_max_entries(1, 0);

/// `--preemptors`: waits by victim group.
#[map]
static WAITS: HashMap<u64, WaitTotal> = HashMap::with_max_entries(MAX_KEYS, BPF_F_NO_PREALLOC);

/// `--preemptors`: stolen nanoseconds by (victim, preemptor) group.
#[map]
static STOLEN: HashMap<StolenKey, u64> = HashMap::with_max_entries(MAX_STOLEN, BPF_F_NO_PREALLOC);

#[btf_tracepoint(function = "sched_wakeup")]
pub fn runqlat_wakeup_btf(ctx: BtfTracePointContext) -> u32 {
    // TP_PROTO(struct task_struct *p)
    woken::<Direct>(&QUEUED, ctx.arg::<u64>(0));
    0
}

#[btf_tracepoint(function = "sched_wakeup_new")]
pub fn runqlat_wakeup_new_btf(ctx: BtfTracePointContext) -> u32 {
    woken::<Direct>(&QUEUED, ctx.arg::<u64>(0));
    0
}

#[raw_tracepoint(tracepoint = "sched_wakeup")]
pub fn runqlat_wakeup_raw(ctx: RawTracePointContext) -> u32 {
    woken::<Probe>(&QUEUED, ctx.arg::<u64>(0));
    0
}

#[raw_tracepoint(tracepoint = "sched_wakeup_new")]
pub fn runqlat_wakeup_new_raw(ctx: RawTracePointContext) -> u32 {
    woken::<Probe>(&QUEUED, ctx.arg::<u64>(0));
    0
}

#[tracepoint]
pub fn runqlat_wakeup(ctx: TracePointContext) -> u32 {
    // SAFETY: `pid` (4 bytes, then `prio`) of sched:sched_wakeup(_new),
    // checked at start-up.
    let tid = unsafe { tp_u64(ctx.as_ptr(), TP_WAKEUP_PID) } as u32;
    woken_tid(&QUEUED, tid);
    0
}

#[btf_tracepoint(function = "sched_switch")]
pub fn runqlat_switch_btf(ctx: BtfTracePointContext) -> u32 {
    let ts = now();
    let prev_state = ctx.arg::<u64>(RAW_SWITCH_PREV_STATE) as u32;
    let next: u64 = ctx.arg(RAW_SWITCH_NEXT);
    switched::<Direct>(ts, prev_state == 0, next, tid_of::<Direct>(next));
    0
}

#[raw_tracepoint(tracepoint = "sched_switch")]
pub fn runqlat_switch_raw(ctx: RawTracePointContext) -> u32 {
    let ts = now();
    let prev_state = ctx.arg::<u64>(RAW_SWITCH_PREV_STATE) as u32;
    let next: u64 = ctx.arg(RAW_SWITCH_NEXT);
    switched::<Probe>(ts, prev_state == 0, next, tid_of::<Probe>(next));
    0
}

#[tracepoint]
pub fn runqlat_switch(ctx: TracePointContext) -> u32 {
    let ts = now();
    // SAFETY: offsets of sched:sched_switch, checked at start-up.
    let (state, next_tid) = unsafe {
        (
            tp_u64(ctx.as_ptr(), TP_SWITCH_PREV_STATE),
            tp_u64(ctx.as_ptr(), TP_SWITCH_NEXT_PID) as u32,
        )
    };
    switched::<Probe>(ts, classic_prev_runnable(state), 0, next_tid);
    0
}

/// `next` is the switched-in task's `task_struct` (0 from the classic
/// tracepoint, whose modes need only `next_tid`).
#[inline(always)]
fn switched<R: TaskRead>(ts: u64, prev_runnable: bool, next: u64, next_tid: u32) {
    if prev_runnable {
        switched_out_runnable(&QUEUED, ts);
    }
    let group_mode = config!(preemptors);
    if group_mode != RunqlatConfig::GROUP_OFF {
        ran(ts, group_mode);
    }
    let Some(t0) = switched_in(&QUEUED, next_tid) else {
        return;
    };
    let delta = ts.saturating_sub(t0);
    count::<R>(next, next_tid, delta);
    if group_mode != RunqlatConfig::GROUP_OFF {
        let victim = if group_mode == RunqlatConfig::GROUP_PID {
            u64::from(tgid_of::<R>(next))
        } else {
            task_cgroup_id::<R>(next)
        };
        attribute(victim, t0, ts, delta);
    }
}

#[inline(always)]
fn count<R: TaskRead>(next: u64, next_tid: u32, delta: u64) {
    let Some(i) = bucket_of(delta, config!(unit_ns)) else {
        return;
    };
    if let Some(h) = SYSTEM.get_ptr_mut(0) {
        // SAFETY: this CPU's slot; nothing else runs on it meanwhile.
        unsafe {
            (*h).count += 1;
            (*h).total_ns += delta;
            *(&raw mut (*h).buckets).cast::<u64>().add(i) += 1;
        }
    }
    let key = config!(key);
    let id = match key {
        RunqlatConfig::KEY_NONE => return,
        RunqlatConfig::KEY_TID => u64::from(next_tid),
        RunqlatConfig::KEY_PID => u64::from(tgid_of::<R>(next)),
        RunqlatConfig::KEY_CGROUP => task_cgroup_id::<R>(next),
        _ => task_pidns::<R>(next),
    };
    let key_value = RunqKey { id };
    let v = match LATENCIES.get_ptr_mut(key_value) {
        Some(v) => v,
        None => {
            let Some(zero) = ZERO.get_ptr(0) else {
                return;
            };
            // SAFETY: a map value, never written.
            match shared_value_for(&LATENCIES, &key_value, unsafe { &*zero }) {
                Some(v) => v,
                None => return,
            }
        }
    };
    // SAFETY: `v` is a value of our map; other CPUs update it too.
    unsafe {
        atomic_add(&raw mut (*v).count, 1);
        atomic_add(&raw mut (*v).total_ns, delta);
        atomic_add((&raw mut (*v).buckets).cast::<u64>().add(i), 1);
        if (key == RunqlatConfig::KEY_PID || key == RunqlatConfig::KEY_TID)
            && next != 0
            && (*v).comm[0] == 0
        {
            read_task_comm(next, (&raw mut (*v).comm).cast());
        }
    }
}

/// The task leaving this CPU ran from the last switch until `ts`: one
/// slice of its group, merged into the previous one when that was the
/// same group's and ended where this one starts.
#[inline(always)]
fn ran(ts: u64, group_mode: u32) {
    let Some(ring) = RUN_SLICES.get_ptr_mut(0) else {
        return;
    };
    let (tid, tgid) = current_ids();
    // SAFETY: this CPU's ring; nothing else runs on this CPU meanwhile.
    unsafe {
        let since = (*ring).since_ns;
        (*ring).since_ns = ts;
        // The idle task's time is no one's; the first switch seen has no start.
        if tid == 0 || since == 0 {
            return;
        }
        let group = if group_mode == RunqlatConfig::GROUP_PID {
            u64::from(tgid)
        } else {
            bpf_get_current_cgroup_id()
        };
        let next = (*ring).next as usize;
        let last = &mut (*ring).slices[next.wrapping_sub(1) & (SLICES - 1)];
        if last.group == group && last.end_ns == since {
            last.end_ns = ts;
            return;
        }
        let slot = &mut (*ring).slices[next & (SLICES - 1)];
        slot.start_ns = since;
        slot.end_ns = ts;
        slot.group = group;
        (*ring).next = ((next + 1) & (SLICES - 1)) as u32;
    }
}

/// A task of group `victim` waited from `t0` to `ts` on this CPU: its wait
/// is counted, and each recent slice's overlap with it is stolen time.
#[inline(always)]
fn attribute(victim: u64, t0: u64, ts: u64, delta: u64) {
    if let Some(w) = shared_value_for(&WAITS, &victim, &WaitTotal::default()) {
        // SAFETY: a value of our map, shared by the CPUs.
        unsafe {
            atomic_add(&raw mut (*w).wait_ns, delta);
            atomic_add(&raw mut (*w).count, 1);
        }
    }
    let Some(ring) = RUN_SLICES.get_ptr(0) else {
        return;
    };
    for i in 0..SLICES {
        // SAFETY: this CPU's ring, read only.
        let s = unsafe { (*ring).slices[i] };
        let start = if s.start_ns > t0 { s.start_ns } else { t0 };
        let end = if s.end_ns < ts { s.end_ns } else { ts };
        if end <= start {
            continue;
        }
        let key = StolenKey {
            victim,
            preemptor: s.group,
        };
        if let Some(v) = shared_value_for(&STOLEN, &key, &0) {
            // SAFETY: a value of our map, shared by the CPUs.
            unsafe { atomic_add(v, end - start) };
        }
    }
}
