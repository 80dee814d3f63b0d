//! An empty BPF program on a raw tracepoint, for the benches. It measures
//! two things that are not our programs' work: with the kernel's run-time
//! statistics on, every run of every program pays two clock reads counted
//! in its own time, and an empty program's time per run is that cost (plus
//! `return 0`); with them off, what empty programs add to a workload is
//! what the tracepoint's call of a program costs.

use std::{
    ffi::CString,
    io,
    os::fd::{AsRawFd, FromRawFd, OwnedFd},
};

/// The program's name, as `bpftool prog` and the statistics show it.
pub const NAME: &str = "ebpftop_calib";

const BPF_PROG_LOAD: libc::c_long = 5;
const BPF_RAW_TRACEPOINT_OPEN: libc::c_long = 17;
const BPF_PROG_TYPE_RAW_TRACEPOINT: u32 = 17;
/// `union bpf_attr`'s size on the kernels we know; zeros past what a
/// command reads are accepted.
const ATTR_LEN: usize = 152;

/// Attached while alive: both descriptors close on drop.
pub struct EmptyProgram {
    _link: OwnedFd,
    _prog: OwnedFd,
}

impl EmptyProgram {
    /// Loads `r0 = 0; exit` and attaches it to the raw tracepoint
    /// `tracepoint`.
    pub fn attach(tracepoint: &str) -> io::Result<Self> {
        // struct bpf_insn, little-endian: opcode in the low byte.
        let insns: [u64; 2] = [0xb7, 0x95];
        let license = c"GPL";
        let mut attr = [0u8; ATTR_LEN];
        attr[0..4].copy_from_slice(&BPF_PROG_TYPE_RAW_TRACEPOINT.to_ne_bytes());
        attr[4..8].copy_from_slice(&(insns.len() as u32).to_ne_bytes());
        attr[8..16].copy_from_slice(&(insns.as_ptr() as u64).to_ne_bytes());
        attr[16..24].copy_from_slice(&(license.as_ptr() as u64).to_ne_bytes());
        attr[48..48 + NAME.len()].copy_from_slice(NAME.as_bytes());
        let prog = bpf(BPF_PROG_LOAD, &attr)?;
        let name = CString::new(tracepoint).map_err(io::Error::other)?;
        let mut attr = [0u8; ATTR_LEN];
        attr[0..8].copy_from_slice(&(name.as_ptr() as u64).to_ne_bytes());
        attr[8..12].copy_from_slice(&(prog.as_raw_fd() as u32).to_ne_bytes());
        let link = bpf(BPF_RAW_TRACEPOINT_OPEN, &attr)?;
        Ok(EmptyProgram {
            _link: link,
            _prog: prog,
        })
    }
}

/// One bpf() command whose result is a new descriptor.
fn bpf(cmd: libc::c_long, attr: &[u8; ATTR_LEN]) -> io::Result<OwnedFd> {
    // SAFETY: `attr` and everything it points to (instructions, license,
    // names: all borrowed by the callers' frames) outlive the call.
    let fd = unsafe { libc::syscall(libc::SYS_bpf, cmd, attr.as_ptr(), ATTR_LEN) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: a new descriptor the kernel just gave us.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as i32) })
}
