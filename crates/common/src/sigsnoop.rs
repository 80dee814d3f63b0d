//! sigsnoop: signals sent (`signal:signal_generate`, or kill(2) only).

use crate::{COMM_LEN, EventHeader};

/// Signals a set can hold: 0 (kill's existence probe) to 127, more than
/// the kernel's 64.
pub const SIGNAL_SET_BITS: u32 = 128;

/// What user space asks of the kernel program: a read-only global.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SignalConfig {
    /// Non-zero: report only signals in `signals`.
    pub select: u32,
    pub _pad: u32,
    /// Bit `n % 64` of word `n / 64` set: signal `n` is selected.
    pub signals: [u64; 2],
}

impl SignalConfig {
    pub const ALL: SignalConfig = SignalConfig {
        select: 0,
        _pad: 0,
        signals: [0; 2],
    };

    #[inline(always)]
    pub fn selects(&self, sig: u32) -> bool {
        self.select == 0
            || (sig < SIGNAL_SET_BITS
                && self.signals[(sig / 64) as usize & 1] & (1u64 << (sig % 64)) != 0)
    }

    pub fn add(&mut self, sig: u32) {
        if sig < SIGNAL_SET_BITS {
            self.select = 1;
            self.signals[(sig / 64) as usize] |= 1u64 << (sig % 64);
        }
    }
}

/// Where a [`SignalEvent`] comes from.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SignalSource {
    /// `signal:signal_generate`: any signal the kernel queues for a task.
    Generate = 0,
    /// kill(2), from its entry and exit tracepoints.
    Kill = 1,
}

/// `result` of `signal:signal_generate` (enum trace_signal_result in
/// include/trace/events/signal.h).
pub mod generate_result {
    pub const DELIVERED: i32 = 0;
    pub const IGNORED: i32 = 1;
    pub const ALREADY_PENDING: i32 = 2;
    pub const OVERFLOW_FAIL: i32 = 3;
    pub const LOSE_INFO: i32 = 4;
}

/// Field offsets of the `signal_generate` record; user space checks them
/// against the format file before attaching.
pub mod generate_layout {
    pub const SIG: usize = 8;
    pub const ERRNO: usize = 12;
    pub const CODE: usize = 16;
    pub const COMM: usize = 20;
    pub const PID: usize = 36;
    pub const GROUP: usize = 40;
    pub const RESULT: usize = 44;
}

/// One signal sent.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct SignalEvent {
    /// The sender: the task that was running when the signal was sent.
    pub header: EventHeader,
    /// A [`SignalSource`].
    pub source: u32,
    pub sig: i32,
    /// Generate: the target task's id. Kill: kill's pid argument (0, -1
    /// and -PGID address groups).
    pub target_pid: i32,
    /// Generate: a [`generate_result`]. Kill: the return value (-errno).
    pub result: i32,
    /// Generate: `si_errno` and `si_code` of the siginfo, and whether the
    /// signal was sent to the whole thread group. Zero for kill.
    pub si_errno: i32,
    pub si_code: i32,
    pub group: i32,
    pub _pad: u32,
    /// Generate: the target's comm. Empty for kill.
    pub target_comm: [u8; COMM_LEN],
}

#[cfg(feature = "user")]
mod user {
    // SAFETY: plain #[repr(C)] data; any bit pattern is valid.
    unsafe impl aya::Pod for super::SignalConfig {}
}
