//! mountsnoop's command line: the shared grammar plus `-x`.

use clap::Parser;
use ebpftop_cli::{FilterArgs, OutputArgs, RunArgs};

const EXAMPLES: &str = "\
Examples:
  mountsnoop                trace every mount call, system-wide
  mountsnoop -p 181         only process 181
  mountsnoop -x             only failed calls
  mountsnoop --json | jq 'select(.syscall == \"mount\") | {source, target, fstype}'

Traced where the kernel has them: mount, umount2 (its tracepoint is
sys_enter_umount), and the mount API of Linux 5.2+: fsopen, fsconfig,
fsmount, move_mount, open_tree, fspick, and mount_setattr (5.12+).

Each line shows the call as strace would: mount(\"tmpfs\", \"/mnt\",
\"tmpfs\", MS_NOSUID, \"size=1m\") = 0. A string longer than PATH_MAX (or,
for mount's data, the page the kernel copies) ends in ... and is listed in
the JSON `truncated` field.

JSON fields (--json), one object per line: event (\"mount\" or \"lost\"),
ts_ns, pid, tid, comm, uid, cgroup_id, then syscall, call (the line
above), ret (0 or a new fd, or -errno), errno and error (null on
success), mnt_ns (the mount namespace's inode number, as in
/proc/PID/ns/mnt; null if unknown), flags and flags_str (MS_* for mount,
MNT_*/UMOUNT_* for umount, FSOPEN_*, FSMOUNT_*, MOVE_MOUNT_*,
OPEN_TREE_*|AT_*, FSPICK_*, AT_* for mount_setattr), source, target,
fstype, data (mount's options), key and value (fsconfig), fd and to_fd
(fds or directory fds; -100 is AT_FDCWD), cmd and cmd_str (fsconfig),
aux (fsconfig), attr_set, attr_clr and their _str (MOUNT_ATTR_*; fsmount's
attr_flags are attr_set), propagation and propagation_str
(mount_setattr), truncated (names of the strings that were cut). Fields a
syscall does not have are null.";

/// Trace mount(2), umount2(2) and the new mount API: who mounted what, where, and how it went.
#[derive(Parser, Debug)]
#[command(name = "mountsnoop", version, after_long_help = EXAMPLES)]
pub struct Args {
    /// Show failed calls only.
    #[arg(short = 'x', long = "failed")]
    pub failed: bool,
    #[command(flatten)]
    pub filter: FilterArgs,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub run: RunArgs,
}
