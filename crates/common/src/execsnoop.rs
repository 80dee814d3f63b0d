//! execsnoop: execve(2) and execveat(2).
//!
//! Each exec makes two records: [`ExecEntry`] at syscall entry, with the
//! file name and argv (the old memory image is gone once an exec has
//! worked), and [`ExecExit`] at syscall exit, with the result and the new
//! comm. User space pairs them by thread id.

use crate::EventHeader;

/// Which record a ring buffer entry is: the first u32 of both.
pub const KIND_ENTRY: u32 = 1;
pub const KIND_EXIT: u32 = 2;

/// Text area of the record most execs fit in.
pub const TEXT_SMALL: usize = 1024;
/// Text area of the record an exec is read into again when it did not fit
/// the small one: PATH_MAX for the file name, then up to
/// [`ARGS_BYTES_MAX`] bytes of arguments, then one read's worth of slack.
pub const TEXT_LARGE: usize = 4096 + ARGS_BYTES_MAX + 4096;
/// The most argument bytes `--max-bytes` may ask for.
pub const ARGS_BYTES_MAX: usize = 32768;
/// The most arguments `--max-args` may ask for.
pub const ARGS_COUNT_MAX: u32 = 256;

/// Set in [`ExecEntryFixed::flags`].
pub mod entry_flags {
    /// More arguments followed the last one read (`--max-args`).
    pub const TRUNC_COUNT: u32 = 1 << 0;
    /// More argument bytes followed (`--max-bytes`).
    pub const TRUNC_BYTES: u32 = 1 << 1;
    /// argv or the file name could not be read (a bad pointer, or memory
    /// not paged in): what was read before is kept.
    pub const FAULT: u32 = 1 << 2;
    /// execveat(2) rather than execve(2).
    pub const EXECVEAT: u32 = 1 << 3;
}

/// What user space asks of the kernel program: a read-only global.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExecConfig {
    /// Arguments to read, at most [`ARGS_COUNT_MAX`].
    pub max_args: u32,
    /// Argument bytes to read (NULs included), at most [`ARGS_BYTES_MAX`];
    /// the kernel may read up to one read's worth more, which user space
    /// cuts off.
    pub max_bytes: u32,
}

impl ExecConfig {
    pub const DEFAULT: ExecConfig = ExecConfig {
        max_args: 20,
        max_bytes: ARGS_BYTES_MAX as u32,
    };
}

/// Fixed part of an entry record; `text_len` bytes follow it: the file name
/// (`filename_len` bytes with its NUL), then the arguments, each ended by a
/// NUL except a last one cut by [`entry_flags::TRUNC_BYTES`].
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct ExecEntryFixed {
    /// [`KIND_ENTRY`].
    pub kind: u32,
    /// [`entry_flags`].
    pub flags: u32,
    pub header: EventHeader,
    /// Process id of the parent (`real_parent->tgid`).
    pub ppid: u32,
    /// Arguments read completely.
    pub argc: u32,
    pub filename_len: u32,
    pub text_len: u32,
    /// While reading: the user address of the string being read, 0 between
    /// strings. Kept in the record rather than a register so the verifier
    /// sees the same state at each turn of the read loop and can prune.
    pub cursor: u64,
}

/// The entry record as the kernel reserves it.
#[repr(C)]
pub struct ExecEntry<const N: usize> {
    pub fixed: ExecEntryFixed,
    pub text: [u8; N],
}

/// The exit record: `header` is the task after the exec (new comm; a
/// thread other than the leader that execs takes over the leader's pid).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct ExecExit {
    /// [`KIND_EXIT`].
    pub kind: u32,
    pub _pad: u32,
    pub header: EventHeader,
    /// 0, or -errno.
    pub ret: i64,
}

#[cfg(feature = "user")]
mod user {
    // SAFETY: plain #[repr(C)] data without padding; any bit pattern is valid.
    unsafe impl aya::Pod for super::ExecConfig {}
}
