//! biolatency, kernel half: each block request timed from
//! `block:block_rq_issue` (or, with `-Q`, `block_rq_insert`) to
//! `block_rq_complete`, and counted into a log-linear histogram per key
//! (all, per disk, per operation and flags) in the kernel. User space
//! reads the histograms once per interval.
//!
//! Requests complete in interrupt context, so there is no task filter:
//! `--disk` is the filter, checked first in every program.
#![no_std]
#![no_main]
// The BPF target has no atomic types with fetch_add; the intrinsic compiles
// to BPF's atomic add.

use aya_ebpf::{
    bindings::{BPF_ANY, BPF_F_NO_PREALLOC, BPF_NOEXIST},
    helpers::generated::bpf_ktime_get_ns,
    macros::{map, tracepoint},
    maps::{HashMap, LruHashMap, PerCpuArray},
    programs::TracePointContext,
};
use ebpftop_common::block::{
    BiolatencyConfig, BlockLatency, HistKey, MAX_IN_FLIGHT, MAX_KEYS, RWBS_LEN, RequestKey,
};
use ebpftop_ebpf::{
    block::{request_if_selected, rwbs},
    histogram::{atomic_add, bucket_of},
    syscall_latency::shared_value_for,
};

#[unsafe(no_mangle)]
static BIOLATENCY: BiolatencyConfig = BiolatencyConfig::DEFAULT;

macro_rules! config {
    ($field:ident) => {
        // SAFETY: a plain static, set before load and never written here.
        unsafe { core::ptr::read_volatile(&raw const BIOLATENCY.$field) }
    };
}

/// When each request in flight started. LRU: a request merged into
/// another never completes, and its entry must not stay for ever.
#[map]
static STARTS: LruHashMap<RequestKey, u64> = LruHashMap::with_max_entries(MAX_IN_FLIGHT, 0);

#[map]
static LATENCIES: HashMap<HistKey, BlockLatency> =
    HashMap::with_max_entries(MAX_KEYS, BPF_F_NO_PREALLOC);

/// A zeroed value to create entries from: too large for the BPF stack.
#[map]
static ZERO: PerCpuArray<BlockLatency> = PerCpuArray::with_max_entries(1, 0);

#[inline(always)]
fn started(ctx: &TracePointContext, flags: u32) {
    let Some(key) = request_if_selected(ctx) else {
        return;
    };
    // SAFETY: helper call without arguments.
    let now = unsafe { bpf_ktime_get_ns() };
    // An LRU map makes room by evicting; NOEXIST fails only on a key that
    // is there, which is the point of it.
    let _ = STARTS.insert(key, now, u64::from(flags));
}

/// Attached with `-Q` only.
#[tracepoint]
pub fn biolatency_insert(ctx: TracePointContext) -> u32 {
    started(&ctx, BPF_ANY);
    0
}

#[tracepoint]
pub fn biolatency_issue(ctx: TracePointContext) -> u32 {
    // With -Q the insertion time stays; requests that bypass the queue
    // (issued directly, as on disks without a scheduler) start here.
    let flags = if config!(queued) != 0 {
        BPF_NOEXIST
    } else {
        BPF_ANY
    };
    started(&ctx, flags);
    0
}

#[tracepoint]
pub fn biolatency_complete(ctx: TracePointContext) -> u32 {
    let Some(req) = request_if_selected(&ctx) else {
        return 0;
    };
    // SAFETY: a value of our map, copied out before the entry is removed.
    let Some(start) = (unsafe { STARTS.get(req) }).copied() else {
        return 0;
    };
    let _ = STARTS.remove(req);
    // SAFETY: helper call without arguments.
    let ns = unsafe { bpf_ktime_get_ns() }.wrapping_sub(start);
    let key = HistKey {
        dev: if config!(per_disk) != 0 { req.dev } else { 0 },
        _pad: 0,
        rwbs: if config!(per_flags) != 0 {
            rwbs(&ctx)
        } else {
            [0; RWBS_LEN]
        },
    };
    let v = match LATENCIES.get_ptr_mut(key) {
        Some(v) => v,
        None => {
            let Some(zero) = ZERO.get_ptr(0) else {
                return 0;
            };
            // SAFETY: a map value, never written.
            match shared_value_for(&LATENCIES, &key, unsafe { &*zero }) {
                Some(v) => v,
                None => return 0,
            }
        }
    };
    let Some(i) = bucket_of(ns, config!(unit_ns)) else {
        return 0;
    };
    // SAFETY: `v` is a value of our map; other CPUs update it too.
    unsafe {
        atomic_add(&raw mut (*v).count, 1);
        atomic_add(&raw mut (*v).total_ns, ns);
        atomic_add((&raw mut (*v).buckets).cast::<u64>().add(i), 1);
    }
    0
}
