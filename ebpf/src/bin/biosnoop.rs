//! biosnoop, kernel half: one record per completed block request, with
//! the task that submitted it, its queue time and its device time.
//!
//! The submitter is recorded where the submitting task is current:
//! `block:block_io_start` (accounting start, in the submitter's context;
//! Linux 6.5 and later) or else `block_rq_insert`. `block_rq_issue` may run
//! in a kworker and `block_rq_complete` in an interrupt, so neither says
//! who asked. The task filter (`-p`, `-c`, ...) is applied there too.
#![no_std]
#![no_main]

use aya_ebpf::{
    bindings::BPF_ANY,
    helpers::generated::bpf_ktime_get_ns,
    macros::{map, tracepoint},
    maps::LruHashMap,
    programs::TracePointContext,
};
use ebpftop_common::{
    EventHeader, LostReason,
    block::{BioEvent, BiosnoopConfig, MAX_IN_FLIGHT, PendingRequest, RequestKey},
};
use ebpftop_ebpf::{
    EVENTS,
    block::{error, nr_sector, request_if_selected, rwbs},
    count_lost, current_task_if_selected, fill_header, submit,
};

#[unsafe(no_mangle)]
static BIOSNOOP: BiosnoopConfig = BiosnoopConfig::DEFAULT;

#[inline(always)]
fn need_owner() -> bool {
    // SAFETY: a plain static, set before load and never written here.
    unsafe { core::ptr::read_volatile(&raw const BIOSNOOP.need_owner) != 0 }
}

/// Requests in flight. LRU: a request merged into another never
/// completes, and its entry must not stay for ever.
#[map]
static PENDING: LruHashMap<RequestKey, PendingRequest> =
    LruHashMap::with_max_entries(MAX_IN_FLIGHT, 0);

const EMPTY: PendingRequest = PendingRequest {
    owner: EventHeader {
        ts_ns: 0,
        cgroup_id: 0,
        pid: 0,
        tid: 0,
        uid: 0,
        gid: 0,
        comm: [0; 16],
    },
    insert_ns: 0,
    issue_ns: 0,
    has_owner: 0,
    _pad: 0,
};

/// A new request: its submitter is the current task.
#[tracepoint]
pub fn biosnoop_io_start(ctx: TracePointContext) -> u32 {
    let Some(key) = request_if_selected(&ctx) else {
        return 0;
    };
    let Some(pid_tgid) = current_task_if_selected() else {
        // Not ours; an older request's entry for the sector must not be
        // taken for this one.
        let _ = PENDING.remove(key);
        return 0;
    };
    let mut p = EMPTY;
    fill_header(&mut p.owner, pid_tgid);
    p.has_owner = 1;
    let _ = PENDING.insert(key, p, u64::from(BPF_ANY));
    0
}

/// The entry for `key`, created (empty) when missing unless a filter
/// needs the owner, which only [`biosnoop_io_start`] or an insert by a
/// selected task records.
#[inline(always)]
fn entry(key: &RequestKey, create: bool) -> Option<*mut PendingRequest> {
    if let Some(p) = PENDING.get_ptr_mut(key) {
        return Some(p);
    }
    if !create {
        return None;
    }
    let _ = PENDING.insert(key, EMPTY, u64::from(BPF_ANY));
    PENDING.get_ptr_mut(key)
}

#[tracepoint]
pub fn biosnoop_insert(ctx: TracePointContext) -> u32 {
    let Some(key) = request_if_selected(&ctx) else {
        return 0;
    };
    // SAFETY: helper call without arguments.
    let now = unsafe { bpf_ktime_get_ns() };
    let selected = current_task_if_selected();
    let Some(p) = entry(&key, selected.is_some() || !need_owner()) else {
        return 0;
    };
    // SAFETY: a value of our map; only this request's events touch it.
    unsafe {
        (*p).insert_ns = now;
        // Where block_io_start is missing, the inserting task is the best
        // guess at the submitter.
        if (*p).has_owner == 0
            && let Some(pid_tgid) = selected
        {
            fill_header(&mut (*p).owner, pid_tgid);
            (*p).has_owner = 1;
        }
    }
    0
}

#[tracepoint]
pub fn biosnoop_issue(ctx: TracePointContext) -> u32 {
    let Some(key) = request_if_selected(&ctx) else {
        return 0;
    };
    // SAFETY: helper call without arguments.
    let now = unsafe { bpf_ktime_get_ns() };
    let Some(p) = entry(&key, !need_owner()) else {
        return 0;
    };
    // SAFETY: a value of our map; only this request's events touch it.
    unsafe { (*p).issue_ns = now };
    0
}

#[tracepoint]
pub fn biosnoop_complete(ctx: TracePointContext) -> u32 {
    let Some(key) = request_if_selected(&ctx) else {
        return 0;
    };
    // SAFETY: a value of our map, copied out before the entry is removed.
    let Some(p) = (unsafe { PENDING.get(key) }).copied() else {
        return 0;
    };
    let _ = PENDING.remove(key);
    if p.issue_ns == 0 || (need_owner() && p.has_owner == 0) {
        return 0;
    }
    let Some(mut entry) = EVENTS.reserve::<BioEvent>(0) else {
        count_lost(LostReason::RingBufFull);
        return 0;
    };
    // SAFETY: helper call without arguments.
    let now = unsafe { bpf_ktime_get_ns() };
    // SAFETY: a reserved, writable record of our size; every field is
    // written below.
    unsafe {
        let e = &mut *entry.as_mut_ptr();
        e.header = p.owner;
        e.header.ts_ns = now;
        e.insert_ns = p.insert_ns;
        e.issue_ns = p.issue_ns;
        e.sector = key.sector;
        e.dev = key.dev;
        e.nr_sector = nr_sector(&ctx);
        e.error = error(&ctx);
        e.has_owner = p.has_owner;
        e.rwbs = rwbs(&ctx);
    }
    submit(entry, now);
    0
}
