//! Helpers shared by every ebpftop kernel program: the filter, the event
//! ring buffer, lost-event accounting and the common event header.
//!
//! Each tool is a binary in `src/bin/` and so an object of its own; the maps
//! and globals below exist in an object only when its programs use them.
#![no_std]

use aya_ebpf::{
    helpers::generated::{
        bpf_get_current_cgroup_id, bpf_get_current_comm, bpf_get_current_pid_tgid,
        bpf_get_current_uid_gid, bpf_ktime_get_ns,
    },
    macros::map,
    maps::{PerCpuArray, RingBuf},
};
use ebpftop_common::{COMM_LEN, EventHeader, Filter, LostReason};

/// Set by user space before load (`EbpfLoader::set_global`). It lives in
/// `.rodata`, which the kernel freezes, so the verifier knows its value and
/// prunes the checks of filters that are off.
#[unsafe(no_mangle)]
static FILTER: Filter = Filter::ALL;

/// Events to user space. User space sizes it at load time.
#[map]
pub static EVENTS: RingBuf = RingBuf::with_byte_size(1 << 22, 0);

/// Per-CPU counts of events that could not be delivered, indexed by
/// `LostReason`. Per-CPU so counting never contends.
#[map]
static LOST: PerCpuArray<u64> = PerCpuArray::with_max_entries(LostReason::COUNT, 0);

/// Reads one field of FILTER. Volatile so the compiler does not fold in
/// the initial value, which user space replaces; per field so a program
/// loads only what it checks.
macro_rules! filter_field {
    ($field:ident) => {
        // SAFETY: FILTER is a plain static, never written by programs.
        unsafe { core::ptr::read_volatile(&raw const FILTER.$field) }
    };
}

#[inline(always)]
pub fn filter_has(flag: u32) -> bool {
    filter_field!(flags) & flag != 0
}

/// Counts one event lost for `reason`.
#[inline(always)]
pub fn count_lost(reason: LostReason) {
    if let Some(slot) = LOST.get_ptr_mut(reason as u32) {
        // SAFETY: a per-CPU slot, only this CPU writes it while we run.
        unsafe { *slot += 1 };
    }
}

/// Applies the filter to the current task: the cheapest checks first, the
/// comm (a helper call and a copy) last. Returns the task's pid_tgid, or
/// `None` for "not ours, stop here".
#[inline(always)]
pub fn current_task_if_selected() -> Option<u64> {
    let flags = filter_field!(flags);
    // SAFETY (all helper calls here): no arguments, or a stack buffer.
    let pid_tgid = unsafe { bpf_get_current_pid_tgid() };
    if flags & Filter::PID != 0 && (pid_tgid >> 32) as u32 != filter_field!(pid) {
        return None;
    }
    if flags & Filter::TID != 0 && pid_tgid as u32 != filter_field!(tid) {
        return None;
    }
    if flags & Filter::UID != 0 && unsafe { bpf_get_current_uid_gid() } as u32 != filter_field!(uid)
    {
        return None;
    }
    if flags & Filter::CGROUP != 0
        && unsafe { bpf_get_current_cgroup_id() } != filter_field!(cgroup_id)
    {
        return None;
    }
    if flags & Filter::COMM != 0 && current_comm() != filter_field!(comm) {
        return None;
    }
    Some(pid_tgid)
}

#[inline(always)]
pub fn current_comm() -> [u8; COMM_LEN] {
    let mut comm = [0u8; COMM_LEN];
    // SAFETY: the helper writes at most COMM_LEN bytes into `comm`.
    unsafe { bpf_get_current_comm(comm.as_mut_ptr().cast(), COMM_LEN as u32) };
    comm
}

/// Fills the common header for the current task, in place (it usually
/// lives in a ring buffer reservation).
#[inline(always)]
pub fn fill_header(h: &mut EventHeader, pid_tgid: u64) {
    // SAFETY: helper calls; the comm helper writes into the header's array.
    let uid_gid = unsafe {
        h.ts_ns = bpf_ktime_get_ns();
        h.cgroup_id = bpf_get_current_cgroup_id();
        bpf_get_current_comm(h.comm.as_mut_ptr().cast(), COMM_LEN as u32);
        bpf_get_current_uid_gid()
    };
    h.pid = (pid_tgid >> 32) as u32;
    h.tid = pid_tgid as u32;
    h.uid = uid_gid as u32;
    h.gid = (uid_gid >> 32) as u32;
}

/// Reads a u64 from a classic tracepoint's context at `offset`. Tracepoint
/// programs may load their context directly, which costs no helper call.
///
/// # Safety
/// `offset` must lie inside the tracepoint's record (its `format` file).
#[inline(always)]
pub unsafe fn tp_u64(ctx: *mut core::ffi::c_void, offset: usize) -> u64 {
    unsafe { core::ptr::read_volatile(ctx.cast::<u8>().add(offset).cast::<u64>()) }
}

/// Syscall tracepoints (`syscalls:sys_enter_*`) lay out their record as the
/// 8-byte common header, `int __syscall_nr` padded to 8, then each argument
/// as 8 bytes; `sys_exit_*` has `long ret` at the same place as the first
/// argument. The runtime checks this against the format files at start-up.
pub const SYSCALL_ARG0: usize = 16;
pub const SYSCALL_RET: usize = 16;

#[inline(always)]
pub const fn syscall_arg(n: usize) -> usize {
    SYSCALL_ARG0 + 8 * n
}

#[cfg(not(test))]
#[panic_handler]
fn panic(_info: &core::panic::PanicInfo) -> ! {
    // Unreachable in a verified program; the verifier rejects any path to it.
    loop {}
}
