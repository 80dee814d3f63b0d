//! syscount, kernel half: syscalls counted per syscall number (or per
//! process) in a per-CPU map, on `raw_syscalls:sys_exit`; with `-L` also
//! timed from `raw_syscalls:sys_enter`. Nothing goes to user space per
//! call: it reads the map once per interval.
#![no_std]
#![no_main]

use aya_ebpf::{
    EbpfContext,
    helpers::generated::bpf_get_current_comm,
    macros::map,
    macros::tracepoint,
    maps::{PerCpuArray, PerCpuHashMap},
    programs::TracePointContext,
};
use ebpftop_common::{
    COMM_LEN, Filter,
    syscount::{MAX_KEYS, SyscallCount, SyscountConfig},
};
use ebpftop_ebpf::{
    current_task_if_selected, filter_has,
    syscall_latency::{
        RAW_SYSCALL_ID, RAW_SYSCALL_RET, syscall_entered, syscall_returned, value_for,
    },
    tp_u64,
};

#[unsafe(no_mangle)]
static SYSCOUNT: SyscountConfig = SyscountConfig::DEFAULT;

/// Counts by syscall number, or by process id with `-P`.
#[map]
static COUNTS: PerCpuHashMap<u32, SyscallCount> = PerCpuHashMap::with_max_entries(MAX_KEYS, 0);

/// A zeroed value to create entries from. A constant on the stack was not
/// reliably all zeros by the time the helper copied it (bytes of the key
/// showed through); a map value is.
#[map]
static ZERO: PerCpuArray<SyscallCount> = PerCpuArray::with_max_entries(1, 0);

macro_rules! config {
    ($field:ident) => {
        // SAFETY: a plain static, set before load and never written here.
        unsafe { core::ptr::read_volatile(&raw const SYSCOUNT.$field) }
    };
}

#[tracepoint]
pub fn syscount_enter(ctx: TracePointContext) -> u32 {
    let Some(pid_tgid) = current_task_if_selected() else {
        return 0;
    };
    // SAFETY: `id` offset of raw_syscalls:sys_enter.
    let nr = unsafe { tp_u64(ctx.as_ptr(), RAW_SYSCALL_ID) };
    syscall_entered(pid_tgid as u32, nr);
    0
}

#[tracepoint]
pub fn syscount_exit(ctx: TracePointContext) -> u32 {
    let Some(pid_tgid) = current_task_if_selected() else {
        return 0;
    };
    // SAFETY: `id` and `ret` offsets of raw_syscalls:sys_exit.
    let (nr, ret) = unsafe {
        (
            tp_u64(ctx.as_ptr(), RAW_SYSCALL_ID),
            tp_u64(ctx.as_ptr(), RAW_SYSCALL_RET) as i64,
        )
    };
    // Timed first, so a call filtered out below does not leave its entry.
    let took = if config!(latency) != 0 {
        syscall_returned(pid_tgid as u32, nr)
    } else {
        None
    };
    if filter_has(Filter::FAILED_ONLY) && ret >= 0 {
        return 0;
    }
    let errno = config!(errno);
    if errno != 0 && ret != -(errno as i64) {
        return 0;
    }
    let per_process = config!(per_process) != 0;
    let key = if per_process {
        (pid_tgid >> 32) as u32
    } else {
        nr as u32
    };
    let Some(zero) = ZERO.get_ptr(0) else {
        return 0;
    };
    // SAFETY: a map value, never written.
    let Some(v) = value_for(&COUNTS, &key, unsafe { &*zero }) else {
        return 0;
    };
    // SAFETY: this CPU's copy of a value of our map; only this CPU writes it.
    unsafe {
        (*v).count += 1;
        if let Some(ns) = took {
            (*v).timed += 1;
            (*v).total_ns += ns;
        }
        if per_process {
            bpf_get_current_comm((*v).comm.as_mut_ptr().cast(), COMM_LEN as u32);
        }
    }
    0
}
