//! System calls the runtime makes itself, where aya has no call for them.

use std::{ffi::CStr, io, mem::size_of};

/// One bpf() command on `attr`, a prefix of `union bpf_attr`.
pub(crate) fn bpf<T>(cmd: libc::c_long, attr: &T) -> io::Result<libc::c_long> {
    // SAFETY: `attr` and whatever it points to outlive the call; the
    // kernel reads `size_of::<T>()` bytes of it.
    let rc = unsafe { libc::syscall(libc::SYS_bpf, cmd, attr as *const T, size_of::<T>()) };
    if rc < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(rc)
    }
}

/// Gives this thread a mount namespace of its own with private
/// propagation: what it mounts next reaches neither the host nor the
/// process's other threads, and goes with the thread.
pub(crate) fn private_mounts_on_this_thread() -> io::Result<()> {
    // SAFETY: no pointers; affects this thread only.
    if unsafe { libc::unshare(libc::CLONE_NEWNS) } != 0 {
        return Err(io::Error::last_os_error());
    }
    mount(None, c"/", None, libc::MS_REC | libc::MS_PRIVATE)
}

/// mount(2) without data: `source` on `target`, of type `fstype`.
pub(crate) fn mount(
    source: Option<&CStr>,
    target: &CStr,
    fstype: Option<&CStr>,
    flags: libc::c_ulong,
) -> io::Result<()> {
    let ptr = |s: Option<&CStr>| s.map_or(std::ptr::null(), CStr::as_ptr);
    // SAFETY: NUL-terminated strings or null, as mount(2) takes them.
    let rc = unsafe {
        libc::mount(
            ptr(source),
            target.as_ptr(),
            ptr(fstype),
            flags,
            std::ptr::null(),
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}
