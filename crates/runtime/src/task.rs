//! Struct offsets the kernel programs read through, from the running
//! kernel's BTF.

use ebpftop_common::{TaskOffsets, sched::SchedOffsets, syscall_latency::SyscallRegs};

use crate::{Error, btf::KernelBtf};

/// The name of the global the programs read [`TaskOffsets`] from.
pub const TASK_OFFSETS_GLOBAL: &str = "TASK";

/// The running kernel's BTF, parsed once per process: every tool that
/// needs offsets (task, socket, namespace, registers) shares it.
pub fn kernel_btf() -> Result<&'static KernelBtf, Error> {
    static BTF: std::sync::OnceLock<Result<KernelBtf, String>> = std::sync::OnceLock::new();
    BTF.get_or_init(|| {
        KernelBtf::load().map_err(|e| format!("{e} (the kernel needs CONFIG_DEBUG_INFO_BTF)"))
    })
    .as_ref()
    .map_err(|e| Error::Btf(e.clone()))
}

/// Byte offset of `path` in struct `ty`, checked to be a plain (not bit)
/// field of `size` bytes, the size the kernel programs read.
pub fn field_offset(btf: &KernelBtf, ty: &str, path: &str, size: u32) -> Result<u32, Error> {
    let m = btf
        .member(ty, path)
        .map_err(|e| Error::Btf(e.to_string()))?;
    if m.bitfield.is_some() || m.size != size {
        return Err(Error::Btf(format!(
            "{ty}.{path} is {} bytes{}, expected {size}",
            m.size,
            if m.bitfield.is_some() {
                " (a bitfield)"
            } else {
                ""
            }
        )));
    }
    Ok(m.offset)
}

/// Resolves [`TaskOffsets`] for this kernel. A kernel without BTF, or whose
/// `task_struct` lacks a field, gets a one-line error naming it.
pub fn task_offsets() -> Result<TaskOffsets, Error> {
    task_offsets_from(kernel_btf()?)
}

pub fn task_offsets_from(btf: &KernelBtf) -> Result<TaskOffsets, Error> {
    let field = |name: &str, size: u32| field_offset(btf, "task_struct", name, size);
    let ptr = size_of::<u64>() as u32;
    Ok(TaskOffsets {
        real_parent: field("real_parent", ptr)?,
        tgid: field("tgid", 4)?,
        pid: field("pid", 4)?,
        exit_code: field("exit_code", 4)?,
        start_time: field("start_time", 8)?,
        group_leader: field("group_leader", ptr)?,
    })
}

/// The name of the global the scheduler tools read [`SchedOffsets`] from.
pub const SCHED_OFFSETS_GLOBAL: &str = "SCHED";

/// Resolves [`SchedOffsets`] (a task's cgroup v2 id, pid namespace and
/// name, as raw scheduler tracepoints must read them) for this kernel.
pub fn sched_offsets() -> Result<SchedOffsets, Error> {
    let btf = kernel_btf()?;
    let ptr = size_of::<u64>() as u32;
    Ok(SchedOffsets {
        task_cgroups: field_offset(btf, "task_struct", "cgroups", ptr)?,
        css_set_dfl_cgrp: field_offset(btf, "css_set", "dfl_cgrp", ptr)?,
        cgroup_kn: field_offset(btf, "cgroup", "kn", ptr)?,
        kernfs_node_id: field_offset(btf, "kernfs_node", "id", 8)?,
        task_nsproxy: field_offset(btf, "task_struct", "nsproxy", ptr)?,
        nsproxy_pid_ns: field_offset(btf, "nsproxy", "pid_ns_for_children", ptr)?,
        pid_ns_inum: field_offset(btf, "pid_namespace", "ns.inum", 4)?,
        task_comm: field_offset(btf, "task_struct", "comm", 16)?,
        task_cred: field_offset(btf, "task_struct", "cred", ptr)?,
        cred_uid: field_offset(btf, "cred", "uid.val", 4)?,
        cred_gid: field_offset(btf, "cred", "gid.val", 4)?,
    })
}

/// The name of the global the programs read [`SyscallRegs`] from.
pub const SYSCALL_REGS_GLOBAL: &str = "SYSCALL_REGS";

/// Where this architecture's `struct pt_regs` keeps the syscall number, and
/// the size it must have.
#[cfg(target_arch = "x86_64")]
const SYSCALL_NR_FIELD: Option<(&str, u32)> = Some(("orig_ax", 8));
#[cfg(target_arch = "aarch64")]
const SYSCALL_NR_FIELD: Option<(&str, u32)> = Some(("syscallno", 4));
#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
const SYSCALL_NR_FIELD: Option<(&str, u32)> = None;

/// Resolves [`SyscallRegs`] for this kernel, for raw syscall tracepoints.
/// An error means: use the classic tracepoints, which carry the number.
pub fn syscall_regs() -> Result<SyscallRegs, Error> {
    syscall_regs_from(kernel_btf()?)
}

pub fn syscall_regs_from(btf: &KernelBtf) -> Result<SyscallRegs, Error> {
    let Some((name, size)) = SYSCALL_NR_FIELD else {
        return Err(Error::Btf(
            "no known pt_regs syscall number field on this architecture".into(),
        ));
    };
    Ok(SyscallRegs {
        nr_offset: field_offset(btf, "pt_regs", name, size)?,
        nr_size: size,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Offsets from our parser against bpftool's dump of the same BTF.
    #[test]
    fn task_offsets_agree_with_bpftool() {
        let Ok(out) = std::process::Command::new("bpftool")
            .args([
                "btf",
                "dump",
                "file",
                "/sys/kernel/btf/vmlinux",
                "format",
                "raw",
            ])
            .output()
        else {
            eprintln!("bpftool missing; skipped");
            return;
        };
        let dump = String::from_utf8_lossy(&out.stdout);
        // The STRUCT 'task_struct' block: member lines `'name' type_id=N bits_offset=B`.
        let start = dump
            .find("STRUCT 'task_struct' size=")
            .expect("task_struct in BTF");
        let block: Vec<&str> = dump[start..]
            .lines()
            .skip(1)
            .take_while(|l| l.starts_with('\t'))
            .collect();
        let bits = |name: &str| -> u32 {
            let l = block
                .iter()
                .find(|l| l.trim_start().starts_with(&format!("'{name}' ")))
                .unwrap_or_else(|| panic!("{name} in bpftool's task_struct"));
            let b = l.split("bits_offset=").nth(1).unwrap();
            b.split_whitespace().next().unwrap().parse().unwrap()
        };
        let o = task_offsets().expect("offsets");
        assert_eq!(o.real_parent * 8, bits("real_parent"));
        assert_eq!(o.tgid * 8, bits("tgid"));
        assert_eq!(o.pid * 8, bits("pid"));
        assert_eq!(o.exit_code * 8, bits("exit_code"));
        assert_eq!(o.start_time * 8, bits("start_time"));
        assert_eq!(o.group_leader * 8, bits("group_leader"));
    }

    /// `orig_ax` is the 16th of x86_64's 21 eight-byte registers.
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn syscall_nr_is_orig_ax() {
        if !std::path::Path::new("/sys/kernel/btf/vmlinux").exists() {
            eprintln!("no kernel BTF; skipped");
            return;
        }
        let r = syscall_regs().expect("pt_regs.orig_ax");
        assert_eq!((r.nr_offset, r.nr_size), (15 * 8, 8));
    }
}
