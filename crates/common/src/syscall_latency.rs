//! Timing syscalls from `raw_syscalls:sys_enter` to `sys_exit`, per
//! thread: shared by every tool that measures syscall latency.

/// When a thread entered a syscall, and which, kept until it returns.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct SyscallStart {
    /// `bpf_ktime_get_ns()` at entry.
    pub ts_ns: u64,
    pub nr: u64,
}

/// Syscalls that never return (exit, exit_group): their entry is not
/// timed, or it would sit in the start map until the thread id is reused.
/// Numbers differ by architecture; user space sets them before load.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NoReturn {
    pub exit: u64,
    pub exit_group: u64,
}

impl NoReturn {
    /// No syscall has this number: nothing is skipped until user space
    /// sets the real ones.
    pub const UNSET: NoReturn = NoReturn {
        exit: u64::MAX,
        exit_group: u64::MAX,
    };
}

/// Threads in a syscall that can be timed at once; an entry that finds the
/// map full is counted as lost (`LostReason::InFlightFull`).
pub const MAX_IN_FLIGHT: u32 = 10240;

#[cfg(feature = "user")]
mod user {
    // SAFETY: plain #[repr(C)] data; any bit pattern is valid.
    unsafe impl aya::Pod for super::NoReturn {}
}
