//! Mount flags as names, with the values of include/uapi/linux/mount.h and
//! include/uapi/linux/fs.h (the same on every architecture).

use ebpftop_common::mountsnoop::MountSyscall;
use ebpftop_output::flags::{at_flags, decode_bits};

/// mount(2) flags. MS_MGC_VAL, the magic old callers put in the top 16
/// bits, comes first so it is not split into single bits.
const MS: &[(u64, &str)] = &[
    (0xc0ed_0000, "MS_MGC_VAL"),
    (1, "MS_RDONLY"),
    (2, "MS_NOSUID"),
    (4, "MS_NODEV"),
    (8, "MS_NOEXEC"),
    (16, "MS_SYNCHRONOUS"),
    (32, "MS_REMOUNT"),
    (64, "MS_MANDLOCK"),
    (128, "MS_DIRSYNC"),
    (256, "MS_NOSYMFOLLOW"),
    (1024, "MS_NOATIME"),
    (2048, "MS_NODIRATIME"),
    (4096, "MS_BIND"),
    (8192, "MS_MOVE"),
    (16384, "MS_REC"),
    (32768, "MS_SILENT"),
    (1 << 16, "MS_POSIXACL"),
    (1 << 17, "MS_UNBINDABLE"),
    (1 << 18, "MS_PRIVATE"),
    (1 << 19, "MS_SLAVE"),
    (1 << 20, "MS_SHARED"),
    (1 << 21, "MS_RELATIME"),
    (1 << 22, "MS_KERNMOUNT"),
    (1 << 23, "MS_I_VERSION"),
    (1 << 24, "MS_STRICTATIME"),
    (1 << 25, "MS_LAZYTIME"),
];

/// umount2(2) flags.
const UMOUNT: &[(u64, &str)] = &[
    (1, "MNT_FORCE"),
    (2, "MNT_DETACH"),
    (4, "MNT_EXPIRE"),
    (8, "UMOUNT_NOFOLLOW"),
];

const FSOPEN: &[(u64, &str)] = &[(1, "FSOPEN_CLOEXEC")];
const FSMOUNT: &[(u64, &str)] = &[(1, "FSMOUNT_CLOEXEC")];

const MOVE_MOUNT: &[(u64, &str)] = &[
    (0x01, "MOVE_MOUNT_F_SYMLINKS"),
    (0x02, "MOVE_MOUNT_F_AUTOMOUNTS"),
    (0x04, "MOVE_MOUNT_F_EMPTY_PATH"),
    (0x10, "MOVE_MOUNT_T_SYMLINKS"),
    (0x20, "MOVE_MOUNT_T_AUTOMOUNTS"),
    (0x40, "MOVE_MOUNT_T_EMPTY_PATH"),
    (0x100, "MOVE_MOUNT_SET_GROUP"),
    (0x200, "MOVE_MOUNT_BENEATH"),
];

/// open_tree(2)'s own flags; the AT_* flags it also takes are decoded
/// after these.
const OPEN_TREE: &[(u64, &str)] = &[(1, "OPEN_TREE_CLONE"), (0o2000000, "OPEN_TREE_CLOEXEC")];

const FSPICK: &[(u64, &str)] = &[
    (1, "FSPICK_CLOEXEC"),
    (2, "FSPICK_SYMLINK_NOFOLLOW"),
    (4, "FSPICK_NO_AUTOMOUNT"),
    (8, "FSPICK_EMPTY_PATH"),
];

/// MOUNT_ATTR_* (fsmount's attr_flags, mount_setattr's attr_set and
/// attr_clr). MOUNT_ATTR_RELATIME is 0, the default: not printed.
const MOUNT_ATTR: &[(u64, &str)] = &[
    (0x1, "MOUNT_ATTR_RDONLY"),
    (0x2, "MOUNT_ATTR_NOSUID"),
    (0x4, "MOUNT_ATTR_NODEV"),
    (0x8, "MOUNT_ATTR_NOEXEC"),
    (0x10, "MOUNT_ATTR_NOATIME"),
    (0x20, "MOUNT_ATTR_STRICTATIME"),
    (0x80, "MOUNT_ATTR_NODIRATIME"),
    (0x10_0000, "MOUNT_ATTR_IDMAP"),
    (0x20_0000, "MOUNT_ATTR_NOSYMFOLLOW"),
];

/// A syscall's flags argument as names; "0" for none.
pub fn syscall_flags(syscall: MountSyscall, flags: u64) -> String {
    let table = match syscall {
        MountSyscall::Mount => MS,
        MountSyscall::Umount => UMOUNT,
        MountSyscall::Fsopen => FSOPEN,
        MountSyscall::Fsmount => FSMOUNT,
        MountSyscall::MoveMount => MOVE_MOUNT,
        MountSyscall::Fspick => FSPICK,
        MountSyscall::MountSetattr => return at_flags(flags, false),
        MountSyscall::OpenTree => {
            let own_bits = OPEN_TREE.iter().fold(0, |acc, &(b, _)| acc | b);
            let mut parts = Vec::new();
            if flags & own_bits != 0 {
                parts.push(decode_bits(flags & own_bits, OPEN_TREE, "0"));
            }
            if flags & !own_bits != 0 {
                parts.push(at_flags(flags & !own_bits, false));
            }
            return if parts.is_empty() {
                "0".to_string()
            } else {
                parts.join("|")
            };
        }
        // fsconfig has a command, not flags.
        MountSyscall::Fsconfig => &[],
    };
    decode_bits(flags, table, "0")
}

/// MOUNT_ATTR_* names; "0" for none.
pub fn mount_attr(attr: u64) -> String {
    decode_bits(attr, MOUNT_ATTR, "0")
}

/// mount_setattr's propagation: one of MS_SHARED, MS_SLAVE, MS_PRIVATE,
/// MS_UNBINDABLE, or 0 to leave it.
pub fn propagation(p: u64) -> String {
    decode_bits(p, MS, "0")
}

/// fsconfig's command by name, or its number.
pub fn fsconfig_cmd(cmd: u32) -> String {
    const NAMES: [&str; 9] = [
        "FSCONFIG_SET_FLAG",
        "FSCONFIG_SET_STRING",
        "FSCONFIG_SET_BINARY",
        "FSCONFIG_SET_PATH",
        "FSCONFIG_SET_PATH_EMPTY",
        "FSCONFIG_SET_FD",
        "FSCONFIG_CMD_CREATE",
        "FSCONFIG_CMD_RECONFIGURE",
        "FSCONFIG_CMD_CREATE_EXCL",
    ];
    match NAMES.get(cmd as usize) {
        Some(n) => n.to_string(),
        None => cmd.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mount_flags_match_libc() {
        let f = libc::MS_NOSUID | libc::MS_NODEV;
        assert_eq!(syscall_flags(MountSyscall::Mount, f), "MS_NOSUID|MS_NODEV");
        let f = libc::MS_REC | libc::MS_PRIVATE;
        assert_eq!(syscall_flags(MountSyscall::Mount, f), "MS_REC|MS_PRIVATE");
        let f = libc::MS_BIND | libc::MS_RDONLY | libc::MS_REMOUNT;
        assert_eq!(
            syscall_flags(MountSyscall::Mount, f),
            "MS_RDONLY|MS_REMOUNT|MS_BIND"
        );
        let f = libc::MS_MGC_VAL | libc::MS_RDONLY;
        assert_eq!(
            syscall_flags(MountSyscall::Mount, f),
            "MS_MGC_VAL|MS_RDONLY"
        );
        assert_eq!(
            syscall_flags(MountSyscall::Mount, libc::MS_LAZYTIME),
            "MS_LAZYTIME"
        );
        assert_eq!(syscall_flags(MountSyscall::Mount, 0), "0");
        assert_eq!(syscall_flags(MountSyscall::Mount, 1 << 30), "0x40000000");
    }

    #[test]
    fn umount_flags_match_libc() {
        let f = (libc::MNT_DETACH | libc::UMOUNT_NOFOLLOW) as u64;
        assert_eq!(
            syscall_flags(MountSyscall::Umount, f),
            "MNT_DETACH|UMOUNT_NOFOLLOW"
        );
        let f = (libc::MNT_FORCE | libc::MNT_EXPIRE) as u64;
        assert_eq!(
            syscall_flags(MountSyscall::Umount, f),
            "MNT_FORCE|MNT_EXPIRE"
        );
    }

    #[test]
    fn new_api_flags() {
        assert_eq!(syscall_flags(MountSyscall::Fsopen, 1), "FSOPEN_CLOEXEC");
        assert_eq!(syscall_flags(MountSyscall::Fsmount, 1), "FSMOUNT_CLOEXEC");
        assert_eq!(
            syscall_flags(MountSyscall::MoveMount, 0x44),
            "MOVE_MOUNT_F_EMPTY_PATH|MOVE_MOUNT_T_EMPTY_PATH"
        );
        let f = 1 | libc::O_CLOEXEC as u64 | libc::AT_RECURSIVE as u64;
        assert_eq!(
            syscall_flags(MountSyscall::OpenTree, f),
            "OPEN_TREE_CLONE|OPEN_TREE_CLOEXEC|AT_RECURSIVE"
        );
        assert_eq!(
            syscall_flags(MountSyscall::OpenTree, libc::AT_EMPTY_PATH as u64),
            "AT_EMPTY_PATH"
        );
        assert_eq!(syscall_flags(MountSyscall::OpenTree, 0), "0");
        assert_eq!(
            syscall_flags(MountSyscall::Fspick, 0b1001),
            "FSPICK_CLOEXEC|FSPICK_EMPTY_PATH"
        );
        assert_eq!(
            syscall_flags(MountSyscall::MountSetattr, libc::AT_RECURSIVE as u64),
            "AT_RECURSIVE"
        );
        assert_eq!(
            mount_attr(0x1 | 0x10),
            "MOUNT_ATTR_RDONLY|MOUNT_ATTR_NOATIME"
        );
        assert_eq!(mount_attr(0), "0");
        assert_eq!(propagation(libc::MS_PRIVATE), "MS_PRIVATE");
        assert_eq!(fsconfig_cmd(1), "FSCONFIG_SET_STRING");
        assert_eq!(fsconfig_cmd(6), "FSCONFIG_CMD_CREATE");
        assert_eq!(fsconfig_cmd(42), "42");
    }
}
