//! System calls the runtime makes itself, where aya has no call for them.

use std::{io, mem::size_of};

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
    // SAFETY: unshare/mount with a valid NUL-terminated path.
    let ok = unsafe {
        libc::unshare(libc::CLONE_NEWNS) == 0
            && libc::mount(
                std::ptr::null(),
                c"/".as_ptr(),
                std::ptr::null(),
                libc::MS_REC | libc::MS_PRIVATE,
                std::ptr::null(),
            ) == 0
    };
    if ok {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}
