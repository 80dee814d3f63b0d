//! Run-queue bookkeeping shared by runqlat and runqslower: when each task
//! entered a run queue (woken, new, or preempted while still runnable),
//! taken back when `sched_switch` puts it on a CPU.
//!
//! tp_btf and raw tracepoints hand the programs `task_struct` pointers: the
//! woken or switched-in task is not the current one, so its ids are read
//! through it at offsets from the kernel's BTF (`TASK` and `SCHED`
//! globals), by a [`TaskRead`]: direct loads where the verifier knows the
//! pointer's type (tp_btf: one instruction each, made fault-safe by the
//! kernel; the offsets are constants to it, read from frozen `.rodata`),
//! `bpf_probe_read_kernel` where it does not (raw tracepoints).

use aya_ebpf::{
    helpers::generated::{
        bpf_get_current_pid_tgid, bpf_get_current_task_btf, bpf_ktime_get_ns,
        bpf_probe_read_kernel, bpf_skc_to_tcp_sock,
    },
    maps::HashMap,
};
use ebpftop_common::{COMM_LEN, EventHeader, Filter, LostReason, sched::SchedOffsets};

use crate::{FILTER, TASK, count_lost, current_task_if_selected, kernel_read};

macro_rules! sched_offset {
    ($field:ident) => {
        // SAFETY: a plain static, set before load and never written here.
        unsafe { core::ptr::read_volatile(&raw const SCHED.$field) }
    };
}

macro_rules! filter {
    ($field:ident) => {
        // SAFETY: a plain static, set before load and never written here.
        unsafe { core::ptr::read_volatile(&raw const FILTER.$field) }
    };
}

/// How a program reads kernel memory through a task pointer.
pub trait TaskRead {
    /// A `T` at `offset` bytes into kernel object `base`; zero when the
    /// read faults or `base` is null.
    fn read<T: Copy + Default>(base: u64, offset: u32) -> T;

    /// The current task's header, stamped now, if the filter selects it.
    fn current_if_selected() -> Option<EventHeader>;

    /// `sk` as a base for reads past `struct sock` (`inet_sock`,
    /// `tcp_sock` fields), or 0 when it is not a full TCP socket.
    fn tcp_sock(sk: u64) -> u64;

    /// A number that stands for kernel pointer `p`, unique as `p` is: to
    /// key maps with.
    fn key(p: u64) -> u64;
}

/// `bpf_probe_read_kernel`: for pointers the verifier sees as numbers
/// (raw tracepoint arguments).
pub struct Probe;

impl TaskRead for Probe {
    #[inline(always)]
    fn read<T: Copy + Default>(base: u64, offset: u32) -> T {
        kernel_read(base, offset)
    }

    /// Through helpers, one per field: reading `current` with probe reads
    /// would cost one call per field as well.
    #[inline(always)]
    fn current_if_selected() -> Option<EventHeader> {
        crate::current_header_if_selected()
    }

    /// The address itself: probe reads go anywhere.
    #[inline(always)]
    fn tcp_sock(sk: u64) -> u64 {
        sk
    }

    /// The address itself, a plain number to the verifier.
    #[inline(always)]
    fn key(p: u64) -> u64 {
        p
    }
}

/// Direct loads: for BTF-typed pointers (tp_btf arguments, and what is
/// loaded through them). The verifier checks each load against the type
/// and the kernel turns a fault into a zero.
pub struct Direct;

impl TaskRead for Direct {
    #[inline(always)]
    fn read<T: Copy + Default>(base: u64, offset: u32) -> T {
        // SAFETY: `base` is a typed kernel pointer to the verifier, which
        // checks the access and marks it fault-safe (PROBE_MEM).
        unsafe { core::ptr::read_volatile((base as *const u8).add(offset as usize).cast::<T>()) }
    }

    /// Loads through `bpf_get_current_task_btf()`: one helper call for the
    /// task instead of one per field.
    #[inline(always)]
    fn current_if_selected() -> Option<EventHeader> {
        // SAFETY: helper call without arguments; a trusted task pointer.
        let task = unsafe { bpf_get_current_task_btf() } as u64;
        let pid = tgid_of::<Direct>(task);
        let tid = tid_of::<Direct>(task);
        let cred: u64 = Direct::read(task, sched_offset!(task_cred));
        let (uid, gid) = if cred == 0 {
            (u32::MAX, u32::MAX)
        } else {
            (
                Direct::read(cred, sched_offset!(cred_uid)),
                Direct::read(cred, sched_offset!(cred_gid)),
            )
        };
        let cgroup_id = task_cgroup_id::<Direct>(task);
        let at = sched_offset!(task_comm);
        let halves: [u64; 2] = [Direct::read(task, at), Direct::read(task, at + 8)];
        // SAFETY: two u64s are COMM_LEN bytes.
        let comm: [u8; COMM_LEN] = unsafe { core::mem::transmute(halves) };
        let pid_tgid = (pid as u64) << 32 | tid as u64;
        if !crate::filter_passes(pid_tgid, || uid, || cgroup_id, || comm) {
            return None;
        }
        Some(EventHeader {
            ts_ns: now_ns(),
            cgroup_id,
            pid,
            tid,
            uid,
            gid,
            comm,
        })
    }

    /// `bpf_skc_to_tcp_sock`: one helper call that types the pointer as a
    /// `tcp_sock`, after which each field is a load, where a `struct sock`
    /// pointer refuses loads past its end (a probe read each).
    #[inline(always)]
    fn tcp_sock(sk: u64) -> u64 {
        // SAFETY: `sk` is the BTF-typed socket the program was given.
        unsafe { bpf_skc_to_tcp_sock(sk as *mut core::ffi::c_void) as u64 }
    }

    /// See [`crate::tcp::pointer_key`].
    #[inline(always)]
    fn key(p: u64) -> u64 {
        crate::tcp::pointer_key(p)
    }
}

macro_rules! task_offset {
    ($field:ident) => {
        // SAFETY: a plain static, set before load and never written here.
        unsafe { core::ptr::read_volatile(&raw const TASK.$field) }
    };
}

/// Thread id (`task->pid`).
#[inline(always)]
pub fn tid_of<R: TaskRead>(task: u64) -> u32 {
    R::read(task, task_offset!(pid))
}

/// Process id (`task->tgid`).
#[inline(always)]
pub fn tgid_of<R: TaskRead>(task: u64) -> u32 {
    R::read(task, task_offset!(tgid))
}

/// Set by user space before load (`ebpftop_runtime::sched_offsets`).
#[unsafe(no_mangle)]
static SCHED: SchedOffsets = SchedOffsets::UNSET;

/// When each queued thread (by tid) entered its run queue. Each tool
/// declares its own (`HashMap::with_max_entries(MAX_QUEUED, 0)`): a map
/// declared here would be created by every tool's object.
pub type Queued = HashMap<u32, u64>;

/// The cgroup v2 id of `task` (`task->cgroups->dfl_cgrp->kn->id`); 0 when
/// a link of the chain cannot be read.
#[inline(always)]
pub fn task_cgroup_id<R: TaskRead>(task: u64) -> u64 {
    let cset: u64 = R::read(task, sched_offset!(task_cgroups));
    if cset == 0 {
        return 0;
    }
    let cgrp: u64 = R::read(cset, sched_offset!(css_set_dfl_cgrp));
    if cgrp == 0 {
        return 0;
    }
    let kn: u64 = R::read(cgrp, sched_offset!(cgroup_kn));
    if kn == 0 {
        return 0;
    }
    R::read(kn, sched_offset!(kernfs_node_id))
}

/// The inode number of `task`'s pid namespace
/// (`task->nsproxy->pid_ns_for_children->ns.inum`, as bcc reads it); 0
/// for an exiting task, which has no nsproxy.
#[inline(always)]
pub fn task_pidns<R: TaskRead>(task: u64) -> u64 {
    let nsproxy: u64 = R::read(task, sched_offset!(task_nsproxy));
    if nsproxy == 0 {
        return 0;
    }
    let ns: u64 = R::read(nsproxy, sched_offset!(nsproxy_pid_ns));
    if ns == 0 {
        return 0;
    }
    u64::from(R::read::<u32>(ns, sched_offset!(pid_ns_inum)))
}

/// The real user id of `task` (`task->cred->uid`); `u32::MAX` when it
/// cannot be read.
#[inline(always)]
pub fn task_uid<R: TaskRead>(task: u64) -> u32 {
    let cred: u64 = R::read(task, sched_offset!(task_cred));
    if cred == 0 {
        return u32::MAX;
    }
    R::read(cred, sched_offset!(cred_uid))
}

/// Copies `task->comm` into `dst`.
///
/// # Safety
/// `dst` must point at [`COMM_LEN`] writable bytes.
#[inline(always)]
pub unsafe fn read_task_comm(task: u64, dst: *mut u8) {
    let src = task + u64::from(sched_offset!(task_comm));
    // SAFETY: the caller guarantees the destination; the helper checks the
    // source and zeroes `dst` when the read faults.
    unsafe { bpf_probe_read_kernel(dst.cast(), COMM_LEN as u32, src as *const core::ffi::c_void) };
}

/// The shared filter (`-p`, `-t`, `--cgroup`) applied to `task`, which is
/// not the current task. The other filters are not offered by these tools.
#[inline(always)]
fn task_selected<R: TaskRead>(task: u64, tid: u32) -> bool {
    let flags = filter!(flags);
    if flags & Filter::TID != 0 && tid != filter!(tid) {
        return false;
    }
    if flags & Filter::PID != 0 && tgid_of::<R>(task) != filter!(pid) {
        return false;
    }
    if flags & Filter::CGROUP != 0 && task_cgroup_id::<R>(task) != filter!(cgroup_id) {
        return false;
    }
    true
}

#[inline(always)]
fn now_ns() -> u64 {
    // SAFETY: helper call without arguments.
    unsafe { bpf_ktime_get_ns() }
}

#[inline(always)]
fn enqueue(queued: &Queued, tid: u32, ts_ns: u64) {
    if queued.insert(tid, ts_ns, 0).is_err() {
        count_lost(LostReason::InFlightFull);
    }
}

/// `sched_wakeup(_new)`, raw: `task` was put on a run queue.
#[inline(always)]
pub fn woken<R: TaskRead>(queued: &Queued, task: u64) {
    let tid = tid_of::<R>(task);
    // The idle tasks (tid 0) are never queued.
    if tid == 0 || !task_selected::<R>(task, tid) {
        return;
    }
    enqueue(queued, tid, now_ns());
}

/// `sched_wakeup(_new)`, classic: only the thread id is known, so only the
/// tid filter can apply (user space picks the raw programs for the others).
#[inline(always)]
pub fn woken_tid(queued: &Queued, tid: u32) {
    let flags = filter!(flags);
    if tid == 0 || flags & (Filter::PID | Filter::CGROUP) != 0 {
        return;
    }
    if flags & Filter::TID != 0 && tid != filter!(tid) {
        return;
    }
    enqueue(queued, tid, now_ns());
}

/// At `sched_switch`: the task leaving the CPU (the current one) is queued
/// again when it is still runnable (preempted, or yielding), as bcc does.
#[inline(always)]
pub fn switched_out_runnable(queued: &Queued, now: u64) {
    let Some(pid_tgid) = current_task_if_selected() else {
        return;
    };
    let tid = pid_tgid as u32;
    if tid != 0 {
        enqueue(queued, tid, now);
    }
}

/// At `sched_switch`: the thread `tid` gets the CPU; when it was queued,
/// its entry is taken and the enqueue time returned.
#[inline(always)]
pub fn switched_in(queued: &Queued, tid: u32) -> Option<u64> {
    if tid == 0 {
        return None;
    }
    // SAFETY: the value is copied out before the entry is removed.
    let t0 = unsafe { queued.get(tid) }.copied()?;
    let _ = queued.remove(tid);
    Some(t0)
}

/// The current task's thread id and process id (at `sched_switch`: the
/// task leaving the CPU).
#[inline(always)]
pub fn current_ids() -> (u32, u32) {
    // SAFETY: helper call without arguments.
    let pid_tgid = unsafe { bpf_get_current_pid_tgid() };
    (pid_tgid as u32, (pid_tgid >> 32) as u32)
}

/// `sched_switch` raw tracepoint: `TP_PROTO(bool preempt, struct
/// task_struct *prev, struct task_struct *next, unsigned int prev_state)`
/// since 5.18. `prev_state` is the state the task leaves in: 0
/// (TASK_RUNNING) when it is still runnable.
pub const RAW_SWITCH_NEXT: usize = 2;
pub const RAW_SWITCH_PREV_STATE: usize = 3;

/// Classic `sched_switch`: `prev_state` is `TASK_REPORT_MAX` (0x100) for a
/// preemption, otherwise the state's report bit, 0 for still runnable
/// ("R" and "R+" in its print format).
#[inline(always)]
pub fn classic_prev_runnable(prev_state: u64) -> bool {
    prev_state & 0xff == 0
}

/// Current time, for programs that stamp several things with one reading.
#[inline(always)]
pub fn now() -> u64 {
    now_ns()
}
