//! Block I/O requests (biolatency, biosnoop): the `block:block_rq_*`
//! tracepoints' record layout, and the types both halves share.
//!
//! The classic tracepoints name a request by its disk (`dev`, the kernel's
//! `major << 20 | minor`) and first sector, so a request in flight is keyed
//! by the two: two requests to one sector of one disk in flight at once
//! (rare; flushes, which all carry sector 0) share a slot.

use crate::{EventHeader, loglinear};

/// Offsets in the records of `block:block_rq_insert`, `block_rq_issue`,
/// `block_rq_complete` and `block_io_start` (the same for all four; user
/// space checks them against the format files before loading).
pub const TP_DEV: usize = 8;
pub const TP_SECTOR: usize = 16;
pub const TP_NR_SECTOR: usize = 24;
/// `int error` in `block_rq_complete` (`unsigned int bytes` in the others).
pub const TP_ERROR: usize = 28;
pub const TP_RWBS: usize = 34;
/// Bytes of `rwbs` copied: its longest value ("FDEFASMU") fits.
pub const RWBS_LEN: usize = 8;

/// The kernel's `dev_t`: 12 bits of major, 20 of minor.
pub const MINOR_BITS: u32 = 20;

/// A request in flight.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RequestKey {
    pub sector: u64,
    pub dev: u32,
    pub _pad: u32,
}

/// `--disk`: a read-only global both tools check first in every program.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DiskFilter {
    /// Non-zero: only requests to `dev`.
    pub enabled: u32,
    pub dev: u32,
}

impl DiskFilter {
    pub const ALL: DiskFilter = DiskFilter { enabled: 0, dev: 0 };
}

/// Requests in flight either map holds; older ones (requests merged away,
/// never completed) are evicted first (LRU).
pub const MAX_IN_FLIGHT: u32 = 16384;

/// biolatency's settings, a read-only global.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BiolatencyConfig {
    /// Nanoseconds per histogram unit: 1000 (usecs) or 1000000 (msecs).
    pub unit_ns: u64,
    /// A histogram per disk (`-D`).
    pub per_disk: u32,
    /// A histogram per operation and flags (`-F`).
    pub per_flags: u32,
    /// Time from insertion into the OS queue (`-Q`), not from issue.
    pub queued: u32,
    pub _pad: u32,
}

impl BiolatencyConfig {
    pub const DEFAULT: BiolatencyConfig = BiolatencyConfig {
        unit_ns: 1000,
        per_disk: 0,
        per_flags: 0,
        queued: 0,
        _pad: 0,
    };
}

/// A histogram's key: disk (0 unless `-D`) and `rwbs` (zero unless `-F`).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct HistKey {
    pub dev: u32,
    pub _pad: u32,
    pub rwbs: [u8; RWBS_LEN],
}

/// One key's latencies, summed over CPUs with atomic adds.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct BlockLatency {
    pub count: u64,
    pub total_ns: u64,
    pub buckets: [u64; loglinear::BUCKETS],
}

impl BlockLatency {
    pub const ZERO: BlockLatency = BlockLatency {
        count: 0,
        total_ns: 0,
        buckets: [0; loglinear::BUCKETS],
    };
}

/// Histograms the map can hold; a key that finds it full is counted lost.
pub const MAX_KEYS: u32 = 1024;

/// biosnoop's settings, a read-only global.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BiosnoopConfig {
    /// A task filter is set: report only requests whose issuer was seen
    /// and selected.
    pub need_owner: u32,
    pub _pad: u32,
}

impl BiosnoopConfig {
    pub const DEFAULT: BiosnoopConfig = BiosnoopConfig {
        need_owner: 0,
        _pad: 0,
    };
}

/// What biosnoop keeps about a request in flight.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct PendingRequest {
    /// The task that submitted the request (`ts_ns`: when), if seen.
    pub owner: EventHeader,
    /// When it was inserted into the OS queue (0: not seen).
    pub insert_ns: u64,
    /// When it was issued to the device driver (0: not seen).
    pub issue_ns: u64,
    /// Non-zero when `owner` is filled.
    pub has_owner: u32,
    pub _pad: u32,
}

/// One completed request, as biosnoop reports it.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct BioEvent {
    /// The issuer (zeros, with `has_owner` 0, when not seen); `ts_ns` is
    /// the completion time.
    pub header: EventHeader,
    pub insert_ns: u64,
    pub issue_ns: u64,
    pub sector: u64,
    pub dev: u32,
    pub nr_sector: u32,
    pub error: i32,
    pub has_owner: u32,
    pub rwbs: [u8; RWBS_LEN],
}

#[cfg(feature = "user")]
mod user {
    // SAFETY: plain #[repr(C)] data; any bit pattern is valid.
    unsafe impl aya::Pod for super::RequestKey {}
    unsafe impl aya::Pod for super::DiskFilter {}
    unsafe impl aya::Pod for super::BiolatencyConfig {}
    unsafe impl aya::Pod for super::HistKey {}
    unsafe impl aya::Pod for super::BlockLatency {}
    unsafe impl aya::Pod for super::BiosnoopConfig {}
}
