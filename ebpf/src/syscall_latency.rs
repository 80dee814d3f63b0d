//! Timing syscalls per thread from `raw_syscalls:sys_enter` to `sys_exit`,
//! and aggregating by key in the kernel: shared by syscount and syslat.

use aya_ebpf::{
    bindings::BPF_NOEXIST,
    helpers::generated::{bpf_ktime_get_ns, bpf_probe_read_kernel},
    maps::{HashMap, PerCpuHashMap},
};
use ebpftop_common::{
    LostReason,
    syscall_latency::{NoReturn, SyscallRegs, SyscallStart},
};

use crate::count_lost;

/// `raw_syscalls:sys_enter` and `sys_exit` both have `long id` here (see
/// their format files); sys_exit's `long ret` follows it.
pub const RAW_SYSCALL_ID: usize = 8;
pub const RAW_SYSCALL_RET: usize = 16;

/// Where `struct pt_regs` keeps the syscall number, set by user space
/// from the kernel's BTF before a raw exit program is attached.
#[unsafe(no_mangle)]
static SYSCALL_REGS: SyscallRegs = SyscallRegs::UNSET;

/// The syscall number in `regs`, the `struct pt_regs *` a raw `sys_exit`
/// tracepoint passes: one read, since raw sys_exit has no id argument.
/// -1 (as for a task in no syscall) when it cannot be read.
#[inline(always)]
pub fn regs_syscall_nr(regs: u64) -> u64 {
    // SAFETY: a plain static, set before load and never written here.
    let at = unsafe { core::ptr::read_volatile(&raw const SYSCALL_REGS) };
    let src = (regs + at.nr_offset as u64) as *const core::ffi::c_void;
    // SAFETY (both reads): the helper checks the source address and writes
    // at most the size given into the local (zeroing it on failure, hence
    // the checks).
    if at.nr_size == 4 {
        // aarch64's `int syscallno`: sign-extended, as the classic
        // tracepoint's `long id` is.
        let mut nr: i32 = 0;
        if unsafe { bpf_probe_read_kernel((&raw mut nr).cast(), 4, src) } != 0 {
            return u64::MAX;
        }
        nr as i64 as u64
    } else {
        let mut nr: u64 = 0;
        if unsafe { bpf_probe_read_kernel((&raw mut nr).cast(), 8, src) } != 0 {
            return u64::MAX;
        }
        nr
    }
}

/// exit and exit_group numbers of this architecture, set by user space.
#[unsafe(no_mangle)]
static NO_RETURN: NoReturn = NoReturn::UNSET;

/// Entry times of syscalls in flight, by thread id: a map declared in the
/// tool's binary by [`syscall_starts!`] (a static here would be created in
/// every tool's object). Bounded: an entry that finds it full is counted
/// lost, never silently dropped.
pub trait SyscallStarts {
    fn map() -> &'static HashMap<u32, SyscallStart>;
}

/// Declares the syscall start map in a tool's binary, and `$name`, the
/// [`SyscallStarts`] that [`syscall_entered`] and [`syscall_returned`] take.
#[macro_export]
macro_rules! syscall_starts {
    ($name:ident) => {
        #[aya_ebpf::macros::map]
        static SYSCALL_STARTS: aya_ebpf::maps::HashMap<
            u32,
            ebpftop_common::syscall_latency::SyscallStart,
        > = aya_ebpf::maps::HashMap::with_max_entries(
            ebpftop_common::syscall_latency::MAX_IN_FLIGHT,
            0,
        );
        struct $name;
        impl $crate::syscall_latency::SyscallStarts for $name {
            #[inline(always)]
            fn map()
            -> &'static aya_ebpf::maps::HashMap<u32, ebpftop_common::syscall_latency::SyscallStart>
            {
                &SYSCALL_STARTS
            }
        }
    };
}

/// At sys_enter, for a thread the filter selected: remembers when `nr`
/// started, unless it is a syscall that never returns.
#[inline(always)]
pub fn syscall_entered<S: SyscallStarts>(tid: u32, nr: u64) {
    // SAFETY: a plain static, set before load and never written here.
    let skip = unsafe { core::ptr::read_volatile(&raw const NO_RETURN) };
    if nr == skip.exit || nr == skip.exit_group {
        return;
    }
    let start = SyscallStart {
        // SAFETY: helper call without arguments.
        ts_ns: unsafe { bpf_ktime_get_ns() },
        nr,
    };
    if S::map().insert(tid, start, 0).is_err() {
        count_lost(LostReason::InFlightFull);
    }
}

/// At sys_exit: how long `nr` took on thread `tid`, if its entry was seen.
/// An entry left by another syscall (one that returned while tracing was
/// being set up) is dropped.
#[inline(always)]
pub fn syscall_returned<S: SyscallStarts>(tid: u32, nr: u64) -> Option<u64> {
    let start = S::map().get_ptr(tid)?;
    // SAFETY: a value of our map, copied out before the entry is removed.
    let start = unsafe { *start };
    let _ = S::map().remove(tid);
    if start.nr != nr {
        return None;
    }
    // SAFETY: helper call without arguments.
    Some(unsafe { bpf_ktime_get_ns() }.wrapping_sub(start.ts_ns))
}

/// The value for `key` in an aggregation map, created from `zero` when
/// missing. A map with no room is counted lost.
#[inline(always)]
pub fn value_for<K, V>(map: &PerCpuHashMap<K, V>, key: &K, zero: &V) -> Option<*mut V> {
    if let Some(v) = map.get_ptr_mut(key) {
        return Some(v);
    }
    // NOEXIST: another CPU may have created it meanwhile; that is fine.
    if map.insert(key, zero, BPF_NOEXIST as u64).is_err() && map.get_ptr_mut(key).is_none() {
        count_lost(LostReason::KeyMapFull);
        return None;
    }
    map.get_ptr_mut(key)
}

/// [`value_for`] for a shared (not per-CPU) hash map.
#[inline(always)]
pub fn shared_value_for<K, V>(map: &HashMap<K, V>, key: &K, zero: &V) -> Option<*mut V> {
    if let Some(v) = map.get_ptr_mut(key) {
        return Some(v);
    }
    if map.insert(key, zero, BPF_NOEXIST as u64).is_err() && map.get_ptr_mut(key).is_none() {
        count_lost(LostReason::KeyMapFull);
        return None;
    }
    map.get_ptr_mut(key)
}
