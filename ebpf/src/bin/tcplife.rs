//! tcplife, kernel half: `inet_sock_set_state`, through its BTF tracepoint
//! where the kernel has one, else its raw tracepoint. No syscall
//! tracepoint: enabling any of them puts every syscall of every task on
//! the kernel's slow path.
//!
//! A connection is born at CLOSE -> SYN_SENT (inside connect()) or
//! LISTEN -> SYN_RECV (a listener's new child, in softirq) and reported at
//! CLOSE, with the bytes `tcp_sock` counted. Its owner is learnt where the
//! task is known:
//! - an active connection's is the task in connect();
//! - a passive one's is first its listener's (the task in listen(), found
//!   by network namespace and port), then, when the connection closes
//!   with a FIN, the task in close() or shutdown() (FIN_WAIT1 and LAST_ACK
//!   are entered only there), as bcc's tcplife attributes it.
//!
//! Every other change returns after a few compares.
#![no_std]
#![no_main]

use aya_ebpf::helpers::generated::bpf_ktime_get_ns;
use ebpftop_common::{
    EventHeader, LostReason,
    tcp::{TcpEvent, state},
};
use ebpftop_ebpf::slots::InFlight;
use ebpftop_ebpf::{
    count_lost,
    records::Emit,
    sched::TaskRead,
    tcp::{
        Change, LocalPort, NetPort, config_selects, event_header, is_tcp, net_port, sock_endpoints,
        task_filter_on, tcp_bytes,
    },
};

ebpftop_ebpf::tcp_globals!(Tcp);
ebpftop_ebpf::cpu_records!(Records: TcpEvent);

ebpftop_ebpf::state_change_programs! {
    on_change: tcplife_state_btf, tcplife_state_raw => &(&LIVES, &LISTENERS), Records;
    tcplife_state_btf_h, tcplife_state_raw_h => &(&LIVES_HASH, &LISTENERS_HASH);
    alone: tcplife_state_btf_alone, tcplife_state_raw_alone,
        tcplife_state_btf_h_alone, tcplife_state_raw_h_alone;
}

/// Whose a connection is, as far as is known.
const OWNER_NONE: u32 = 0;
/// Its listener's owner, until a task closes it.
const OWNER_LISTENER: u32 = 1;
/// The task in connect(), close() or shutdown(): final.
const OWNER_TASK: u32 = 2;

/// What is kept of a connection from its birth to its CLOSE.
#[repr(C)]
#[derive(Clone, Copy)]
struct Life {
    born_ns: u64,
    owner: EventHeader,
    owner_kind: u32,
    _pad: u32,
}

// Connections alive since we started, by socket.
ebpftop_ebpf::in_flight_tables!(LIFE_SLOTS => LIVES, LIVES_HASH: Life, 16);

/// A listener's owner, and where it listens.
#[repr(C)]
#[derive(Clone, Copy)]
struct Listener {
    at: NetPort,
    owner: EventHeader,
}

// Listeners, by `NetPort::key`. A passive connection looks up its own at
// birth: an array lookup is inlined, a hash map's is a call.
ebpftop_ebpf::in_flight_tables!(LISTENER_SLOTS => LISTENERS, LISTENERS_HASH: Listener, 12);

#[inline(always)]
fn on_change<R: TaskRead, O: Emit<TcpEvent>>(
    c: Change,
    (lives, listeners): &(impl InFlight<Life>, impl InFlight<Listener>),
) {
    match (c.oldstate, c.newstate) {
        (state::CLOSE, state::SYN_SENT) => born_active::<R>(c, lives),
        // A listener's new child starts as a copy of it, state included.
        (state::LISTEN, state::SYN_RECV) => born_passive::<R>(c, lives, listeners),
        (state::LISTEN, state::CLOSE) => {
            let at = net_port::<Tcp, R>(c.sk);
            let _ = listener_of(listeners, at, true);
        }
        (_, state::CLOSE) => died::<R, O>(c, lives),
        (_, state::FIN_WAIT1 | state::LAST_ACK) => closing::<R>(c.key, lives),
        (_, state::LISTEN) => listening::<R>(c.sk, listeners),
        _ => {}
    }
}

#[inline(always)]
fn born_active<R: TaskRead>(c: Change, lives: &impl InFlight<Life>) {
    if !is_tcp::<Tcp, R>(c.sk) {
        return;
    }
    // Not selected: never reported, so never kept.
    let Some(owner) = R::current_if_selected() else {
        return;
    };
    keep(lives, c.key, owner.ts_ns, owner, OWNER_TASK);
}

#[inline(always)]
fn born_passive<R: TaskRead>(
    c: Change,
    lives: &impl InFlight<Life>,
    listeners: &impl InFlight<Listener>,
) {
    if !is_tcp::<Tcp, R>(c.sk) {
        return;
    }
    // SAFETY: helper call without arguments.
    let now = unsafe { bpf_ktime_get_ns() };
    match listener_of(listeners, net_port::<Tcp, R>(c.sk), false) {
        Some(owner) => keep(lives, c.key, now, owner, OWNER_LISTENER),
        None => keep(lives, c.key, now, EventHeader::default(), OWNER_NONE),
    }
}

#[inline(always)]
fn keep(lives: &impl InFlight<Life>, sk: u64, born_ns: u64, owner: EventHeader, owner_kind: u32) {
    let life = Life {
        born_ns,
        owner,
        owner_kind,
        _pad: 0,
    };
    if !lives.put(sk, life) {
        count_lost(LostReason::InFlightFull);
    }
}

/// Inside close() or shutdown(): the closing task owns a passive
/// connection from now on (if the filter selects it; else nobody does).
#[inline(always)]
fn closing<R: TaskRead>(sk: u64, lives: &impl InFlight<Life>) {
    // SAFETY: our own entry, updated in place by the task closing it.
    let Some(life) = lives.get_mut(sk) else {
        return;
    };
    if life.owner_kind == OWNER_TASK {
        return;
    }
    match R::current_if_selected() {
        Some(owner) => {
            life.owner = owner;
            life.owner_kind = OWNER_TASK;
        }
        None => life.owner_kind = OWNER_NONE,
    }
}

/// Inside listen(): the listener's owner, for the connections it accepts.
#[inline(always)]
fn listening<R: TaskRead>(sk: u64, listeners: &impl InFlight<Listener>) {
    if !is_tcp::<Tcp, R>(sk) {
        return;
    }
    let at = net_port::<Tcp, R>(sk);
    match R::current_if_selected() {
        Some(owner) => {
            if !listeners.put(at.key(), Listener { at, owner }) {
                count_lost(LostReason::InFlightFull);
            }
        }
        None => {
            let _ = listener_of(listeners, at, true);
        }
    }
}

/// The owner of the listener at `at`, taken out of `listeners` if `take`.
#[inline(always)]
fn listener_of(
    listeners: &impl InFlight<Listener>,
    at: NetPort,
    take: bool,
) -> Option<EventHeader> {
    let l = *listeners.get_mut(at.key())?;
    // A key two namespaces share (see `NetPort::key`) finds the other's.
    if l.at != at {
        return None;
    }
    if take {
        let _ = listeners.take(at.key());
    }
    Some(l.owner)
}

#[inline(always)]
fn died<R: TaskRead, O: Emit<TcpEvent>>(c: Change, lives: &impl InFlight<Life>) {
    // SAFETY: copied out before removal.
    let Some(life) = lives.take(c.key) else {
        // Born before we started, or not selected.
        return;
    };
    if life.owner_kind == OWNER_NONE && task_filter_on() {
        return;
    }
    let tsk = R::tcp_sock(c.sk);
    let Some(ep) = sock_endpoints::<Tcp, R>(c.sk, LocalPort::Inet(tsk)) else {
        return;
    };
    if !config_selects::<Tcp>(&ep) {
        return;
    }
    // SAFETY: helper call without arguments.
    let now = unsafe { bpf_ktime_get_ns() };
    let (rx_bytes, tx_bytes) = tcp_bytes::<Tcp, R>(tsk);
    let owner = (life.owner_kind != OWNER_NONE).then_some(life.owner);
    O::emit(
        &TcpEvent {
            header: event_header(owner, now),
            ep,
            skaddr: c.sk,
            span_ns: now.wrapping_sub(life.born_ns),
            rx_bytes,
            tx_bytes,
            oldstate: c.oldstate,
            newstate: c.newstate,
            error: 0,
            _pad: 0,
        },
        now,
    );
}
