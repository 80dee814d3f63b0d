//! The kernel's own count of a tracepoint's hits, through perf counting
//! events (no BPF): a reference for tools that count runs of a hook.

use std::{io, os::fd::AsRawFd, os::fd::FromRawFd, os::fd::OwnedFd};

/// `struct perf_event_attr` up to `PERF_ATTR_SIZE_VER0` (64 bytes): all
/// a counting tracepoint event needs.
#[repr(C)]
#[derive(Default)]
struct PerfEventAttr {
    kind: u32,
    size: u32,
    config: u64,
    sample_period: u64,
    sample_type: u64,
    read_format: u64,
    flags: u64,
    wakeup_events: u32,
    bp_type: u32,
    config1: u64,
}

const PERF_TYPE_TRACEPOINT: u32 = 2;
/// `_IOW('$', 6, char *)`
const PERF_EVENT_IOC_SET_FILTER: libc::c_ulong = 0x4008_2406;
/// `_IO('$', 0)`
const PERF_EVENT_IOC_ENABLE: libc::c_ulong = 0x2400;
const PERF_FLAG_FD_CLOEXEC: libc::c_ulong = 1 << 3;

/// One counter per possible CPU on `category:name`, counting the hits
/// that pass `filter` (ftrace filter syntax, e.g. `irq == 36`).
pub struct TracepointCount {
    fds: Vec<OwnedFd>,
}

impl TracepointCount {
    pub fn open(category: &str, name: &str, filter: &str) -> io::Result<TracepointCount> {
        let id: u64 =
            std::fs::read_to_string(format!("/sys/kernel/tracing/events/{category}/{name}/id"))?
                .trim()
                .parse()
                .map_err(io::Error::other)?;
        let attr = PerfEventAttr {
            kind: PERF_TYPE_TRACEPOINT,
            size: std::mem::size_of::<PerfEventAttr>() as u32,
            config: id,
            // disabled (bit 0) until the filter is set.
            flags: 1,
            ..Default::default()
        };
        // SAFETY: sysconf has no memory effects.
        let cpus = unsafe { libc::sysconf(libc::_SC_NPROCESSORS_CONF) }.max(1);
        let filter = std::ffi::CString::new(filter).map_err(io::Error::other)?;
        let mut fds = Vec::new();
        for cpu in 0..cpus {
            // SAFETY: `attr` outlives the call; pid -1 with a CPU counts
            // every task on that CPU.
            let fd = unsafe {
                libc::syscall(
                    libc::SYS_perf_event_open,
                    &attr as *const PerfEventAttr,
                    -1,
                    cpu as libc::c_int,
                    -1,
                    PERF_FLAG_FD_CLOEXEC,
                )
            };
            if fd < 0 {
                let e = io::Error::last_os_error();
                // An offline CPU has no counter to open.
                if e.raw_os_error() == Some(libc::ENODEV) {
                    continue;
                }
                return Err(e);
            }
            // SAFETY: a new descriptor owned by nothing else.
            let fd = unsafe { OwnedFd::from_raw_fd(fd as libc::c_int) };
            // SAFETY: a valid descriptor and a NUL-terminated filter.
            unsafe {
                if libc::ioctl(fd.as_raw_fd(), PERF_EVENT_IOC_SET_FILTER, filter.as_ptr()) < 0
                    || libc::ioctl(fd.as_raw_fd(), PERF_EVENT_IOC_ENABLE, 0) < 0
                {
                    return Err(io::Error::last_os_error());
                }
            }
            fds.push(fd);
        }
        Ok(TracepointCount { fds })
    }

    /// Hits so far, over all CPUs.
    pub fn read(&self) -> u64 {
        self.fds
            .iter()
            .map(|fd| {
                let mut n = 0u64;
                // SAFETY: reads 8 bytes into `n` (read_format 0).
                let got = unsafe { libc::read(fd.as_raw_fd(), (&raw mut n).cast(), 8) };
                assert_eq!(got, 8, "{}", io::Error::last_os_error());
                n
            })
            .sum()
    }
}
