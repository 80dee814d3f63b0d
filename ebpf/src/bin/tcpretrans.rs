//! tcpretrans, kernel half: `tcp:tcp_retransmit_skb`, plus the owner
//! bookkeeping of the other TCP tools (`sock:inet_sock_set_state` for
//! connect(), accept(2)/accept4(2) for accepted sockets).
//!
//! Retransmits run from timers and softirq, where the current task is
//! unrelated: each is reported under the socket's owner when known, and
//! with the common filter on, only then.
#![no_std]
#![no_main]

use aya_ebpf::{
    helpers::generated::bpf_ktime_get_ns, macros::tracepoint, programs::TracePointContext,
};
use ebpftop_common::tcp::{IPPROTO_TCP, TcpEvent, state};
use ebpftop_ebpf::{
    current_task_if_selected, save_syscall,
    tcp::{
        accepted, config_selects, current_header, emit, event_header, forget_owner, owner,
        remember_owner, retransmit, sock_state, task_filter_on,
    },
};

ebpftop_ebpf::in_flight_syscalls!(InFlight);

ebpftop_ebpf::tcp_globals!(Tcp, owners);

#[tracepoint]
pub fn tcpretrans_skb(ctx: TracePointContext) -> u32 {
    let (skaddr, st, ep) = retransmit(&ctx);
    let who = owner::<Tcp>(skaddr);
    if who.is_none() && task_filter_on() {
        return 0;
    }
    if !config_selects::<Tcp>(&ep) {
        return 0;
    }
    // SAFETY: helper call without arguments.
    let now = unsafe { bpf_ktime_get_ns() };
    emit(&TcpEvent {
        header: event_header(who, now),
        ep,
        skaddr,
        span_ns: 0,
        rx_bytes: 0,
        tx_bytes: 0,
        oldstate: st,
        newstate: st,
        error: 0,
        _pad: 0,
    });
    0
}

#[tracepoint]
pub fn tcpretrans_state(ctx: TracePointContext) -> u32 {
    let s = sock_state(&ctx);
    if s.protocol != IPPROTO_TCP {
        return 0;
    }
    if s.oldstate == state::CLOSE
        && s.newstate == state::SYN_SENT
        && let Some(pid_tgid) = current_task_if_selected()
    {
        remember_owner::<Tcp>(s.skaddr, current_header(pid_tgid));
    } else if s.newstate == state::CLOSE {
        forget_owner::<Tcp>(s.skaddr);
    }
    0
}

#[tracepoint]
pub fn tcpretrans_accept_enter(ctx: TracePointContext) -> u32 {
    save_syscall::<InFlight, 0>(&ctx, 0);
    0
}

#[tracepoint]
pub fn tcpretrans_accept_exit(ctx: TracePointContext) -> u32 {
    if let Some((sk, _, pid_tgid)) = accepted::<Tcp, InFlight>(&ctx) {
        remember_owner::<Tcp>(sk, current_header(pid_tgid));
    }
    0
}
