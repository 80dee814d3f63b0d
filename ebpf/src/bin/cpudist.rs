//! cpudist, kernel half: at every `sched_switch` the thread leaving the
//! CPU ends its on-CPU slice and the one coming in ends its off-CPU
//! slice; each slice of the chosen kind is counted into a log-linear
//! histogram (for everything, per process or per thread) in the kernel.
//!
//! `sched_switch` runs in the outgoing thread, so `prev` is the current
//! task (its ids and name come from helpers) and only `next`'s thread id
//! is read from its `task_struct`, at the offset user space found in BTF.
//! tp_btf and raw tracepoint programs get the task pointers; the classic
//! tracepoint, the fallback, carries `next_pid`.
#![no_std]
#![no_main]
// The BPF target has no atomic types with fetch_add; the intrinsic compiles
// to BPF's atomic add.

use aya_ebpf::{
    EbpfContext,
    bindings::BPF_F_NO_PREALLOC,
    helpers::generated::{bpf_get_current_comm, bpf_get_current_pid_tgid, bpf_ktime_get_ns},
    macros::{btf_tracepoint, map, raw_tracepoint, tracepoint},
    maps::{HashMap, LruHashMap, PerCpuArray},
    programs::{BtfTracePointContext, RawTracePointContext, TracePointContext},
};
use ebpftop_common::{
    COMM_LEN,
    cpudist::{CpuTimeHist, CpudistConfig, CpudistKey, MAX_KEYS, MAX_THREADS, SliceStart},
};
use ebpftop_ebpf::{
    current_comm, current_task_if_selected,
    histogram::{atomic_add, bucket_of},
    syscall_latency::shared_value_for,
    task_tid,
};

#[unsafe(no_mangle)]
static CPUDIST: CpudistConfig = CpudistConfig::DEFAULT;

/// Where `next_pid` sits in the classic `sched:sched_switch` record;
/// user space checks it against the format file before using that program.
const NEXT_PID_OFFSET: usize = 56;

/// When each thread's current slice began.
#[map]
static STARTS: LruHashMap<u32, SliceStart> = LruHashMap::with_max_entries(MAX_THREADS, 0);

/// Histograms by key, created on demand.
#[map]
static SLICES: HashMap<CpudistKey, CpuTimeHist> =
    HashMap::with_max_entries(MAX_KEYS, BPF_F_NO_PREALLOC);

/// A zeroed value to create entries from: too large for the BPF stack.
#[map]
static ZERO: PerCpuArray<CpuTimeHist> = PerCpuArray::with_max_entries(1, 0);

macro_rules! config {
    ($field:ident) => {
        // SAFETY: a plain static, set before load and never written here.
        unsafe { core::ptr::read_volatile(&raw const CPUDIST.$field) }
    };
}

#[btf_tracepoint(function = "sched_switch")]
pub fn cpudist_switch_btf(ctx: BtfTracePointContext) -> u32 {
    // TP_PROTO(bool preempt, struct task_struct *prev,
    //          struct task_struct *next, unsigned int prev_state)
    switched(task_tid(ctx.arg::<u64>(2)))
}

#[raw_tracepoint(tracepoint = "sched_switch")]
pub fn cpudist_switch_raw(ctx: RawTracePointContext) -> u32 {
    switched(task_tid(ctx.arg::<u64>(2)))
}

#[tracepoint]
pub fn cpudist_switch(ctx: TracePointContext) -> u32 {
    // SAFETY: `pid_t next_pid` offset of sched:sched_switch, checked by
    // user space.
    let next = unsafe {
        core::ptr::read_volatile(ctx.as_ptr().cast::<u8>().add(NEXT_PID_OFFSET).cast::<u32>())
    };
    switched(next)
}

#[inline(always)]
fn switched(next_tid: u32) -> u32 {
    // SAFETY: helper calls without arguments.
    let now = unsafe { bpf_ktime_get_ns() };
    if config!(off_cpu) != 0 {
        off_cpu(now, next_tid);
    } else {
        on_cpu(now, next_tid);
    }
    0
}

/// The outgoing thread's slice ends; the incoming one's begins. Thread 0
/// is each CPU's idle task: not a task that competes for CPU.
#[inline(always)]
fn on_cpu(now: u64, next_tid: u32) {
    // SAFETY: helper call without arguments.
    let prev = unsafe { bpf_get_current_pid_tgid() };
    if prev as u32 != 0
        && let Some(pid_tgid) = current_task_if_selected()
        // SAFETY: the value is copied out at once.
        && let Some(start) = unsafe { STARTS.get(pid_tgid as u32) }.map(|s| s.ts_ns)
    {
        let key = key_for(pid_tgid as u32, (pid_tgid >> 32) as u32);
        record(&key, now.wrapping_sub(start), None);
    }
    if next_tid != 0 {
        let start = SliceStart {
            ts_ns: now,
            tgid: 0,
            _pad: 0,
            comm: [0; COMM_LEN],
        };
        // An LRU map makes room by itself; a failure here is not a loss.
        let _ = STARTS.insert(next_tid, start, 0);
    }
}

/// The outgoing thread (if the filter takes it) starts waiting; the
/// incoming one's wait ends, if it was recorded.
#[inline(always)]
fn off_cpu(now: u64, next_tid: u32) {
    // SAFETY: helper call without arguments.
    let prev = unsafe { bpf_get_current_pid_tgid() };
    if prev as u32 != 0
        && let Some(pid_tgid) = current_task_if_selected()
    {
        let start = SliceStart {
            ts_ns: now,
            tgid: (pid_tgid >> 32) as u32,
            _pad: 0,
            comm: current_comm(),
        };
        let _ = STARTS.insert(pid_tgid as u32, start, 0);
    }
    if next_tid == 0 {
        return;
    }
    // SAFETY: the value is copied out before the entry is removed.
    let Some(start) = (unsafe { STARTS.get(next_tid) }).copied() else {
        return;
    };
    // Removed, so that a thread the filter stops taking (a new name after
    // exec) is not counted from a stale start.
    let _ = STARTS.remove(next_tid);
    let key = key_for(next_tid, start.tgid);
    record(&key, now.wrapping_sub(start.ts_ns), Some(&start.comm));
}

#[inline(always)]
fn key_for(tid: u32, tgid: u32) -> CpudistKey {
    match config!(key_by) {
        CpudistConfig::PER_PROCESS => CpudistKey { id: tgid, tgid: 0 },
        CpudistConfig::PER_THREAD => CpudistKey { id: tid, tgid },
        _ => CpudistKey { id: 0, tgid: 0 },
    }
}

/// Counts one slice of `ns` under `key`; `comm` names the task when the
/// current one is not it (off-CPU: the current task is the outgoing one).
#[inline(always)]
fn record(key: &CpudistKey, ns: u64, comm: Option<&[u8; COMM_LEN]>) {
    let v = match SLICES.get_ptr_mut(key) {
        Some(v) => v,
        None => {
            let Some(zero) = ZERO.get_ptr(0) else {
                return;
            };
            // SAFETY: a map value, never written.
            match shared_value_for(&SLICES, key, unsafe { &*zero }) {
                Some(v) => v,
                None => return,
            }
        }
    };
    let Some(i) = bucket_of(ns, config!(unit_ns)) else {
        return;
    };
    // SAFETY: `v` is a value of our map; other CPUs update it too, so the
    // counters are added atomically.
    unsafe {
        atomic_add(&raw mut (*v).count, 1);
        atomic_add(&raw mut (*v).total_ns, ns);
        atomic_add((&raw mut (*v).buckets).cast::<u64>().add(i), 1);
        if key.id != 0 && (*v).comm[0] == 0 {
            match comm {
                Some(c) => (*v).comm = *c,
                None => {
                    bpf_get_current_comm((*v).comm.as_mut_ptr().cast(), COMM_LEN as u32);
                }
            }
        }
    }
}
