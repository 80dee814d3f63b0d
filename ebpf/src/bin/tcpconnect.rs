//! tcpconnect and tcpconnlat, kernel half: `sock:inet_sock_set_state`.
//!
//! CLOSE -> SYN_SENT runs inside connect(), in the caller's context: the
//! filter runs there and the caller is remembered by socket address. The
//! handshake's end (SYN_SENT -> ESTABLISHED, or -> CLOSE when refused or
//! timed out) usually runs in softirq: it is reported under that caller,
//! with `sk_err` saying why a connect failed (set before the kernel moves
//! the socket to CLOSE) and the time since SYN_SENT as latency.
#![no_std]
#![no_main]

use aya_ebpf::{
    helpers::generated::bpf_ktime_get_ns, macros::tracepoint, programs::TracePointContext,
};
use ebpftop_common::tcp::{IPPROTO_TCP, TcpEvent, state};
use ebpftop_ebpf::{
    current_task_if_selected,
    tcp::{
        config_selects, emit, event_header, forget_owner, min_span_ns, owner, remember_owner,
        report_failed, sock_error, sock_state,
    },
};

ebpftop_ebpf::tcp_globals!(Tcp);

#[tracepoint]
pub fn tcpconnect_state(ctx: TracePointContext) -> u32 {
    let s = sock_state(&ctx);
    if s.protocol != IPPROTO_TCP || s.oldstate != state::SYN_SENT && s.newstate != state::SYN_SENT {
        return 0;
    }
    if s.oldstate == state::CLOSE {
        // The source port may not be chosen yet; family and destination are.
        if config_selects::<Tcp>(&s.ep)
            && let Some(pid_tgid) = current_task_if_selected()
        {
            remember_owner::<Tcp>(s.skaddr, pid_tgid);
        }
        return 0;
    }
    if s.oldstate != state::SYN_SENT {
        return 0;
    }
    let Some(who) = owner::<Tcp>(s.skaddr) else {
        return 0;
    };
    forget_owner::<Tcp>(s.skaddr);
    let connected = s.newstate == state::ESTABLISHED;
    if !connected && !report_failed::<Tcp>() {
        return 0;
    }
    // SAFETY: helper call without arguments.
    let now = unsafe { bpf_ktime_get_ns() };
    let span_ns = now.wrapping_sub(who.ts_ns);
    if span_ns < min_span_ns::<Tcp>() {
        return 0;
    }
    emit(&TcpEvent {
        header: event_header(Some(who), now),
        ep: s.ep,
        skaddr: s.skaddr,
        span_ns,
        rx_bytes: 0,
        tx_bytes: 0,
        oldstate: s.oldstate,
        newstate: s.newstate,
        error: if connected {
            0
        } else {
            sock_error::<Tcp>(s.skaddr)
        },
        _pad: 0,
    });
    0
}
