//! syslat, kernel half: each selected syscall timed from
//! `raw_syscalls:sys_enter` to `sys_exit` on its thread, and counted into
//! a log-linear histogram per syscall (or per process and syscall) in the
//! kernel. User space reads the histograms once per interval.
//!
//! Each hook has a raw tracepoint program (preferred: the kernel builds no
//! trace record for it) and a classic one as the fallback; both go through
//! [`entered`] and [`returned`].
#![no_std]
#![no_main]
// The BPF target has no atomic types with fetch_add; the intrinsic compiles
// to BPF's atomic add.

use aya_ebpf::{
    EbpfContext,
    bindings::BPF_F_NO_PREALLOC,
    helpers::generated::bpf_get_current_comm,
    macros::{map, raw_tracepoint, tracepoint},
    maps::{HashMap, PerCpuArray},
    programs::{RawTracePointContext, TracePointContext},
};
use ebpftop_common::{
    COMM_LEN,
    syslat::{MAX_KEYS, MAX_SELECTABLE, SyscallLatency, SyslatConfig, SyslatKey},
};
use ebpftop_ebpf::{
    current_task_if_selected,
    histogram::{atomic_add, bucket_of},
    syscall_latency::{
        RAW_SYSCALL_ID, regs_syscall_nr, shared_value_for, syscall_entered, syscall_returned,
    },
    tp_u64,
};

ebpftop_ebpf::syscall_starts!(Starts);

#[unsafe(no_mangle)]
static SYSLAT: SyslatConfig = SyslatConfig::DEFAULT;

/// Histograms by (pid, syscall). Created on demand: most of the 10240
/// possible 8 KB values never exist.
#[map]
static LATENCIES: HashMap<SyslatKey, SyscallLatency> =
    HashMap::with_max_entries(MAX_KEYS, BPF_F_NO_PREALLOC);

/// A zeroed value to create entries from: too large for the BPF stack.
#[map]
static ZERO: PerCpuArray<SyscallLatency> = PerCpuArray::with_max_entries(1, 0);

macro_rules! config {
    ($($field:tt)+) => {
        // SAFETY: a plain static, set before load and never written here.
        unsafe { core::ptr::read_volatile(&raw const SYSLAT.$($field)+) }
    };
}

#[inline(always)]
fn selected(nr: u64) -> bool {
    if config!(select) == 0 {
        return true;
    }
    if nr >= MAX_SELECTABLE as u64 {
        return false;
    }
    let word = (nr / 64) as usize;
    // Bounds made plain for the verifier.
    if word >= MAX_SELECTABLE / 64 {
        return false;
    }
    config!(selected[word]) & (1 << (nr % 64)) != 0
}

#[inline(always)]
fn entered(nr: u64) -> u32 {
    if !selected(nr) {
        return 0;
    }
    let Some(pid_tgid) = current_task_if_selected() else {
        return 0;
    };
    syscall_entered::<Starts>(pid_tgid as u32, nr);
    0
}

#[raw_tracepoint(tracepoint = "sys_enter")]
pub fn syslat_enter_raw(ctx: RawTracePointContext) -> u32 {
    // TP_PROTO(struct pt_regs *regs, long id)
    entered(ctx.arg::<u64>(1))
}

#[tracepoint]
pub fn syslat_enter(ctx: TracePointContext) -> u32 {
    // SAFETY: `id` offset of raw_syscalls:sys_enter.
    entered(unsafe { tp_u64(ctx.as_ptr(), RAW_SYSCALL_ID) })
}

#[raw_tracepoint(tracepoint = "sys_exit")]
pub fn syslat_exit_raw(ctx: RawTracePointContext) -> u32 {
    // TP_PROTO(struct pt_regs *regs, long ret): the number is in the regs.
    returned(regs_syscall_nr(ctx.arg(0)))
}

#[tracepoint]
pub fn syslat_exit(ctx: TracePointContext) -> u32 {
    // SAFETY: `id` offset of raw_syscalls:sys_exit.
    returned(unsafe { tp_u64(ctx.as_ptr(), RAW_SYSCALL_ID) })
}

#[inline(always)]
fn returned(nr: u64) -> u32 {
    if !selected(nr) {
        return 0;
    }
    let pid_tgid = aya_ebpf::helpers::bpf_get_current_pid_tgid();
    // Only threads the filter selected at entry have a start time.
    let Some(ns) = syscall_returned::<Starts>(pid_tgid as u32, nr) else {
        return 0;
    };
    let per_process = config!(per_process) != 0;
    let key = SyslatKey {
        pid: if per_process {
            (pid_tgid >> 32) as u32
        } else {
            0
        },
        nr: nr as u32,
    };
    // The common case, an existing key, costs one lookup.
    let v = match LATENCIES.get_ptr_mut(key) {
        Some(v) => v,
        None => {
            let Some(zero) = ZERO.get_ptr(0) else {
                return 0;
            };
            // SAFETY: a map value, never written.
            match shared_value_for(&LATENCIES, &key, unsafe { &*zero }) {
                Some(v) => v,
                None => return 0,
            }
        }
    };
    let Some(i) = bucket_of(ns, config!(unit_ns)) else {
        return 0;
    };
    // SAFETY: `v` is a value of our map; other CPUs update it too, so the
    // counters are added atomically.
    unsafe {
        atomic_add(&raw mut (*v).count, 1);
        atomic_add(&raw mut (*v).total_ns, ns);
        atomic_add((&raw mut (*v).buckets).cast::<u64>().add(i), 1);
        if per_process && (*v).comm[0] == 0 {
            bpf_get_current_comm((*v).comm.as_mut_ptr().cast(), COMM_LEN as u32);
        }
    }
    0
}
