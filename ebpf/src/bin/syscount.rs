//! syscount, kernel half: syscalls counted per syscall number (or per
//! process) in per-CPU maps, on `raw_syscalls:sys_exit`; with `-L` also
//! timed from `raw_syscalls:sys_enter`. Nothing goes to user space per
//! call: it reads the maps once per interval.
//!
//! Each hook has two programs: a raw tracepoint (preferred: the kernel
//! builds no trace record for it) and the classic tracepoint, for kernels
//! that refuse the raw one. Both count through [`counted`].
#![no_std]
#![no_main]

use aya_ebpf::{
    EbpfContext,
    helpers::generated::bpf_get_current_comm,
    macros::map,
    macros::{raw_tracepoint, tracepoint},
    maps::{PerCpuArray, PerCpuHashMap},
    programs::{RawTracePointContext, TracePointContext},
};
use ebpftop_common::{
    COMM_LEN, Filter,
    syscount::{MAX_KEYS, NR_SLOTS, SyscallCount, SyscountConfig},
};
use ebpftop_ebpf::{
    current_task_if_selected, filter_has,
    syscall_latency::{
        RAW_SYSCALL_ID, RAW_SYSCALL_RET, regs_syscall_nr, syscall_entered, syscall_returned,
        value_for,
    },
    tp_u64,
};

ebpftop_ebpf::syscall_starts!(Starts);

#[unsafe(no_mangle)]
static SYSCOUNT: SyscountConfig = SyscountConfig::DEFAULT;

/// Counts by process id with `-P`; otherwise only syscall numbers outside
/// BY_NR (none expected, but never dropped).
#[map]
static COUNTS: PerCpuHashMap<u32, SyscallCount> = PerCpuHashMap::with_max_entries(MAX_KEYS, 0);

/// Counts by syscall number (without `-P`): an array lookup, which the
/// verifier inlines, instead of hashing the number.
#[map]
static BY_NR: PerCpuArray<SyscallCount> = PerCpuArray::with_max_entries(NR_SLOTS, 0);

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

/// Entry (`-L` only): remembers when syscall `nr` started on this thread.
#[inline(always)]
fn entered(nr: u64) -> u32 {
    if let Some(pid_tgid) = current_task_if_selected() {
        syscall_entered::<Starts>(pid_tgid as u32, nr);
    }
    0
}

#[raw_tracepoint(tracepoint = "sys_enter")]
pub fn syscount_enter_raw(ctx: RawTracePointContext) -> u32 {
    // TP_PROTO(struct pt_regs *regs, long id)
    entered(ctx.arg::<u64>(1))
}

#[tracepoint]
pub fn syscount_enter(ctx: TracePointContext) -> u32 {
    // SAFETY: `id` offset of raw_syscalls:sys_enter.
    entered(unsafe { tp_u64(ctx.as_ptr(), RAW_SYSCALL_ID) })
}

#[raw_tracepoint(tracepoint = "sys_exit")]
pub fn syscount_exit_raw(ctx: RawTracePointContext) -> u32 {
    let Some(pid_tgid) = current_task_if_selected() else {
        return 0;
    };
    // TP_PROTO(struct pt_regs *regs, long ret): the number is in the regs.
    let regs: u64 = ctx.arg(0);
    counted(pid_tgid, ctx.arg::<i64>(1), || regs_syscall_nr(regs))
}

#[tracepoint]
pub fn syscount_exit(ctx: TracePointContext) -> u32 {
    let Some(pid_tgid) = current_task_if_selected() else {
        return 0;
    };
    let ctx = ctx.as_ptr();
    // SAFETY: `id` and `ret` offsets of raw_syscalls:sys_exit.
    let ret = unsafe { tp_u64(ctx, RAW_SYSCALL_RET) } as i64;
    counted(pid_tgid, ret, || unsafe { tp_u64(ctx, RAW_SYSCALL_ID) })
}

/// Counts (and with `-L` times) one return of a selected thread's syscall.
/// `nr` is called only when the number is needed: on the raw exit it costs
/// a helper call, which `-P` without `-L` does not need.
#[inline(always)]
fn counted(pid_tgid: u64, ret: i64, nr: impl FnOnce() -> u64) -> u32 {
    let latency = config!(latency) != 0;
    let per_process = config!(per_process) != 0;
    let nr = if latency || !per_process { nr() } else { 0 };
    // Timed first, so a call filtered out below does not leave its entry.
    let took = if latency {
        syscall_returned::<Starts>(pid_tgid as u32, nr)
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
    let v = if !per_process && nr < NR_SLOTS as u64 {
        match BY_NR.get_ptr_mut(nr as u32) {
            Some(v) => v,
            None => return 0,
        }
    } else {
        let key = if per_process {
            (pid_tgid >> 32) as u32
        } else {
            nr as u32
        };
        let Some(zero) = ZERO.get_ptr(0) else {
            return 0;
        };
        // SAFETY: a map value, never written.
        match value_for(&COUNTS, &key, unsafe { &*zero }) {
            Some(v) => v,
            None => return 0,
        }
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
