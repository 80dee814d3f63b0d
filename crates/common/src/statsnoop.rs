//! statsnoop: the stat(2) and access(2) families.

use crate::EventHeader;

/// Paths are first read into a record of this size; most paths fit.
pub const PATH_SMALL: usize = 256;
/// A path that fills the small record is read again into one of this size
/// (the kernel's PATH_MAX).
pub const PATH_LARGE: usize = 4096;

/// Which syscall an event came from: the tag saved at entry, so the exit
/// knows which argument is the path.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StatSyscall {
    /// `newstat` (stat(2) on 64-bit): (path, buf).
    Stat = 0,
    /// `newlstat`: (path, buf).
    Lstat = 1,
    /// `newfstatat`: (dfd, path, buf, flags).
    Fstatat = 2,
    /// `statx`: (dfd, path, flags, mask, buf).
    Statx = 3,
    /// `access`: (path, mode).
    Access = 4,
    /// `faccessat`: (dfd, path, mode).
    Faccessat = 5,
    /// `faccessat2`: (dfd, path, mode, flags).
    Faccessat2 = 6,
}

impl StatSyscall {
    pub const fn from_u32(v: u32) -> Option<Self> {
        Some(match v {
            0 => Self::Stat,
            1 => Self::Lstat,
            2 => Self::Fstatat,
            3 => Self::Statx,
            4 => Self::Access,
            5 => Self::Faccessat,
            6 => Self::Faccessat2,
            _ => return None,
        })
    }

    /// The name strace and the man pages use.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Stat => "stat",
            Self::Lstat => "lstat",
            Self::Fstatat => "newfstatat",
            Self::Statx => "statx",
            Self::Access => "access",
            Self::Faccessat => "faccessat",
            Self::Faccessat2 => "faccessat2",
        }
    }

    /// Whether the call takes an access mode (R_OK, W_OK, X_OK).
    pub const fn is_access(self) -> bool {
        matches!(self, Self::Access | Self::Faccessat | Self::Faccessat2)
    }

    /// Whether the call takes a directory fd.
    pub const fn has_dfd(self) -> bool {
        !matches!(self, Self::Stat | Self::Lstat | Self::Access)
    }
}

/// Fixed part of a stat event; `path_len` bytes of path follow it.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct StatEventFixed {
    pub header: EventHeader,
    /// The syscall's return: 0, or -errno.
    pub ret: i64,
    /// AT_* flags (newfstatat, statx, faccessat2); 0 for the others.
    pub flags: u32,
    /// The access mode (access family) or the statx mask; 0 otherwise.
    pub mode: u32,
    /// Directory fd (AT_FDCWD is -100); AT_FDCWD for calls without one.
    pub dfd: i32,
    pub syscall: u32,
    /// Bytes of `path` including the NUL, or a negative errno when the path
    /// could not be read from the process's memory.
    pub path_len: i32,
    /// 1 when the path was longer than the large record (cut).
    pub path_truncated: u32,
}

/// The record as the kernel reserves it in the ring buffer.
#[repr(C)]
pub struct StatEvent<const N: usize> {
    pub fixed: StatEventFixed,
    pub path: [u8; N],
}
