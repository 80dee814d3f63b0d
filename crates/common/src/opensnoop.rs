//! opensnoop: open(2), openat(2), openat2(2).

use crate::EventHeader;

/// Paths are first read into a record of this size; most paths fit.
pub const PATH_SMALL: usize = 256;
/// A path that fills the small record is read again into one of this size
/// (the kernel's PATH_MAX), so long paths are never cut at 255 bytes.
pub const PATH_LARGE: usize = 4096;

/// Which syscall an event came from.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OpenSyscall {
    Open = 0,
    OpenAt = 1,
    OpenAt2 = 2,
}

impl OpenSyscall {
    pub const fn from_u32(v: u32) -> Option<Self> {
        match v {
            0 => Some(Self::Open),
            1 => Some(Self::OpenAt),
            2 => Some(Self::OpenAt2),
            _ => None,
        }
    }

    pub const fn name(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::OpenAt => "openat",
            Self::OpenAt2 => "openat2",
        }
    }
}

/// Arguments saved at syscall entry, keyed by thread id, until the exit.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct OpenArgs {
    /// User pointer to the path.
    pub filename: u64,
    pub flags: u64,
    pub mode: u32,
    pub dfd: i32,
    pub syscall: u32,
    pub _pad: u32,
}

/// Fixed part of an open event; `path_len` bytes of path follow it.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct OpenEventFixed {
    pub header: EventHeader,
    /// The syscall's return: a file descriptor, or -errno.
    pub ret: i64,
    pub flags: u64,
    pub mode: u32,
    pub dfd: i32,
    pub syscall: u32,
    /// Bytes of `path` including the NUL, or a negative errno when the path
    /// could not be read from the process's memory.
    pub path_len: i32,
}

/// The record as the kernel reserves it in the ring buffer.
#[repr(C)]
pub struct OpenEvent<const N: usize> {
    pub fixed: OpenEventFixed,
    pub path: [u8; N],
}

#[cfg(feature = "user")]
mod user {
    // SAFETY: plain #[repr(C)] data; any bit pattern is valid.
    unsafe impl aya::Pod for super::OpenArgs {}
}
