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

/// Where the syscall number lives in the `struct pt_regs` that raw
/// tracepoints pass (raw `sys_exit` has no id argument): resolved from the
/// kernel's BTF by user space (`pt_regs.orig_ax` on x86_64, 8 bytes;
/// `pt_regs.syscallno` on aarch64, 4 bytes, signed).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SyscallRegs {
    pub nr_offset: u32,
    /// 4 or 8; 0 until set, and then raw exit programs must not be attached.
    pub nr_size: u32,
}

impl SyscallRegs {
    pub const UNSET: SyscallRegs = SyscallRegs {
        nr_offset: 0,
        nr_size: 0,
    };
}

/// Threads in a syscall that can be timed at once; an entry that finds the
/// map full is counted as lost (`LostReason::InFlightFull`).
pub const MAX_IN_FLIGHT: u32 = 10240;

#[cfg(feature = "user")]
mod user {
    // SAFETY: plain #[repr(C)] data; any bit pattern is valid.
    unsafe impl aya::Pod for super::NoReturn {}
    unsafe impl aya::Pod for super::SyscallRegs {}
}
