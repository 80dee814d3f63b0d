//! Block request tracepoints (`block:block_rq_*`), shared by biolatency
//! and biosnoop: the `--disk` filter and reading a request's identity from
//! a classic tracepoint record.

use aya_ebpf::{EbpfContext, programs::TracePointContext};
use ebpftop_common::block::{
    DiskFilter, RWBS_LEN, RequestKey, TP_DEV, TP_ERROR, TP_NR_SECTOR, TP_RWBS, TP_SECTOR,
};

/// `--disk`, set by user space before load.
#[unsafe(no_mangle)]
static DISK: DiskFilter = DiskFilter::ALL;

/// Reads a `T` at `offset` of a block tracepoint's record.
///
/// # Safety
/// `offset` must be a field of `T`'s size and alignment in the record
/// (see `ebpftop_common::block`; user space checks the format files).
#[inline(always)]
unsafe fn field<T: Copy>(ctx: &TracePointContext, offset: usize) -> T {
    unsafe { core::ptr::read_volatile(ctx.as_ptr().cast::<u8>().add(offset).cast::<T>()) }
}

/// The request this record is about, or `None` when `--disk` names
/// another disk.
#[inline(always)]
pub fn request_if_selected(ctx: &TracePointContext) -> Option<RequestKey> {
    // SAFETY: `dev_t dev` and `sector_t sector` offsets of block_rq_*.
    let (dev, sector) = unsafe { (field::<u32>(ctx, TP_DEV), field::<u64>(ctx, TP_SECTOR)) };
    // SAFETY: a plain static, set before load and never written here.
    let disk = unsafe { core::ptr::read_volatile(&raw const DISK) };
    if disk.enabled != 0 && dev != disk.dev {
        return None;
    }
    // A request without a start sector (a flush) is at sector 0 in the
    // insert and issue records but at -1 in the completion's, which prints
    // the raw position: one key for both.
    let sector = if sector == u64::MAX { 0 } else { sector };
    Some(RequestKey {
        sector,
        dev,
        _pad: 0,
    })
}

/// `nr_sector` of a `block_rq_*` record.
#[inline(always)]
pub fn nr_sector(ctx: &TracePointContext) -> u32 {
    // SAFETY: `unsigned int nr_sector` offset of block_rq_*.
    unsafe { field(ctx, TP_NR_SECTOR) }
}

/// `error` of a `block_rq_complete` record.
#[inline(always)]
pub fn error(ctx: &TracePointContext) -> i32 {
    // SAFETY: `int error` offset of block_rq_complete.
    unsafe { field(ctx, TP_ERROR) }
}

/// The first [`RWBS_LEN`] bytes of `char rwbs[10]` (operation and flags,
/// e.g. "WS"), byte by byte: the field is not 8-byte aligned, and a
/// tracepoint context may only be loaded at aligned offsets.
#[inline(always)]
pub fn rwbs(ctx: &TracePointContext) -> [u8; RWBS_LEN] {
    let mut out = [0u8; RWBS_LEN];
    let mut i = 0;
    while i < RWBS_LEN {
        // SAFETY: inside `char rwbs[10]` of block_rq_*.
        out[i] = unsafe { field(ctx, TP_RWBS + i) };
        i += 1;
    }
    out
}
