//! The TCP tools (tcpconnect, tcpconnlat, tcplife, tcpaccept, tcpstates):
//! one event type, one socket-offset table, one per-tool configuration.

use crate::EventHeader;

pub const AF_INET: u16 = 2;
pub const AF_INET6: u16 = 10;
pub const IPPROTO_TCP: u16 = 6;

/// TCP states, numbered as in include/net/tcp_states.h (and in the
/// `oldstate`/`newstate` fields of `sock:inet_sock_set_state`).
pub mod state {
    pub const ESTABLISHED: u32 = 1;
    pub const SYN_SENT: u32 = 2;
    pub const SYN_RECV: u32 = 3;
    pub const FIN_WAIT1: u32 = 4;
    pub const FIN_WAIT2: u32 = 5;
    pub const TIME_WAIT: u32 = 6;
    pub const CLOSE: u32 = 7;
    pub const CLOSE_WAIT: u32 = 8;
    pub const LAST_ACK: u32 = 9;
    pub const LISTEN: u32 = 10;
    pub const CLOSING: u32 = 11;
    pub const NEW_SYN_RECV: u32 = 12;

    /// The kernel's name without its `TCP_` prefix, as bcc prints it.
    pub const fn name(s: u32) -> &'static str {
        match s {
            ESTABLISHED => "ESTABLISHED",
            SYN_SENT => "SYN_SENT",
            SYN_RECV => "SYN_RECV",
            FIN_WAIT1 => "FIN_WAIT1",
            FIN_WAIT2 => "FIN_WAIT2",
            TIME_WAIT => "TIME_WAIT",
            CLOSE => "CLOSE",
            CLOSE_WAIT => "CLOSE_WAIT",
            LAST_ACK => "LAST_ACK",
            LISTEN => "LISTEN",
            CLOSING => "CLOSING",
            NEW_SYN_RECV => "NEW_SYN_RECV",
            _ => "UNKNOWN",
        }
    }
}

/// Both ends of a connection. Ports are in host byte order; addresses in
/// network order, IPv4 in the first 4 bytes.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TcpEndpoints {
    pub family: u16,
    pub sport: u16,
    pub dport: u16,
    pub _pad: u16,
    pub saddr: [u8; 16],
    pub daddr: [u8; 16],
}

/// One event of any TCP tool. `header` names the socket's owner: the task
/// that called connect(), accept() or listen() on it (or, where no owner
/// is known, the task running when the event happened).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct TcpEvent {
    pub header: EventHeader,
    pub ep: TcpEndpoints,
    /// The kernel's `struct sock` address: identifies the connection.
    pub skaddr: u64,
    /// A duration whose meaning is the tool's: connect latency
    /// (tcpconnect, tcpconnlat), lifespan (tcplife), time spent in
    /// `oldstate` (tcpstates). 0 when unknown.
    pub span_ns: u64,
    /// tcplife: `tcp_sock.bytes_received` and `bytes_acked`.
    pub rx_bytes: u64,
    pub tx_bytes: u64,
    pub oldstate: u32,
    pub newstate: u32,
    /// tcpconnect: `sk_err` of a connect that failed (ECONNREFUSED,
    /// ETIMEDOUT, ...); 0 when it succeeded or was abandoned.
    pub error: i32,
    pub _pad: u32,
}

/// What each TCP tool's programs need beyond the common filter; a
/// read-only global (`TCP_CONFIG`), so unused checks cost nothing.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TcpConfig {
    /// AF_INET or AF_INET6 only; 0 for both.
    pub family: u16,
    /// How many of `dports` / `lports` are set (0: any port).
    pub n_dports: u16,
    pub n_lports: u16,
    pub _pad: u16,
    pub dports: [u16; TcpConfig::MAX_PORTS],
    pub lports: [u16; TcpConfig::MAX_PORTS],
    /// Events with a shorter `span_ns` are not reported (tcpconnlat -m).
    pub min_span_ns: u64,
    /// Report failed connects too (tcpconnect); tcpconnlat reports only
    /// connects that completed, as its latency is only then defined.
    pub report_failed: u32,
    pub _pad2: u32,
}

impl TcpConfig {
    pub const MAX_PORTS: usize = 8;
    pub const ANY: TcpConfig = TcpConfig {
        family: 0,
        n_dports: 0,
        n_lports: 0,
        _pad: 0,
        dports: [0; TcpConfig::MAX_PORTS],
        lports: [0; TcpConfig::MAX_PORTS],
        min_span_ns: 0,
        report_failed: 1,
        _pad2: 0,
    };
}

/// Byte offsets into the running kernel's socket structs (from its BTF),
/// for the programs that read sockets directly: a read-only global
/// (`SOCK`), as Rust emits no CO-RE relocations.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SockOffsets {
    /// `sock.sk_err` (int).
    pub sk_err: u32,
    /// `sock.sk_protocol` (u16).
    pub sk_protocol: u32,
    /// `sock.__sk_common.skc_family` (u16).
    pub skc_family: u32,
    /// `skc_num` (u16, host order): the local port, zeroed when the
    /// socket leaves its port, before the change to CLOSE is traced.
    pub skc_num: u32,
    /// `inet_sock.inet_sport` (__be16): the local port, kept to the end.
    pub inet_sport: u32,
    /// `skc_dport` (__be16): the remote port.
    pub skc_dport: u32,
    /// `skc_rcv_saddr` and `skc_daddr` (__be32).
    pub skc_rcv_saddr: u32,
    pub skc_daddr: u32,
    /// `skc_v6_rcv_saddr` and `skc_v6_daddr` (struct in6_addr).
    pub skc_v6_rcv_saddr: u32,
    pub skc_v6_daddr: u32,
    /// `skc_net` (a `struct net *`): which network namespace.
    pub skc_net: u32,
    /// `tcp_sock.bytes_received` and `tcp_sock.bytes_acked` (u64).
    pub bytes_received: u32,
    pub bytes_acked: u32,
    /// From a file descriptor to its socket: `task_struct.files`,
    /// `files_struct.fdt`, `fdtable.fd`, `file.private_data`, `socket.sk`.
    pub task_files: u32,
    pub files_fdt: u32,
    pub fdt_fd: u32,
    pub fdt_max_fds: u32,
    pub file_private_data: u32,
    pub socket_sk: u32,
}

impl SockOffsets {
    pub const UNSET: SockOffsets = SockOffsets {
        sk_err: 0,
        sk_protocol: 0,
        skc_family: 0,
        skc_num: 0,
        inet_sport: 0,
        skc_dport: 0,
        skc_rcv_saddr: 0,
        skc_daddr: 0,
        skc_v6_rcv_saddr: 0,
        skc_v6_daddr: 0,
        skc_net: 0,
        bytes_received: 0,
        bytes_acked: 0,
        task_files: 0,
        files_fdt: 0,
        fdt_fd: 0,
        fdt_max_fds: 0,
        file_private_data: 0,
        socket_sk: 0,
    };
}

#[cfg(feature = "user")]
mod user {
    // SAFETY: plain #[repr(C)] data; any bit pattern is valid.
    unsafe impl aya::Pod for super::TcpConfig {}
    unsafe impl aya::Pod for super::SockOffsets {}
}
