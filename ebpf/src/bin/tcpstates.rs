//! tcpstates, kernel half: `sock:inet_sock_set_state`, plus accept(2) and
//! accept4(2) to learn who owns passive connections.
//!
//! Every TCP state change is reported with the time since the socket's
//! previous one. It is attributed to the socket's owner when known (the
//! task in connect(), listen() or accept()), else to the task running at
//! the change, as bcc does.
#![no_std]
#![no_main]

use aya_ebpf::{
    helpers::generated::bpf_ktime_get_ns,
    macros::{map, tracepoint},
    maps::HashMap,
    programs::TracePointContext,
};
use ebpftop_common::{
    LostReason,
    tcp::{IPPROTO_TCP, TcpEvent, state},
};
use ebpftop_ebpf::{
    count_lost, current_task_if_selected, save_syscall,
    tcp::{
        accepted, config_selects, current_header, emit, event_header, forget_owner, owner,
        remember_owner, sock_state,
    },
};

ebpftop_ebpf::in_flight_syscalls!(InFlight);

ebpftop_ebpf::tcp_globals!(Tcp, owners);

/// When each socket entered its current state, by socket address.
#[map]
static SINCE: HashMap<u64, u64> = HashMap::with_max_entries(65536, 0);

#[tracepoint]
pub fn tcpstates_state(ctx: TracePointContext) -> u32 {
    let s = sock_state(&ctx);
    if s.protocol != IPPROTO_TCP {
        return 0;
    }
    // SAFETY: helper call without arguments.
    let now = unsafe { bpf_ktime_get_ns() };
    // SAFETY: copied out before the entry is replaced.
    let since = unsafe { SINCE.get(s.skaddr) }.copied();
    if s.newstate == state::CLOSE {
        let _ = SINCE.remove(s.skaddr);
    } else if SINCE.insert(s.skaddr, now, 0).is_err() {
        count_lost(LostReason::InFlightFull);
    }
    // connect() and listen() run in the owner's context.
    let in_caller = (s.oldstate == state::CLOSE && s.newstate == state::SYN_SENT)
        || s.newstate == state::LISTEN;
    let mut who = owner::<Tcp>(s.skaddr);
    if who.is_none() {
        let Some(pid_tgid) = current_task_if_selected() else {
            return 0;
        };
        if in_caller {
            remember_owner::<Tcp>(s.skaddr, current_header(pid_tgid));
            who = owner::<Tcp>(s.skaddr);
        }
    }
    if s.newstate == state::CLOSE {
        forget_owner::<Tcp>(s.skaddr);
    }
    if !config_selects::<Tcp>(&s.ep) {
        return 0;
    }
    emit(&TcpEvent {
        header: event_header(who, now),
        ep: s.ep,
        skaddr: s.skaddr,
        span_ns: since.map_or(0, |t| now.wrapping_sub(t)),
        rx_bytes: 0,
        tx_bytes: 0,
        oldstate: s.oldstate,
        newstate: s.newstate,
        error: 0,
        _pad: 0,
    });
    0
}

#[tracepoint]
pub fn tcpstates_accept_enter(ctx: TracePointContext) -> u32 {
    save_syscall::<InFlight, 0>(&ctx, 0);
    0
}

#[tracepoint]
pub fn tcpstates_accept_exit(ctx: TracePointContext) -> u32 {
    if let Some((sk, _, pid_tgid)) = accepted::<Tcp, InFlight>(&ctx) {
        remember_owner::<Tcp>(sk, current_header(pid_tgid));
    }
    0
}
