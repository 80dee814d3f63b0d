//! Kernel timestamps (CLOCK_MONOTONIC, from bpf_ktime_get_ns) to wall clock.

/// Converts monotonic nanoseconds to Unix-epoch nanoseconds with the offset
/// between the two clocks taken once at start-up.
#[derive(Clone, Copy, Debug)]
pub struct Clock {
    offset_ns: i128,
}

fn now_ns(clock: libc::clockid_t) -> i128 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: valid clock id and out pointer.
    unsafe { libc::clock_gettime(clock, &mut ts) };
    i128::from(ts.tv_sec) * 1_000_000_000 + i128::from(ts.tv_nsec)
}

impl Clock {
    pub fn new() -> Self {
        // Bracket the realtime read by two monotonic reads to halve the error.
        let m1 = now_ns(libc::CLOCK_MONOTONIC);
        let r = now_ns(libc::CLOCK_REALTIME);
        let m2 = now_ns(libc::CLOCK_MONOTONIC);
        Clock {
            offset_ns: r - (m1 + m2) / 2,
        }
    }

    pub fn monotonic_now_ns() -> u64 {
        now_ns(libc::CLOCK_MONOTONIC) as u64
    }

    /// Unix-epoch nanoseconds of a kernel monotonic timestamp.
    pub fn to_unix_ns(&self, monotonic_ns: u64) -> u64 {
        (i128::from(monotonic_ns) + self.offset_ns).max(0) as u64
    }
}

impl Default for Clock {
    fn default() -> Self {
        Self::new()
    }
}
