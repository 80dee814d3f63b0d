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

#[inline(always)]
pub fn filter() -> Filter {
    // SAFETY: FILTER is a plain static; the volatile read stops the compiler
    // from folding in its initial value, which user space replaces.
    unsafe { core::ptr::read_volatile(&FILTER) }
}

/// Counts one event lost for `reason`.
#[inline(always)]
pub fn count_lost(reason: LostReason) {
    if let Some(slot) = LOST.get_ptr_mut(reason as u32) {
        // SAFETY: a per-CPU slot, only this CPU writes it while we run.
        unsafe { *slot += 1 };
    }
}

/// Identity of the current task, taken once per event.
#[derive(Clone, Copy)]
pub struct Task {
    pub pid_tgid: u64,
    pub uid_gid: u64,
}

impl Task {
    #[inline(always)]
    pub fn pid(&self) -> u32 {
        (self.pid_tgid >> 32) as u32
    }

    #[inline(always)]
    pub fn tid(&self) -> u32 {
        self.pid_tgid as u32
    }
}

/// Applies the filter to the current task: the cheapest checks first, the
/// comm (a helper call and a copy) last. `None` means "not ours, stop here".
#[inline(always)]
pub fn current_task_if_selected(f: &Filter) -> Option<Task> {
    // SAFETY: helper calls without arguments.
    let pid_tgid = unsafe { bpf_get_current_pid_tgid() };
    if f.has(Filter::PID) && (pid_tgid >> 32) as u32 != f.pid {
        return None;
    }
    if f.has(Filter::TID) && pid_tgid as u32 != f.tid {
        return None;
    }
    let uid_gid = unsafe { bpf_get_current_uid_gid() };
    if f.has(Filter::UID) && uid_gid as u32 != f.uid {
        return None;
    }
    if f.has(Filter::CGROUP) && unsafe { bpf_get_current_cgroup_id() } != f.cgroup_id {
        return None;
    }
    if f.has(Filter::COMM) && current_comm() != f.comm {
        return None;
    }
    Some(Task { pid_tgid, uid_gid })
}

#[inline(always)]
pub fn current_comm() -> [u8; COMM_LEN] {
    let mut comm = [0u8; COMM_LEN];
    // SAFETY: the helper writes at most COMM_LEN bytes into `comm`.
    unsafe { bpf_get_current_comm(comm.as_mut_ptr().cast(), COMM_LEN as u32) };
    comm
}

/// Fills the common header for the current task.
#[inline(always)]
pub fn fill_header(h: &mut EventHeader, task: &Task) {
    // SAFETY: helper calls; the comm helper writes into the header's array.
    unsafe {
        h.ts_ns = bpf_ktime_get_ns();
        h.cgroup_id = bpf_get_current_cgroup_id();
        bpf_get_current_comm(h.comm.as_mut_ptr().cast(), COMM_LEN as u32);
    }
    h.pid = task.pid();
    h.tid = task.tid();
    h.uid = task.uid_gid as u32;
    h.gid = (task.uid_gid >> 32) as u32;
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
