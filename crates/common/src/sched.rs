//! What the scheduler tools (runqlat, runqslower) share: where the kernel
//! keeps a task's cgroup, pid namespace and name, for raw tracepoints that
//! get `task_struct` pointers rather than a trace record.

/// Byte offsets from the running kernel's BTF, set before load as the
/// read-only global `SCHED` (`ebpftop_runtime::sched_offsets`). Zero means
/// "not resolved": the reads through it are skipped.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SchedOffsets {
    /// `task_struct.cgroups` (a `css_set *`).
    pub task_cgroups: u32,
    /// `css_set.dfl_cgrp` (the task's cgroup v2, a `cgroup *`).
    pub css_set_dfl_cgrp: u32,
    /// `cgroup.kn` (a `kernfs_node *`).
    pub cgroup_kn: u32,
    /// `kernfs_node.id` (u64): the cgroup id, its directory's inode.
    pub kernfs_node_id: u32,
    /// `task_struct.nsproxy` (a `nsproxy *`).
    pub task_nsproxy: u32,
    /// `nsproxy.pid_ns_for_children` (a `pid_namespace *`).
    pub nsproxy_pid_ns: u32,
    /// `pid_namespace.ns.inum` (u32): the namespace's inode number.
    pub pid_ns_inum: u32,
    /// `task_struct.comm` (16 bytes).
    pub task_comm: u32,
    /// `task_struct.cred` (a `const struct cred *`).
    pub task_cred: u32,
    /// `cred.uid.val` (uid_t): the real user id.
    pub cred_uid: u32,
    /// `cred.gid.val` (gid_t): the real group id.
    pub cred_gid: u32,
}

impl SchedOffsets {
    pub const UNSET: SchedOffsets = SchedOffsets {
        task_cgroups: 0,
        css_set_dfl_cgrp: 0,
        cgroup_kn: 0,
        kernfs_node_id: 0,
        task_nsproxy: 0,
        nsproxy_pid_ns: 0,
        pid_ns_inum: 0,
        task_comm: 0,
        task_cred: 0,
        cred_uid: 0,
        cred_gid: 0,
    };
}

/// Tasks waiting in a run queue at once that can be timed (the map of
/// enqueue times, by thread id); a wakeup that finds it full is counted as
/// lost (`LostReason::InFlightFull`).
pub const MAX_QUEUED: u32 = 16384;

/// `sched:sched_switch` classic record: where `prev_state` (long) and
/// `next_pid` are, checked against the format file before the classic
/// programs are used.
pub const TP_SWITCH_PREV_PID: usize = 24;
pub const TP_SWITCH_PREV_STATE: usize = 32;
pub const TP_SWITCH_NEXT_COMM: usize = 40;
pub const TP_SWITCH_NEXT_PID: usize = 56;
/// `sched:sched_wakeup(_new)` classic record: `pid`.
pub const TP_WAKEUP_PID: usize = 24;

#[cfg(feature = "user")]
mod user {
    // SAFETY: plain #[repr(C)] data; any bit pattern is valid.
    unsafe impl aya::Pod for super::SchedOffsets {}
}
