//! tcpconnect and tcpconnlat, kernel half: `inet_sock_set_state`, through
//! its BTF tracepoint where the kernel has one, else its raw tracepoint.
//!
//! CLOSE -> SYN_SENT runs inside connect(), in the caller's context: the
//! filter runs there and the caller is remembered by socket address. The
//! handshake's end (SYN_SENT -> ESTABLISHED, or -> CLOSE when refused or
//! timed out) usually runs in softirq: it is reported under that caller,
//! with `sk_err` saying why a connect failed (set before the kernel moves
//! the socket to CLOSE) and the time since SYN_SENT as latency. Every other
//! change returns after two compares.
#![no_std]
#![no_main]

use aya_ebpf::helpers::generated::bpf_ktime_get_ns;
use ebpftop_common::{
    EventHeader, LostReason,
    tcp::{TcpEvent, state},
};
use ebpftop_ebpf::{
    count_lost,
    records::Emit,
    sched::TaskRead,
    slots::InFlight,
    tcp::{
        Change, LocalPort, config_has_endpoints, config_selects, event_header, is_tcp, min_span_ns,
        report_failed, sock_endpoints, sock_error,
    },
};

ebpftop_ebpf::tcp_globals!(Tcp);
ebpftop_ebpf::cpu_records!(Records: TcpEvent);

ebpftop_ebpf::state_change_programs! {
    on_change: tcpconnect_state_btf, tcpconnect_state_raw => &CALLERS, Records;
    tcpconnect_state_btf_h, tcpconnect_state_raw_h => &CALLERS_HASH;
    alone: tcpconnect_state_btf_alone, tcpconnect_state_raw_alone,
        tcpconnect_state_btf_h_alone, tcpconnect_state_raw_h_alone;
}

// Who called connect() on each socket still in SYN_SENT.
ebpftop_ebpf::in_flight_tables!(CALLER_SLOTS => CALLERS, CALLERS_HASH: EventHeader, 14);

#[inline(always)]
fn on_change<R: TaskRead, O: Emit<TcpEvent>>(c: Change, callers: &impl InFlight<EventHeader>) {
    if c.oldstate == state::CLOSE && c.newstate == state::SYN_SENT {
        connecting::<R>(c, callers);
    } else if c.oldstate == state::SYN_SENT {
        handshake_done::<R, O>(c, callers);
    }
}

/// Inside connect(): remember the caller if the filter selects it. The
/// source port may not be chosen yet; family and destination are.
#[inline(always)]
fn connecting<R: TaskRead>(c: Change, callers: &impl InFlight<EventHeader>) {
    if !is_tcp::<Tcp, R>(c.sk) {
        return;
    }
    if config_has_endpoints::<Tcp>() {
        // The source port may not be chosen yet: 0 either way.
        match sock_endpoints::<Tcp, R>(c.sk, LocalPort::Bound) {
            Some(ep) if config_selects::<Tcp>(&ep) => {}
            _ => return,
        }
    }
    if let Some(caller) = R::current_if_selected()
        && !callers.put(c.key, caller)
    {
        count_lost(LostReason::InFlightFull);
    }
}

#[inline(always)]
fn handshake_done<R: TaskRead, O: Emit<TcpEvent>>(c: Change, callers: &impl InFlight<EventHeader>) {
    // Only sockets remembered at SYN_SENT (TCP, selected) have a caller.
    let Some(who) = callers.take(c.key) else {
        return;
    };
    let connected = c.newstate == state::ESTABLISHED;
    if !connected && !report_failed::<Tcp>() {
        return;
    }
    // SAFETY: helper call without arguments.
    let now = unsafe { bpf_ktime_get_ns() };
    let span_ns = now.wrapping_sub(who.ts_ns);
    if span_ns < min_span_ns::<Tcp>() {
        return;
    }
    // Established, it holds its port; a failed connect may have let it go.
    let port = if connected {
        LocalPort::Bound
    } else {
        LocalPort::Inet(R::tcp_sock(c.sk))
    };
    let Some(ep) = sock_endpoints::<Tcp, R>(c.sk, port) else {
        return;
    };
    O::emit(
        &TcpEvent {
            header: event_header(Some(who), now),
            ep,
            skaddr: c.sk,
            span_ns,
            rx_bytes: 0,
            tx_bytes: 0,
            oldstate: c.oldstate,
            newstate: c.newstate,
            error: if connected {
                0
            } else {
                sock_error::<Tcp, R>(c.sk)
            },
            _pad: 0,
        },
        now,
    );
}
