//! tcplife, kernel half: `sock:inet_sock_set_state`, plus accept(2) and
//! accept4(2) to learn who owns passive connections.
//!
//! A connection is born at its first state change (SYN_SENT for active
//! ones, SYN_RECV for passive ones) and reported when it reaches CLOSE,
//! with the bytes `tcp_sock` counted. Its owner is the task that called
//! connect() (seen at CLOSE -> SYN_SENT) or accept() on it.
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
        accepted, config_selects, emit, event_header, forget_owner, owner, remember_owner,
        sock_state, task_filter_on, tcp_bytes,
    },
};

ebpftop_ebpf::in_flight_syscalls!(InFlight);

ebpftop_ebpf::tcp_globals!(Tcp);

/// When each connection was born (`bpf_ktime_get_ns`), by socket address.
#[map]
static BIRTH: HashMap<u64, u64> = HashMap::with_max_entries(65536, 0);

#[tracepoint]
pub fn tcplife_state(ctx: TracePointContext) -> u32 {
    let s = sock_state(&ctx);
    if s.protocol != IPPROTO_TCP || s.oldstate == state::LISTEN || s.newstate == state::LISTEN {
        return 0;
    }
    // SAFETY: helper call without arguments.
    let now = unsafe { bpf_ktime_get_ns() };
    if s.newstate != state::CLOSE {
        if s.oldstate == state::CLOSE
            && s.newstate == state::SYN_SENT
            && let Some(pid_tgid) = current_task_if_selected()
        {
            remember_owner::<Tcp>(s.skaddr, pid_tgid);
        }
        // SAFETY: only the presence of the entry is checked.
        if unsafe { BIRTH.get(s.skaddr) }.is_none() && BIRTH.insert(s.skaddr, now, 0).is_err() {
            count_lost(LostReason::InFlightFull);
        }
        return 0;
    }
    // SAFETY: copied out before removal.
    let born = unsafe { BIRTH.get(s.skaddr) }.copied();
    let _ = BIRTH.remove(s.skaddr);
    let who = owner::<Tcp>(s.skaddr);
    forget_owner::<Tcp>(s.skaddr);
    // Born before we started: its lifespan is unknown.
    let Some(born) = born else {
        return 0;
    };
    if who.is_none() && task_filter_on() {
        return 0;
    }
    if !config_selects::<Tcp>(&s.ep) {
        return 0;
    }
    let (rx_bytes, tx_bytes) = tcp_bytes::<Tcp>(s.skaddr);
    emit(&TcpEvent {
        header: event_header(who, now),
        ep: s.ep,
        skaddr: s.skaddr,
        span_ns: now.wrapping_sub(born),
        rx_bytes,
        tx_bytes,
        oldstate: s.oldstate,
        newstate: s.newstate,
        error: 0,
        _pad: 0,
    });
    0
}

#[tracepoint]
pub fn tcplife_accept_enter(ctx: TracePointContext) -> u32 {
    save_syscall::<InFlight, 0>(&ctx, 0);
    0
}

#[tracepoint]
pub fn tcplife_accept_exit(ctx: TracePointContext) -> u32 {
    if let Some((sk, _, pid_tgid)) = accepted::<Tcp, InFlight>(&ctx) {
        remember_owner::<Tcp>(sk, pid_tgid);
    }
    0
}
