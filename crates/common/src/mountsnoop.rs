//! mountsnoop: mount(2), umount2(2) and the new mount API.

use crate::EventHeader;

/// Each string of an event is first read into a slot of this size.
pub const STR_SMALL: usize = 256;
/// When one fills its small slot, the event is read again with slots of
/// this size: PATH_MAX, and the one page the kernel copies of mount data.
pub const STR_LARGE: usize = 4096;

/// Which syscall an event came from.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MountSyscall {
    /// (source, target, fstype, flags, data)
    Mount = 0,
    /// umount2(target, flags); the tracepoint is `sys_enter_umount`.
    Umount = 1,
    /// (fstype, flags)
    Fsopen = 2,
    /// (fd, cmd, key, value, aux)
    Fsconfig = 3,
    /// (fs_fd, flags, attr_flags)
    Fsmount = 4,
    /// (from_dfd, from_path, to_dfd, to_path, flags)
    MoveMount = 5,
    /// (dfd, path, flags)
    OpenTree = 6,
    /// (dfd, path, flags)
    Fspick = 7,
    /// (dfd, path, flags, attr, size)
    MountSetattr = 8,
}

impl MountSyscall {
    pub const fn from_u32(v: u32) -> Option<Self> {
        Some(match v {
            0 => Self::Mount,
            1 => Self::Umount,
            2 => Self::Fsopen,
            3 => Self::Fsconfig,
            4 => Self::Fsmount,
            5 => Self::MoveMount,
            6 => Self::OpenTree,
            7 => Self::Fspick,
            8 => Self::MountSetattr,
            _ => return None,
        })
    }

    pub const fn name(self) -> &'static str {
        match self {
            Self::Mount => "mount",
            Self::Umount => "umount",
            Self::Fsopen => "fsopen",
            Self::Fsconfig => "fsconfig",
            Self::Fsmount => "fsmount",
            Self::MoveMount => "move_mount",
            Self::OpenTree => "open_tree",
            Self::Fspick => "fspick",
            Self::MountSetattr => "mount_setattr",
        }
    }
}

/// The string slots of an event; what each holds depends on the syscall
/// (fsconfig puts its key in `Source` and its value in `Data`).
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MountStr {
    Source = 0,
    Target = 1,
    Fstype = 2,
    Data = 3,
}

impl MountStr {
    pub const COUNT: usize = 4;
}

/// fsconfig commands whose `value` is a string (include/uapi/linux/mount.h:
/// FSCONFIG_SET_STRING, FSCONFIG_SET_PATH, FSCONFIG_SET_PATH_EMPTY).
pub const fn fsconfig_value_is_string(cmd: u32) -> bool {
    matches!(cmd, 1 | 3 | 4)
}

/// fsconfig commands with a `key` (FSCONFIG_SET_FLAG ..= FSCONFIG_SET_FD).
pub const fn fsconfig_has_key(cmd: u32) -> bool {
    cmd <= 5
}

/// Fixed part of a mount event; the four string slots follow it.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct MountEventFixed {
    pub header: EventHeader,
    /// The syscall's return: 0 or a new fd, or -errno.
    pub ret: i64,
    /// The syscall's flags argument (MS_*, MNT_*/UMOUNT_*, FSMOUNT_*, ...).
    pub flags: u64,
    /// fsmount's attr_flags, or mount_setattr's `attr_set`.
    pub attr_set: u64,
    /// mount_setattr's `attr_clr`.
    pub attr_clr: u64,
    /// mount_setattr's `propagation` (MS_SHARED, MS_PRIVATE, ...).
    pub propagation: u64,
    /// The mount namespace (its inode number, as in /proc/PID/ns/mnt); 0
    /// when unknown.
    pub mnt_ns: u32,
    /// The fd or directory fd argument (AT_FDCWD is -100).
    pub fd: i32,
    /// move_mount's `to_dfd`.
    pub to_fd: i32,
    /// fsconfig's `cmd`.
    pub cmd: u32,
    /// fsconfig's `aux`.
    pub aux: i32,
    pub syscall: u32,
    /// Per slot (`MountStr`): bytes including the NUL, 0 when the call has
    /// no such string (or passed NULL), a negative errno when unreadable.
    pub str_len: [i32; MountStr::COUNT],
    /// Bit `1 << slot` set when that string was longer than its slot.
    pub truncated: u32,
    pub _pad: u32,
}

/// The record as the kernel reserves it: `N` bytes per string slot.
#[repr(C)]
pub struct MountEvent<const N: usize> {
    pub fixed: MountEventFixed,
    pub strs: [[u8; N]; MountStr::COUNT],
}

/// Offsets for the mount namespace id, resolved from BTF by user space:
/// `task->nsproxy->mnt_ns->ns.inum`. All zero: not resolved, no id.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct MntNsOffsets {
    pub task_nsproxy: u32,
    pub nsproxy_mnt_ns: u32,
    pub mnt_ns_inum: u32,
    pub _pad: u32,
}

#[cfg(feature = "user")]
mod user {
    // SAFETY: plain #[repr(C)] data; any bit pattern is valid.
    unsafe impl aya::Pod for super::MntNsOffsets {}
}
