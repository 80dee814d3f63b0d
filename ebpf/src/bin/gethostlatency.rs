//! gethostlatency, kernel half: uprobes on libc's getaddrinfo,
//! gethostbyname and gethostbyname2, and a uretprobe on each.
//!
//! Entry runs the filter and saves the host pointer and the time by
//! thread; return pairs them and emits the lookup with its latency. The
//! host name is read at return: it is the caller's argument, still live.
#![no_std]
#![no_main]

use aya_ebpf::{
    helpers::generated::{bpf_get_current_pid_tgid, bpf_ktime_get_ns},
    macros::{map, uprobe, uretprobe},
    maps::HashMap,
    programs::{ProbeContext, RetProbeContext},
};
use ebpftop_common::{
    LostReason,
    gethostlatency::{HOST_LEN, LookupEvent, LookupFunc, LookupStart},
};
use ebpftop_ebpf::{
    EVENTS, count_lost, current_task_if_selected, fill_header, read_user_str, submit,
};

/// Lookups in flight, by thread id.
#[map]
static LOOKUPS: HashMap<u32, LookupStart> = HashMap::with_max_entries(10240, 0);

#[uprobe]
pub fn getaddrinfo_enter(ctx: ProbeContext) -> u32 {
    start(&ctx, LookupFunc::GetAddrInfo);
    0
}

#[uprobe]
pub fn gethostbyname_enter(ctx: ProbeContext) -> u32 {
    start(&ctx, LookupFunc::GetHostByName);
    0
}

#[uprobe]
pub fn gethostbyname2_enter(ctx: ProbeContext) -> u32 {
    start(&ctx, LookupFunc::GetHostByName2);
    0
}

#[inline(always)]
fn start(ctx: &ProbeContext, func: LookupFunc) {
    let Some(pid_tgid) = current_task_if_selected() else {
        return;
    };
    let lookup = LookupStart {
        // The host name is the first argument of all three.
        host: ctx.arg::<u64>(0).unwrap_or(0),
        // SAFETY: helper call without arguments.
        start_ns: unsafe { bpf_ktime_get_ns() },
        func: func as u32,
        _pad: 0,
    };
    if LOOKUPS.insert(pid_tgid as u32, lookup, 0).is_err() {
        count_lost(LostReason::InFlightFull);
    }
}

#[uretprobe]
pub fn lookup_return(_ctx: RetProbeContext) -> u32 {
    // SAFETY: helper call without arguments.
    let pid_tgid = unsafe { bpf_get_current_pid_tgid() };
    let tid = pid_tgid as u32;
    // SAFETY: copied out before the entry is removed.
    let Some(lookup) = (unsafe { LOOKUPS.get(tid) }).copied() else {
        return 0;
    };
    let _ = LOOKUPS.remove(tid);
    let Some(mut entry) = EVENTS.reserve::<LookupEvent>(0) else {
        count_lost(LostReason::RingBufFull);
        return 0;
    };
    let e = entry.as_mut_ptr();
    // SAFETY: `e` is a reserved record of our size; every field the
    // reader uses is written below.
    let ts_ns = unsafe {
        fill_header(&mut (*e).header, pid_tgid);
        let host = read_user_str((*e).host.as_mut_ptr(), HOST_LEN, lookup.host);
        (*e).host_len = host.len;
        (*e).func = lookup.func;
        (*e).latency_ns = (*e).header.ts_ns.wrapping_sub(lookup.start_ns);
        (*e).header.ts_ns
    };
    submit(entry, ts_ns);
    0
}
