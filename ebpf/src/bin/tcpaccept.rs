//! tcpaccept, kernel half: accept(2) and accept4(2) syscall tracepoints.
//!
//! The filter runs at entry; at a successful exit the new descriptor is
//! followed to its socket (`current->files`), whose endpoints are read
//! through offsets from BTF. Running in the acceptor's context, the pid
//! and comm are the accepting process's.
#![no_std]
#![no_main]

use aya_ebpf::{
    helpers::generated::bpf_ktime_get_ns, macros::tracepoint, programs::TracePointContext,
};
use ebpftop_common::tcp::{TcpEvent, state};
use ebpftop_ebpf::{
    save_syscall,
    tcp::{accepted, config_selects, emit, event_header},
};

ebpftop_ebpf::in_flight_syscalls!(InFlight);

ebpftop_ebpf::tcp_globals!(Tcp);

#[tracepoint]
pub fn tcpaccept_enter(ctx: TracePointContext) -> u32 {
    save_syscall::<InFlight, 0>(&ctx, 0);
    0
}

#[tracepoint]
pub fn tcpaccept_exit(ctx: TracePointContext) -> u32 {
    let Some((sk, ep, _)) = accepted::<Tcp, InFlight>(&ctx) else {
        return 0;
    };
    if !config_selects::<Tcp>(&ep) {
        return 0;
    }
    // SAFETY: helper call without arguments.
    let header = event_header(None, unsafe { bpf_ktime_get_ns() });
    emit(&TcpEvent {
        header,
        ep,
        skaddr: sk,
        span_ns: 0,
        rx_bytes: 0,
        tx_bytes: 0,
        oldstate: state::ESTABLISHED,
        newstate: state::ESTABLISHED,
        error: 0,
        _pad: 0,
    });
    0
}
