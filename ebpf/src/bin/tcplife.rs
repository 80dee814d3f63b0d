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

use aya_ebpf::{helpers::generated::bpf_ktime_get_ns, macros::map, maps::HashMap};
use ebpftop_common::{
    EventHeader, LostReason,
    tcp::{TcpEvent, state},
};
use ebpftop_ebpf::{
    count_lost, current_task_if_selected,
    sched::TaskRead,
    tcp::{
        Change, NetPort, config_selects, current_header, emit, event_header, is_tcp, net_port,
        sock_endpoints, task_filter_on, tcp_bytes,
    },
};

ebpftop_ebpf::tcp_globals!(Tcp);

ebpftop_ebpf::state_change_programs!(tcplife_state_btf, tcplife_state_raw, on_change);

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

/// Connections alive since we started, by socket address.
#[map]
static LIVES: HashMap<u64, Life> = HashMap::with_max_entries(65536, 0);

/// Listeners' owners, by (network namespace, port).
#[map]
static LISTENERS: HashMap<NetPort, EventHeader> = HashMap::with_max_entries(4096, 0);

#[inline(always)]
fn on_change<R: TaskRead>(c: Change) {
    match (c.oldstate, c.newstate) {
        (state::CLOSE, state::SYN_SENT) => born_active::<R>(c.sk),
        // A listener's new child starts as a copy of it, state included.
        (state::LISTEN, state::SYN_RECV) => born_passive::<R>(c.sk),
        (state::LISTEN, state::CLOSE) => {
            let _ = LISTENERS.remove(net_port::<Tcp, R>(c.sk));
        }
        (_, state::CLOSE) => died::<R>(c),
        (_, state::FIN_WAIT1 | state::LAST_ACK) => closing(c.sk),
        (_, state::LISTEN) => listening::<R>(c.sk),
        _ => {}
    }
}

#[inline(always)]
fn born_active<R: TaskRead>(sk: u64) {
    if !is_tcp::<Tcp, R>(sk) {
        return;
    }
    // Not selected: never reported, so never kept.
    let Some(pid_tgid) = current_task_if_selected() else {
        return;
    };
    let owner = current_header(pid_tgid);
    keep(sk, owner.ts_ns, owner, OWNER_TASK);
}

#[inline(always)]
fn born_passive<R: TaskRead>(sk: u64) {
    if !is_tcp::<Tcp, R>(sk) {
        return;
    }
    // SAFETY: helper call without arguments.
    let now = unsafe { bpf_ktime_get_ns() };
    // SAFETY: copied out at once; entries are only replaced whole.
    match unsafe { LISTENERS.get(net_port::<Tcp, R>(sk)) } {
        Some(owner) => keep(sk, now, *owner, OWNER_LISTENER),
        None => keep(sk, now, EventHeader::default(), OWNER_NONE),
    }
}

#[inline(always)]
fn keep(sk: u64, born_ns: u64, owner: EventHeader, owner_kind: u32) {
    let life = Life {
        born_ns,
        owner,
        owner_kind,
        _pad: 0,
    };
    if LIVES.insert(sk, life, 0).is_err() {
        count_lost(LostReason::InFlightFull);
    }
}

/// Inside close() or shutdown(): the closing task owns a passive
/// connection from now on (if the filter selects it; else nobody does).
#[inline(always)]
fn closing(sk: u64) {
    // SAFETY: our own entry, updated in place by the task closing it.
    let Some(life) = (unsafe { LIVES.get_ptr_mut(sk).map(|p| &mut *p) }) else {
        return;
    };
    if life.owner_kind == OWNER_TASK {
        return;
    }
    match current_task_if_selected() {
        Some(pid_tgid) => {
            life.owner = current_header(pid_tgid);
            life.owner_kind = OWNER_TASK;
        }
        None => life.owner_kind = OWNER_NONE,
    }
}

/// Inside listen(): the listener's owner, for the connections it accepts.
#[inline(always)]
fn listening<R: TaskRead>(sk: u64) {
    if !is_tcp::<Tcp, R>(sk) {
        return;
    }
    let key = net_port::<Tcp, R>(sk);
    match current_task_if_selected() {
        Some(pid_tgid) => {
            if LISTENERS.insert(key, current_header(pid_tgid), 0).is_err() {
                count_lost(LostReason::InFlightFull);
            }
        }
        None => {
            let _ = LISTENERS.remove(key);
        }
    }
}

#[inline(always)]
fn died<R: TaskRead>(c: Change) {
    // SAFETY: copied out before removal.
    let Some(life) = (unsafe { LIVES.get(c.sk) }).copied() else {
        // Born before we started, or not selected.
        return;
    };
    let _ = LIVES.remove(c.sk);
    if life.owner_kind == OWNER_NONE && task_filter_on() {
        return;
    }
    let Some(ep) = sock_endpoints::<Tcp, R>(c.sk) else {
        return;
    };
    if !config_selects::<Tcp>(&ep) {
        return;
    }
    // SAFETY: helper call without arguments.
    let now = unsafe { bpf_ktime_get_ns() };
    let (rx_bytes, tx_bytes) = tcp_bytes::<Tcp>(c.sk);
    let owner = (life.owner_kind != OWNER_NONE).then_some(life.owner);
    emit(&TcpEvent {
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
    });
}
