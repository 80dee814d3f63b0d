//! Helpers shared by every ebpftop kernel program: the filter, the event
//! ring buffer, lost-event accounting and the common event header.
//!
//! Each tool is a binary in `src/bin/` and so an object of its own; the maps
//! and globals below exist in an object only when its programs use them.
#![no_std]
#![feature(core_intrinsics, asm_experimental_arch)]
#![allow(internal_features)]

use aya_ebpf::{
    EbpfContext,
    bindings::{BPF_RB_AVAIL_DATA, BPF_RB_FORCE_WAKEUP, BPF_RB_NO_WAKEUP},
    helpers::generated::{
        bpf_get_current_cgroup_id, bpf_get_current_comm, bpf_get_current_pid_tgid,
        bpf_get_current_task, bpf_get_current_uid_gid, bpf_ktime_get_ns, bpf_probe_read_kernel,
        bpf_probe_read_user, bpf_probe_read_user_str,
    },
    macros::map,
    maps::{Array, HashMap, PerCpuArray, RingBuf, ring_buf::RingBufEntry},
    programs::TracePointContext,
};
use ebpftop_common::{COMM_LEN, EventHeader, Filter, LostReason, TaskOffsets, WAKEUP_INTERVAL_NS};

pub mod block;
pub mod histogram;
pub mod hub;
pub mod irq_time;
pub mod records;
pub mod sched;
pub mod slots;
pub mod syscall_latency;
pub mod tcp;

/// Set by user space before load (`EbpfLoader::set_global`). It lives in
/// `.rodata`, which the kernel freezes, so the verifier knows its value and
/// prunes the checks of filters that are off.
#[unsafe(no_mangle)]
static FILTER: Filter = Filter::ALL;

/// Events to user space. User space sizes it at load time.
#[map]
pub static EVENTS: RingBuf = RingBuf::with_byte_size(1 << 22, 0);

/// Struct offsets of the running kernel, set by user space from its BTF
/// before load (`ebpftop_runtime::task_offsets`). `.rodata`, like FILTER.
#[unsafe(no_mangle)]
static TASK: TaskOffsets = TaskOffsets::UNSET;

macro_rules! task_offset {
    ($field:ident) => {
        // SAFETY: TASK is a plain static, never written by programs.
        unsafe { core::ptr::read_volatile(&raw const TASK.$field) }
    };
}

/// Reads a `T` at `offset` bytes into kernel object `base`; zero when the
/// read faults (or `base` is null).
#[inline(always)]
pub fn kernel_read<T: Copy + Default>(base: u64, offset: u32) -> T {
    let mut v = T::default();
    // SAFETY: the helper checks the source address and writes at most
    // size_of::<T>() bytes into `v`.
    unsafe {
        bpf_probe_read_kernel(
            (&raw mut v).cast(),
            size_of::<T>() as u32,
            (base + offset as u64) as *const core::ffi::c_void,
        )
    };
    v
}

/// The current `task_struct`, as an address for [`kernel_read`].
#[inline(always)]
pub fn current_task() -> u64 {
    // SAFETY: helper call without arguments.
    unsafe { bpf_get_current_task() }
}

/// Process id of `task`'s parent (`real_parent->tgid`, as getppid(2) sees
/// it); 0 when it cannot be read.
#[inline(always)]
pub fn task_ppid(task: u64) -> u32 {
    let parent: u64 = kernel_read(task, task_offset!(real_parent));
    if parent == 0 {
        return 0;
    }
    kernel_read(parent, task_offset!(tgid))
}

/// Thread id (`task->pid`) of `task`; 0 when it cannot be read.
#[inline(always)]
pub fn task_tid(task: u64) -> u32 {
    kernel_read(task, task_offset!(pid))
}

/// Process id (`task->tgid`) of `task`; 0 when it cannot be read.
#[inline(always)]
pub fn task_tgid(task: u64) -> u32 {
    kernel_read(task, task_offset!(tgid))
}

/// `task->exit_code`: the wait(2) status of an exiting task.
#[inline(always)]
pub fn task_exit_code(task: u64) -> i32 {
    kernel_read(task, task_offset!(exit_code))
}

/// `task->start_time` (CLOCK_MONOTONIC ns) of `task`.
#[inline(always)]
pub fn task_start_time(task: u64) -> u64 {
    kernel_read(task, task_offset!(start_time))
}

/// The thread-group leader of `task`, as an address.
#[inline(always)]
pub fn task_group_leader(task: u64) -> u64 {
    kernel_read(task, task_offset!(group_leader))
}

/// Ring buffer fill (bytes) at which a record always wakes the reader; user
/// space sets it to a quarter of the ring it sized.
#[unsafe(no_mangle)]
static WAKEUP_BYTES: u64 = 1 << 20;

/// How many bytes a CPU submits between two looks at the ring's fill (a
/// helper call, which costs as much as the rest of a submit). User space
/// sets it so that all CPUs together add at most half of `WAKEUP_BYTES`
/// between looks.
#[unsafe(no_mangle)]
static FILL_CHECK_BYTES: u64 = 1 << 12;

/// A CPU's wake-up bookkeeping.
#[repr(C)]
#[derive(Clone, Copy)]
struct Wakeups {
    /// When this CPU last woke the reader (`bpf_ktime_get_ns`).
    last_ns: u64,
    /// Bytes submitted since this CPU last looked at the ring's fill.
    unchecked: u64,
}

#[map]
static WAKEUPS: PerCpuArray<Wakeups> = PerCpuArray::with_max_entries(1, 0);

/// Until when the reader is sure to drain the ring without a wake-up
/// (`bpf_ktime_get_ns` time), written by the reader whenever it schedules
/// a poll; 0 while it waits for one.
#[map]
static READER_POLL: Array<u64> = Array::with_max_entries(1, 0);

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

/// Where FILTER is, a pointer the verifier knows, for [`tcp::pointer_key`].
#[inline(always)]
pub fn filter_address() -> u64 {
    &raw const FILTER as u64
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

/// Submits a record stamped `now_ns`, waking the reader only when it is
/// due. While the reader has a poll scheduled (it says so in
/// `READER_POLL`) records need no wake-up: a wake-up is an IPI, costly on
/// a VM. Otherwise a CPU wakes it at most every `WAKEUP_INTERVAL_NS`; and
/// once the ring is a quarter full, whatever the reader promised, every
/// `FILLING_WAKEUP_NS`, so a burst cannot fill it.
#[inline(always)]
pub fn submit<T>(entry: RingBufEntry<T>, now_ns: u64) {
    entry.submit(wakeup_flags(size_of::<T>() as u64, now_ns));
}

/// The wake-up flag for a record of `bytes` stamped `now_ns` (see
/// [`submit`]).
#[inline(always)]
fn wakeup_flags(bytes: u64, now_ns: u64) -> u64 {
    let Some(cpu) = WAKEUPS.get_ptr_mut(0) else {
        return BPF_RB_FORCE_WAKEUP as u64;
    };
    // SAFETY: a per-CPU slot, only this CPU touches it while we run.
    let cpu = unsafe { &mut *cpu };
    let filling = filling(cpu, bytes);
    if wake_due(&mut cpu.last_ns, filling, now_ns) {
        BPF_RB_FORCE_WAKEUP as u64
    } else {
        BPF_RB_NO_WAKEUP as u64
    }
}

/// Whether a record stamped `now_ns` should wake the reader, given
/// whether what it is read from is `filling` and when this CPU last woke
/// it (`last_ns`, updated on a wake-up; see [`submit`]).
#[inline(always)]
fn wake_due(last_ns: &mut u64, filling: bool, now_ns: u64) -> bool {
    let since = now_ns.wrapping_sub(*last_ns);
    // The reader's promise is looked at only once the interval is over:
    // the reader writes it from another CPU, so reading it is a cache miss
    // that most records need not pay.
    let due = if filling {
        since >= FILLING_WAKEUP_NS
    } else {
        since >= WAKEUP_INTERVAL_NS && !reader_polls_after(now_ns)
    };
    if due {
        *last_ns = now_ns;
    }
    due
}

/// After a record into a per-CPU area ([`records`]) that is `filling`:
/// rings the doorbell in `EVENTS` when a wake-up is due, by the same
/// rules as [`submit`]. `last_ns` is the CPU's word in the area's head
/// line, which the record's writer has just touched.
#[inline(always)]
pub fn ring_doorbell(last_ns: &mut u64, filling: bool, now_ns: u64) {
    if wake_due(last_ns, filling, now_ns) {
        // A failed doorbell (a full ring) is no loss: the reader polls
        // the areas whenever it wakes.
        let _ = EVENTS.output::<u64>(
            ebpftop_common::cpu_records::DOORBELL,
            BPF_RB_FORCE_WAKEUP as u64,
        );
    }
}

/// Whether the ring is a quarter full, looked at once every
/// `FILL_CHECK_BYTES` this CPU submits (`bytes` now).
#[inline(always)]
fn filling(cpu: &mut Wakeups, bytes: u64) -> bool {
    // SAFETY: plain statics, set before load and never written here.
    let (batch, every) = unsafe {
        (
            core::ptr::read_volatile(&raw const WAKEUP_BYTES),
            core::ptr::read_volatile(&raw const FILL_CHECK_BYTES),
        )
    };
    cpu.unchecked += bytes;
    if cpu.unchecked < every {
        return false;
    }
    cpu.unchecked = 0;
    EVENTS.query(BPF_RB_AVAIL_DATA as u64) >= batch
}

/// How often a CPU may wake the reader while the ring is over a quarter
/// full.
const FILLING_WAKEUP_NS: u64 = 1_000_000;

/// Whether the reader has promised to drain the ring after `now_ns`.
#[inline(always)]
fn reader_polls_after(now_ns: u64) -> bool {
    READER_POLL.get(0).is_some_and(|&until| now_ns < until)
}

/// Whether the filter selects a task with these ids: the cheapest checks
/// first. Each field is asked for only when its filter is on.
#[inline(always)]
pub fn filter_passes(
    pid_tgid: u64,
    uid: impl FnOnce() -> u32,
    cgroup_id: impl FnOnce() -> u64,
    comm: impl FnOnce() -> [u8; COMM_LEN],
) -> bool {
    let flags = filter_field!(flags);
    !(flags & Filter::PID != 0 && (pid_tgid >> 32) as u32 != filter_field!(pid)
        || flags & Filter::TID != 0 && pid_tgid as u32 != filter_field!(tid)
        || flags & Filter::UID != 0 && uid() != filter_field!(uid)
        || flags & Filter::CGROUP != 0 && cgroup_id() != filter_field!(cgroup_id)
        || flags & Filter::COMM != 0 && comm() != filter_field!(comm))
}

/// Applies the filter to the current task, the comm (a helper call and a
/// copy) last. Returns the task's pid_tgid, or `None` for "not ours, stop
/// here".
#[inline(always)]
pub fn current_task_if_selected() -> Option<u64> {
    // SAFETY (all helper calls here): no arguments.
    let pid_tgid = unsafe { bpf_get_current_pid_tgid() };
    filter_passes(
        pid_tgid,
        || unsafe { bpf_get_current_uid_gid() } as u32,
        || unsafe { bpf_get_current_cgroup_id() },
        current_comm,
    )
    .then_some(pid_tgid)
}

/// The current task's header, stamped now, if the filter selects it: the
/// filter's checks on the fields the header needs anyway, each read once.
#[inline(always)]
pub fn current_header_if_selected() -> Option<EventHeader> {
    // SAFETY (all helper calls here): no arguments.
    let (pid_tgid, uid_gid, cgroup_id) = unsafe {
        (
            bpf_get_current_pid_tgid(),
            bpf_get_current_uid_gid(),
            bpf_get_current_cgroup_id(),
        )
    };
    let comm = current_comm();
    if !filter_passes(pid_tgid, || uid_gid as u32, || cgroup_id, || comm) {
        return None;
    }
    Some(EventHeader {
        ts_ns: unsafe { bpf_ktime_get_ns() },
        cgroup_id,
        pid: (pid_tgid >> 32) as u32,
        tid: pid_tgid as u32,
        uid: uid_gid as u32,
        gid: (uid_gid >> 32) as u32,
        comm,
    })
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

/// A syscall's arguments, saved at entry for its exit, when the arguments
/// are gone (or changed) and the result is known.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct SavedSyscall {
    pub args: [u64; 6],
    /// When the syscall entered (`bpf_ktime_get_ns`).
    pub entry_ns: u64,
    /// Which syscall, in the tool's own numbering.
    pub tag: u32,
    pub _pad: u32,
}

/// Where a tool that pairs syscall entries with exits keeps them, by
/// thread id: a map declared in its binary by [`in_flight_syscalls!`]. A
/// static here would be created in every tool's object, used or not
/// (exported symbols survive LTO).
pub trait InFlightSyscalls {
    fn map() -> &'static HashMap<u32, SavedSyscall>;
}

/// Declares the in-flight syscall map in a tool's binary, and `$name`, the
/// [`InFlightSyscalls`] that [`save_syscall`] and [`take_syscall`] take.
#[macro_export]
macro_rules! in_flight_syscalls {
    ($name:ident) => {
        #[aya_ebpf::macros::map]
        static IN_FLIGHT_SYSCALLS: aya_ebpf::maps::HashMap<u32, $crate::SavedSyscall> =
            aya_ebpf::maps::HashMap::with_max_entries(16384, 0);
        struct $name;
        impl $crate::InFlightSyscalls for $name {
            #[inline(always)]
            fn map() -> &'static aya_ebpf::maps::HashMap<u32, $crate::SavedSyscall> {
                &IN_FLIGHT_SYSCALLS
            }
        }
    };
}

/// At a `syscalls:sys_enter_*` tracepoint: if the current thread passes
/// the filter, saves the first `N` arguments and `tag` for the exit.
#[inline(always)]
pub fn save_syscall<F: InFlightSyscalls, const N: usize>(ctx: &TracePointContext, tag: u32) {
    let Some(pid_tgid) = current_task_if_selected() else {
        return;
    };
    let mut saved = SavedSyscall {
        args: [0; 6],
        // SAFETY: helper call without arguments.
        entry_ns: unsafe { bpf_ktime_get_ns() },
        tag,
        _pad: 0,
    };
    let mut i = 0;
    while i < N && i < 6 {
        // SAFETY: argument i < N of a syscall with N arguments.
        saved.args[i] = unsafe { tp_u64(ctx.as_ptr(), syscall_arg(i)) };
        i += 1;
    }
    if F::map().insert(pid_tgid as u32, saved, 0).is_err() {
        count_lost(LostReason::InFlightFull);
    }
}

/// At a `syscalls:sys_exit_*` tracepoint: what [`save_syscall`] saved for
/// the current thread (removed from the map), its pid_tgid and the return
/// value; `None` for threads the filter skipped.
#[inline(always)]
pub fn take_syscall<F: InFlightSyscalls>(
    ctx: &TracePointContext,
) -> Option<(SavedSyscall, u64, i64)> {
    // SAFETY: helper call without arguments.
    let pid_tgid = unsafe { bpf_get_current_pid_tgid() };
    let tid = pid_tgid as u32;
    // SAFETY: the value is copied out before the entry is removed.
    let saved = unsafe { F::map().get(tid) }.copied()?;
    let _ = F::map().remove(tid);
    // SAFETY: `ret` offset of syscalls:sys_exit_*.
    let ret = unsafe { tp_u64(ctx.as_ptr(), SYSCALL_RET) } as i64;
    Some((saved, pid_tgid, ret))
}

/// A NUL-terminated string read from user memory into a record.
#[derive(Clone, Copy)]
pub struct UserStr {
    /// Bytes written including the NUL, or a negative errno when the
    /// memory could not be read (0 for a null pointer).
    pub len: i32,
    /// The string did not fit: the buffer holds its first `size - 1` bytes.
    pub truncated: bool,
}

/// Reads the user string at `src` into `size` bytes at `dst`. A result that
/// fills the buffer is checked against the byte after it, so a string of
/// exactly `size - 1` bytes is not called truncated.
///
/// # Safety
/// `dst` must point at `size` writable bytes (a ring buffer reservation).
#[inline(always)]
pub unsafe fn read_user_str(dst: *mut u8, size: usize, src: u64) -> UserStr {
    if src == 0 {
        return UserStr {
            len: 0,
            truncated: false,
        };
    }
    // SAFETY: the caller guarantees `size` writable bytes at `dst`; the
    // helper checks the source address.
    let len = unsafe { bpf_probe_read_user_str(dst.cast(), size as u32, src as *const _) };
    let mut truncated = false;
    if len == size as i64 {
        let mut next = 0u8;
        // SAFETY: one byte into a stack variable.
        let r = unsafe {
            bpf_probe_read_user(
                (&raw mut next).cast(),
                1,
                (src + size as u64 - 1) as *const _,
            )
        };
        truncated = r != 0 || next != 0;
    }
    UserStr {
        len: len as i32,
        truncated,
    }
}

/// What a record writer found (see [`emit_small_or_large`]).
pub enum Written {
    /// The record is complete; submit it stamped `ts_ns`.
    Complete { ts_ns: u64 },
    /// A string filled its buffer in the small record: write it again
    /// into the large one. From the large writer: submit as it is (the
    /// writer has marked the cut).
    NeedsLarger { ts_ns: u64 },
}

/// Emits one event, usually as a small record `S`; when `write_small`
/// finds that a string did not fit, the reservation is dropped and the
/// event is written into a large record `L` instead. Most strings (paths,
/// options) are short, so most events cost a small copy, and a long one is
/// never cut at the small size. A full ring buffer is counted as lost.
#[inline(always)]
pub fn emit_small_or_large<S: 'static, L: 'static>(
    write_small: impl FnOnce(*mut S) -> Written,
    write_large: impl FnOnce(*mut L) -> Written,
) {
    let Some(mut entry) = EVENTS.reserve::<S>(0) else {
        count_lost(LostReason::RingBufFull);
        return;
    };
    match write_small(entry.as_mut_ptr()) {
        Written::Complete { ts_ns } => {
            submit(entry, ts_ns);
            return;
        }
        Written::NeedsLarger { .. } => entry.discard(0),
    }
    let Some(mut entry) = EVENTS.reserve::<L>(0) else {
        count_lost(LostReason::RingBufFull);
        return;
    };
    let (Written::Complete { ts_ns } | Written::NeedsLarger { ts_ns }) =
        write_large(entry.as_mut_ptr());
    submit(entry, ts_ns);
}

/// Entry programs, one per syscall tracepoint, that save the first `$n`
/// arguments tagged `$tag` for the exit in `$flight` ([`save_syscall`]).
#[macro_export]
macro_rules! save_syscall_programs {
    ($flight:ty; $($program:ident: $n:literal => $tag:expr;)*) => {$(
        #[aya_ebpf::macros::tracepoint]
        pub fn $program(ctx: aya_ebpf::programs::TracePointContext) -> u32 {
            $crate::save_syscall::<$flight, $n>(&ctx, $tag as u32);
            0
        }
    )*};
}

/// Exit programs sharing one body, `$handler(&ctx)`: one per tracepoint,
/// because a program attaches to one.
#[macro_export]
macro_rules! syscall_exit_programs {
    ($handler:path: $($program:ident),* $(,)?) => {$(
        #[aya_ebpf::macros::tracepoint]
        pub fn $program(ctx: aya_ebpf::programs::TracePointContext) -> u32 {
            $handler(&ctx);
            0
        }
    )*};
}

#[cfg(not(test))]
#[panic_handler]
fn panic(_info: &core::panic::PanicInfo) -> ! {
    // Unreachable in a verified program; the verifier rejects any path to it.
    loop {}
}
