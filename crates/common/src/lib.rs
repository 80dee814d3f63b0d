//! Types shared by ebpftop's kernel programs and its user-space tools.
//!
//! Everything here is `#[repr(C)]` and plain data: the kernel half writes it
//! into ring buffers and reads configuration from read-only globals, the user
//! half reads the same bytes. One definition, two compilers.
#![no_std]

pub mod block;
pub mod cpu_records;
pub mod cpudist;
pub mod execsnoop;
pub mod exitsnoop;
pub mod gethostlatency;
pub mod hub;
pub mod irqtime;
pub mod loglinear;
pub mod mountsnoop;
pub mod oomkill;
pub mod opensnoop;
pub mod runqlat;
pub mod runqslower;
pub mod sched;
pub mod sigsnoop;
pub mod statsnoop;
pub mod syscall_latency;
pub mod syscount;
pub mod syslat;
pub mod tcp;

/// Length of `task_struct.comm`, including its NUL.
pub const COMM_LEN: usize = 16;

/// Ring buffer wake-ups: a record wakes the reader when the reader has no
/// poll scheduled and the record's CPU has not woken it for this long (or
/// every millisecond while the ring is over a quarter full); otherwise it
/// is left for the reader, which polls again within [`READER_POLL_NS`] of
/// every wake-up or poll that found records, and says until when
/// (`READER_POLL`, see [`READER_PROMISE_NS`]). On a VM a wake-up costs several microseconds
/// (an IPI); this keeps sparse events immediate and dense ones free of
/// wake-ups.
pub const WAKEUP_INTERVAL_NS: u64 = 10_000_000;
/// How soon after a wake-up (or a poll that found records) the reader looks
/// again: the kernel's interval plus a margin for the time between a
/// record's timestamp and its commit.
pub const READER_POLL_NS: u64 = WAKEUP_INTERVAL_NS + 2_000_000;
/// How long after scheduling a poll the reader promises the kernel it will
/// have drained the ring: the poll's delay plus room for the reader to be
/// late (epoll rounds to milliseconds; the reader may wait for a CPU).
/// Records before the promise runs out need no wake-up.
pub const READER_PROMISE_NS: u64 = READER_POLL_NS + 8_000_000;

/// Every record a kernel program emits starts with this header.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct EventHeader {
    /// `bpf_ktime_get_ns()` at the event (CLOCK_MONOTONIC).
    pub ts_ns: u64,
    /// v2 cgroup id of the task (`bpf_get_current_cgroup_id`).
    pub cgroup_id: u64,
    /// Process id (the kernel's tgid).
    pub pid: u32,
    /// Thread id (the kernel's pid).
    pub tid: u32,
    pub uid: u32,
    pub gid: u32,
    pub comm: [u8; COMM_LEN],
}

/// The filter every tool pushes into the kernel as a read-only global, so
/// that an event which does not match costs a few compares and nothing else.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Filter {
    /// Bit set of `Filter::PID`, `Filter::TID`, ...
    pub flags: u32,
    pub pid: u32,
    pub tid: u32,
    pub uid: u32,
    pub cgroup_id: u64,
    /// Compared as two u64 words: NUL-padded to 16 bytes.
    pub comm: [u8; COMM_LEN],
}

impl Filter {
    pub const PID: u32 = 1 << 0;
    pub const TID: u32 = 1 << 1;
    pub const UID: u32 = 1 << 2;
    pub const CGROUP: u32 = 1 << 3;
    pub const COMM: u32 = 1 << 4;
    /// Tools with `-x`: report failed calls only.
    pub const FAILED_ONLY: u32 = 1 << 5;

    /// Matches everything.
    pub const ALL: Filter = Filter {
        flags: 0,
        pid: 0,
        tid: 0,
        uid: 0,
        cgroup_id: 0,
        comm: [0; COMM_LEN],
    };

    #[inline(always)]
    pub const fn has(&self, flag: u32) -> bool {
        self.flags & flag != 0
    }
}

/// Byte offsets into the running kernel's structs, resolved from its BTF by
/// user space and handed to programs as a read-only global (Rust emits no
/// CO-RE relocations, so offsets cannot be compiled in).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TaskOffsets {
    /// `task_struct.real_parent` (a pointer).
    pub real_parent: u32,
    /// `task_struct.tgid` (pid_t): the process id.
    pub tgid: u32,
    /// `task_struct.pid` (pid_t): the thread id.
    pub pid: u32,
    /// `task_struct.exit_code` (int): the wait status being reported.
    pub exit_code: u32,
    /// `task_struct.start_time` (u64, CLOCK_MONOTONIC ns).
    pub start_time: u32,
    /// `task_struct.group_leader` (a pointer).
    pub group_leader: u32,
}

impl TaskOffsets {
    /// Not resolved yet: every read through it fails the lookup test.
    pub const UNSET: TaskOffsets = TaskOffsets {
        real_parent: 0,
        tgid: 0,
        pid: 0,
        exit_code: 0,
        start_time: 0,
        group_leader: 0,
    };
}

/// Why a kernel program could not deliver an event. Each is a slot of the
/// per-CPU `LOST` array that user space sums and reports.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LostReason {
    /// The ring buffer (or a per-CPU record area) was full.
    RingBufFull = 0,
    /// A map holding in-flight state (e.g. syscall arguments between enter
    /// and exit) was full, so the event could not be completed.
    InFlightFull = 1,
    /// A map aggregating in the kernel (counts or histograms by key) had no
    /// room for a new key, so the event was not counted.
    KeyMapFull = 2,
    /// An exit was seen without its entry: the kernel did not run the
    /// entry program (it skips tracing programs that would nest in
    /// another), so the event could not be timed.
    EntryMissed = 3,
    /// The kernel skipped a run of the program itself: it would have
    /// nested in another run on the same CPU (an interrupt arriving while
    /// the program ran). The kernel counts these in the program's
    /// `recursion_misses`, which user space reads; this LOST slot stays 0.
    Skipped = 4,
    /// Runs the kernel counted by its own means (/proc/stat) beyond those
    /// the programs counted or reported lost for another reason: their
    /// tracepoint fired without running them, as seen on the test VM.
    /// Found by user space (a lower bound); this LOST slot stays 0.
    NotRun = 5,
}

impl LostReason {
    /// Objects built before a reason was added have a shorter LOST map;
    /// user space reads only the slots an object has.
    pub const COUNT: u32 = 6;
    pub const ALL: [LostReason; 6] = [
        LostReason::RingBufFull,
        LostReason::InFlightFull,
        LostReason::KeyMapFull,
        LostReason::EntryMissed,
        LostReason::Skipped,
        LostReason::NotRun,
    ];

    pub const fn describe(self) -> &'static str {
        match self {
            LostReason::RingBufFull => "ring buffer full",
            LostReason::InFlightFull => "in-flight map full",
            LostReason::KeyMapFull => "aggregation map full",
            LostReason::EntryMissed => "entry not seen",
            LostReason::Skipped => "runs the kernel skipped as nested",
            LostReason::NotRun => "runs counted by the kernel, not by the programs",
        }
    }
}

#[cfg(feature = "user")]
mod user {
    // SAFETY: plain #[repr(C)] data with no padding-dependent invariants;
    // any bit pattern is a valid value.
    unsafe impl aya::Pod for super::Filter {}
    unsafe impl aya::Pod for super::EventHeader {}
    unsafe impl aya::Pod for super::TaskOffsets {}
}
