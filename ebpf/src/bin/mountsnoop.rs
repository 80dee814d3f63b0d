//! mountsnoop, kernel half: syscall tracepoints on mount, umount2 and the
//! new mount API (fsopen, fsconfig, fsmount, move_mount, open_tree,
//! fspick, mount_setattr).
//!
//! Entry saves the arguments of selected threads (the filter runs there);
//! exit reads the strings through the saved pointers and emits one event.
//! `-x` runs at exit, before the ring buffer is touched.
#![no_std]
#![no_main]

use aya_ebpf::{helpers::generated::bpf_probe_read_user, programs::TracePointContext};
use ebpftop_common::{
    Filter,
    mountsnoop::{
        MntNsOffsets, MountEvent, MountStr, MountSyscall, STR_LARGE, STR_SMALL, fsconfig_has_key,
        fsconfig_value_is_string,
    },
};
use ebpftop_ebpf::{
    SavedSyscall, Written, current_task, emit_small_or_large, fill_header, filter_has, kernel_read,
    read_user_str, take_syscall,
};

/// Offsets to the mount namespace id, set by user space from BTF before
/// load; all zero when they could not be resolved.
#[unsafe(no_mangle)]
static MNT_NS: MntNsOffsets = MntNsOffsets {
    task_nsproxy: 0,
    nsproxy_mnt_ns: 0,
    mnt_ns_inum: 0,
    _pad: 0,
};

ebpftop_ebpf::in_flight_syscalls!(InFlight);

ebpftop_ebpf::save_syscall_programs! {
    InFlight;
    mount_enter: 5 => MountSyscall::Mount;
    umount_enter: 2 => MountSyscall::Umount;
    fsopen_enter: 2 => MountSyscall::Fsopen;
    fsconfig_enter: 5 => MountSyscall::Fsconfig;
    fsmount_enter: 3 => MountSyscall::Fsmount;
    move_mount_enter: 5 => MountSyscall::MoveMount;
    open_tree_enter: 3 => MountSyscall::OpenTree;
    fspick_enter: 3 => MountSyscall::Fspick;
    mount_setattr_enter: 5 => MountSyscall::MountSetattr;
}

ebpftop_ebpf::syscall_exit_programs!(on_exit: mount_exit, umount_exit, fsopen_exit, fsconfig_exit, fsmount_exit, move_mount_exit, open_tree_exit, fspick_exit, mount_setattr_exit);

/// The saved arguments in one shape.
#[derive(Clone, Copy)]
struct MountArgs {
    /// User pointers to the strings, by `MountStr` slot; 0 for none.
    strs: [u64; MountStr::COUNT],
    flags: u64,
    attr_set: u64,
    attr_clr: u64,
    propagation: u64,
    fd: i32,
    to_fd: i32,
    cmd: u32,
    aux: i32,
}

/// `struct mount_attr`'s first three fields (include/uapi/linux/mount.h).
#[repr(C)]
struct MountAttrHead {
    attr_set: u64,
    attr_clr: u64,
    propagation: u64,
}

const AT_FDCWD: i32 = -100;

#[inline(always)]
fn decode_args(s: &SavedSyscall) -> MountArgs {
    let a = &s.args;
    let mut m = MountArgs {
        strs: [0; MountStr::COUNT],
        flags: 0,
        attr_set: 0,
        attr_clr: 0,
        propagation: 0,
        fd: AT_FDCWD,
        to_fd: AT_FDCWD,
        cmd: 0,
        aux: 0,
    };
    match MountSyscall::from_u32(s.tag) {
        Some(MountSyscall::Mount) => {
            m.strs = [a[0], a[1], a[2], a[4]];
            m.flags = a[3];
        }
        Some(MountSyscall::Umount) => {
            m.strs[MountStr::Target as usize] = a[0];
            m.flags = a[1];
        }
        Some(MountSyscall::Fsopen) => {
            m.strs[MountStr::Fstype as usize] = a[0];
            m.flags = a[1];
        }
        Some(MountSyscall::Fsconfig) => {
            m.fd = a[0] as i32;
            m.cmd = a[1] as u32;
            // Only some commands pass strings; FSCONFIG_SET_BINARY's value
            // is a blob and the others' are NULL.
            if fsconfig_has_key(m.cmd) {
                m.strs[MountStr::Source as usize] = a[2];
            }
            if fsconfig_value_is_string(m.cmd) {
                m.strs[MountStr::Data as usize] = a[3];
            }
            m.aux = a[4] as i32;
        }
        Some(MountSyscall::Fsmount) => {
            m.fd = a[0] as i32;
            m.flags = a[1];
            m.attr_set = a[2];
        }
        Some(MountSyscall::MoveMount) => {
            m.fd = a[0] as i32;
            m.strs[MountStr::Source as usize] = a[1];
            m.to_fd = a[2] as i32;
            m.strs[MountStr::Target as usize] = a[3];
            m.flags = a[4];
        }
        Some(MountSyscall::OpenTree) => {
            m.fd = a[0] as i32;
            m.strs[MountStr::Source as usize] = a[1];
            m.flags = a[2];
        }
        Some(MountSyscall::Fspick) => {
            m.fd = a[0] as i32;
            m.strs[MountStr::Target as usize] = a[1];
            m.flags = a[2];
        }
        Some(MountSyscall::MountSetattr) => {
            m.fd = a[0] as i32;
            m.strs[MountStr::Target as usize] = a[1];
            m.flags = a[2];
            if a[3] != 0 && a[4] as usize >= size_of::<MountAttrHead>() {
                let mut head = MountAttrHead {
                    attr_set: 0,
                    attr_clr: 0,
                    propagation: 0,
                };
                // SAFETY: reads 24 bytes of user memory into `head`; a
                // fault leaves zeros.
                unsafe {
                    bpf_probe_read_user(
                        (&raw mut head).cast(),
                        size_of::<MountAttrHead>() as u32,
                        a[3] as *const _,
                    )
                };
                m.attr_set = head.attr_set;
                m.attr_clr = head.attr_clr;
                m.propagation = head.propagation;
            }
        }
        None => {}
    }
    m
}

/// `current->nsproxy->mnt_ns->ns.inum`, or 0 when the offsets are unknown.
#[inline(always)]
fn mnt_ns_id() -> u32 {
    // SAFETY: a plain static, set before load and never written here.
    let off = unsafe { core::ptr::read_volatile(&raw const MNT_NS) };
    if off.task_nsproxy == 0 {
        return 0;
    }
    let nsproxy: u64 = kernel_read(current_task(), off.task_nsproxy);
    if nsproxy == 0 {
        return 0;
    }
    let mnt_ns: u64 = kernel_read(nsproxy, off.nsproxy_mnt_ns);
    if mnt_ns == 0 {
        return 0;
    }
    kernel_read(mnt_ns, off.mnt_ns_inum)
}

#[inline(always)]
fn on_exit(ctx: &TracePointContext) {
    let Some((saved, pid_tgid, ret)) = take_syscall::<InFlight>(ctx) else {
        return;
    };
    if ret >= 0 && filter_has(Filter::FAILED_ONLY) {
        return;
    }
    let args = decode_args(&saved);
    emit_small_or_large(
        |e: *mut MountEvent<STR_SMALL>| write(e, &args, saved.tag, pid_tgid, ret),
        |e: *mut MountEvent<STR_LARGE>| write(e, &args, saved.tag, pid_tgid, ret),
    );
}

#[inline(always)]
fn write<const N: usize>(
    event: *mut MountEvent<N>,
    args: &MountArgs,
    syscall: u32,
    pid_tgid: u64,
    ret: i64,
) -> Written {
    // SAFETY: `event` points at a reserved, writable record of our size;
    // every field the reader uses is written below.
    unsafe {
        let mut truncated = 0u32;
        let mut i = 0;
        while i < MountStr::COUNT {
            let s = read_user_str((*event).strs[i].as_mut_ptr(), N, args.strs[i]);
            (*event).fixed.str_len[i] = s.len;
            if s.truncated {
                if N == STR_SMALL {
                    return Written::NeedsLarger { ts_ns: 0 };
                }
                truncated |= 1 << i;
            }
            i += 1;
        }
        let fixed = &mut (*event).fixed;
        fill_header(&mut fixed.header, pid_tgid);
        fixed.ret = ret;
        fixed.flags = args.flags;
        fixed.attr_set = args.attr_set;
        fixed.attr_clr = args.attr_clr;
        fixed.propagation = args.propagation;
        fixed.mnt_ns = mnt_ns_id();
        fixed.fd = args.fd;
        fixed.to_fd = args.to_fd;
        fixed.cmd = args.cmd;
        fixed.aux = args.aux;
        fixed.syscall = syscall;
        fixed.truncated = truncated;
        fixed._pad = 0;
        Written::Complete {
            ts_ns: fixed.header.ts_ns,
        }
    }
}
