//! What ebpftop's TCP tools share on the user side: the socket offsets and
//! tracepoint layout their kernel half relies on, the family and port
//! flags, and endpoints as records.

use std::{
    fmt,
    net::{IpAddr, Ipv4Addr, Ipv6Addr},
};

use clap::Args;
use ebpftop_common::{
    EventHeader,
    tcp::{AF_INET, AF_INET6, SockOffsets, TcpConfig, TcpEndpoints, TcpEvent},
};
use ebpftop_output::{Comm, Common, json_line::JsonLine};
use ebpftop_runtime::{Clock, Error, field_offset, kernel_btf, read_record, tracefs};
use serde::Serialize;

pub mod connect;

/// Names of the read-only globals of `ebpf/src/tcp.rs`.
pub const SOCK_GLOBAL: &str = "SOCK";
pub const CONFIG_GLOBAL: &str = "TCP_CONFIG";

/// Which address family, as bcc's TCP tools take it.
#[derive(Args, Debug, Clone, Default)]
#[command(next_help_heading = "Connections")]
pub struct FamilyArgs {
    /// IPv4 connections only.
    #[arg(short = '4', long = "ipv4", conflicts_with = "ipv6")]
    pub ipv4: bool,
    /// IPv6 connections only.
    #[arg(short = '6', long = "ipv6")]
    pub ipv6: bool,
}

impl FamilyArgs {
    pub fn family(&self) -> u16 {
        match (self.ipv4, self.ipv6) {
            (true, _) => AF_INET,
            (_, true) => AF_INET6,
            _ => 0,
        }
    }
}

/// A `-P 80,443` list (a type of its own: clap would take a bare `Vec`
/// for a repeated flag).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ports(pub Vec<u16>);

impl Ports {
    /// The ports of an optional flag; empty means any port.
    pub fn of(flag: &Option<Ports>) -> &[u16] {
        flag.as_ref().map_or(&[], |p| &p.0)
    }
}

/// `80,443`: up to [`TcpConfig::MAX_PORTS`] ports, for clap.
pub fn parse_ports(s: &str) -> Result<Ports, String> {
    let ports = s
        .split(',')
        .map(|p| {
            p.trim()
                .parse::<u16>()
                .ok()
                .filter(|&p| p != 0)
                .ok_or_else(|| format!("{p:?} is not a port number (1-65535)"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    if ports.len() > TcpConfig::MAX_PORTS {
        return Err(format!("at most {} ports", TcpConfig::MAX_PORTS));
    }
    Ok(Ports(ports))
}

/// The kernel-side configuration from a tool's flags.
pub fn config(family: u16, dports: &[u16], lports: &[u16]) -> TcpConfig {
    let mut c = TcpConfig::ANY;
    c.family = family;
    c.n_dports = dports.len() as u16;
    c.n_lports = lports.len() as u16;
    c.dports[..dports.len()].copy_from_slice(dports);
    c.lports[..lports.len()].copy_from_slice(lports);
    c
}

/// The globals of a TCP tool's object: its configuration and everything
/// the programs read at offsets from the running kernel's BTF, sockets and
/// the current task's fields (the tp_btf programs load those themselves
/// rather than call a helper for each).
pub struct Offsets {
    pub sock: SockOffsets,
    pub task: ebpftop_runtime::sched::SchedGlobals<TcpConfig>,
}

impl Offsets {
    pub fn resolve(config: TcpConfig) -> Result<Offsets, Error> {
        Ok(Offsets {
            sock: sock_offsets()?,
            task: ebpftop_runtime::sched::SchedGlobals::resolve(config, true)?,
        })
    }

    pub fn globals(&self) -> Vec<(&'static str, aya::GlobalData<'_>)> {
        let mut g = self.task.to_globals(CONFIG_GLOBAL);
        g.push((SOCK_GLOBAL, (&self.sock).into()));
        g
    }
}

/// Resolves [`SockOffsets`] from the running kernel's BTF.
pub fn sock_offsets() -> Result<SockOffsets, Error> {
    let btf = kernel_btf()?;
    let field = |ty: &str, path: &str, size: u32| field_offset(btf, ty, path, size);
    let common = |name: &str, size: u32| field("sock", &format!("__sk_common.{name}"), size);
    Ok(SockOffsets {
        sk_err: field("sock", "sk_err", 4)?,
        sk_protocol: field("sock", "sk_protocol", 2)?,
        skc_family: common("skc_family", 2)?,
        skc_num: common("skc_num", 2)?,
        inet_sport: field("inet_sock", "inet_sport", 2)?,
        skc_dport: common("skc_dport", 2)?,
        skc_rcv_saddr: common("skc_rcv_saddr", 4)?,
        skc_daddr: common("skc_daddr", 4)?,
        skc_v6_rcv_saddr: common("skc_v6_rcv_saddr", 16)?,
        skc_v6_daddr: common("skc_v6_daddr", 16)?,
        skc_net: common("skc_net", 8)?,
        bytes_received: field("tcp_sock", "bytes_received", 8)?,
        bytes_acked: field("tcp_sock", "bytes_acked", 8)?,
        task_files: field("task_struct", "files", 8)?,
        files_fdt: field("files_struct", "fdt", 8)?,
        fdt_fd: field("fdtable", "fd", 8)?,
        fdt_max_fds: field("fdtable", "max_fds", 4)?,
        file_private_data: field("file", "private_data", 8)?,
        socket_sk: field("socket", "sk", 8)?,
    })
}

/// Offsets `ebpf/src/tcp.rs` reads `sock:inet_sock_set_state` at.
const SOCK_STATE_FIELDS: &[(&str, usize, usize)] = &[
    ("skaddr", 8, 8),
    ("oldstate", 16, 4),
    ("newstate", 20, 4),
    ("sport", 24, 2),
    ("dport", 26, 2),
    ("family", 28, 2),
    ("protocol", 30, 2),
    ("saddr", 32, 4),
    ("daddr", 36, 4),
    ("saddr_v6", 40, 16),
    ("daddr_v6", 56, 16),
];

/// Offsets `ebpf/src/tcp.rs` reads `tcp:tcp_retransmit_skb` at.
const RETRANSMIT_FIELDS: &[(&str, usize, usize)] = &[
    ("skaddr", 16, 8),
    ("state", 24, 4),
    ("sport", 28, 2),
    ("dport", 30, 2),
    ("family", 32, 2),
    ("saddr", 34, 4),
    ("daddr", 38, 4),
    ("saddr_v6", 42, 16),
    ("daddr_v6", 58, 16),
];

/// Checks that `sock:inet_sock_set_state` is laid out as the tools that
/// read its record (tcpstates, tcpretrans) read it.
pub fn check_sock_state_layout() -> Result<(), Error> {
    check_layout("sock", "inet_sock_set_state", SOCK_STATE_FIELDS)
}

/// Checks that `tcp:tcp_retransmit_skb` is laid out as tcpretrans reads it.
pub fn check_retransmit_layout() -> Result<(), Error> {
    check_layout("tcp", "tcp_retransmit_skb", RETRANSMIT_FIELDS)
}

fn check_layout(
    category: &str,
    name: &str,
    expected: &[(&str, usize, usize)],
) -> Result<(), Error> {
    let fields = tracefs::format(category, name)?;
    for &(field, offset, size) in expected {
        match fields.iter().find(|f| f.name == field) {
            Some(f) if f.offset == offset && f.size == size => {}
            Some(f) => {
                return Err(Error::Layout(format!(
                    "{category}:{name} field {field} is at {} ({} bytes), expected {offset} ({size})",
                    f.offset, f.size
                )));
            }
            None => {
                return Err(Error::Layout(format!(
                    "{category}:{name} has no field {field}"
                )));
            }
        }
    }
    Ok(())
}

/// The `sock:inet_sock_set_state` hook, for program `program`.
#[macro_export]
macro_rules! sock_state_hook {
    ($program:literal) => {
        $crate::__private::Hook {
            name: "TCP state changes",
            candidates: &[$crate::__private::Candidate {
                program: $program,
                at: $crate::__private::AttachPoint::Tracepoint {
                    category: "sock",
                    name: "inet_sock_set_state",
                },
            }],
            required: true,
            shared: false,
        }
    };
}

/// The `inet_sock_set_state` hook of the programs `$prefix` + `_btf`,
/// `_raw`, `_btf_h` and `_raw_h` (`ebpftop_ebpf::state_change_programs!`):
/// its BTF tracepoint first, its raw tracepoint where the kernel cannot
/// attach that. Shared: TCP tools running at once put their programs in
/// one chain, which one program on the tracepoint runs (the runtime's
/// `hub`); the same four not chained come last, for kernels that refuse
/// tail calls in programs with calls of their own.
#[macro_export]
macro_rules! state_change_hook {
    ($prefix:literal) => {
        $crate::__private::Hook {
            name: "TCP state changes",
            // Records per socket in slots claimed by compare-and-swap
            // first; the `_h` programs keep them in a hash map, for
            // kernels older than 5.12, which refuse BPF atomics.
            candidates: &[
                $crate::state_change_hook!(@btf concat!($prefix, "_btf")),
                $crate::state_change_hook!(@raw concat!($prefix, "_raw")),
                $crate::state_change_hook!(@btf concat!($prefix, "_btf_h")),
                $crate::state_change_hook!(@raw concat!($prefix, "_raw_h")),
                $crate::state_change_hook!(@btf concat!($prefix, "_btf_alone")),
                $crate::state_change_hook!(@raw concat!($prefix, "_raw_alone")),
                $crate::state_change_hook!(@btf concat!($prefix, "_btf_h_alone")),
                $crate::state_change_hook!(@raw concat!($prefix, "_raw_h_alone")),
            ],
            required: true,
            shared: true,
        }
    };
    (@btf $program:expr) => {
        $crate::__private::Candidate {
            program: $program,
            at: $crate::__private::AttachPoint::BtfTracepoint {
                name: "inet_sock_set_state",
            },
        }
    };
    (@raw $program:expr) => {
        $crate::__private::Candidate {
            program: $program,
            at: $crate::__private::AttachPoint::RawTracepoint {
                name: "inet_sock_set_state",
            },
        }
    };
}

/// The accept(2)/accept4(2) hooks, for programs `$enter` and `$exit`.
/// accept4 is everywhere; accept is not on every architecture.
#[macro_export]
macro_rules! accept_hooks {
    ($enter:literal, $exit:literal) => {
        [
            $crate::__private::syscall_hook!("accept4 entry", $enter, "sys_enter_accept4", true),
            $crate::__private::syscall_hook!("accept4 exit", $exit, "sys_exit_accept4", true),
            $crate::__private::syscall_hook!("accept entry", $enter, "sys_enter_accept", false),
            $crate::__private::syscall_hook!("accept exit", $exit, "sys_exit_accept", false),
        ]
    };
}

#[doc(hidden)]
pub mod __private {
    pub use ebpftop_runtime::{AttachPoint, Candidate, Hook, syscall_hook};
}

/// An address from an event's 16 bytes.
pub fn ip(family: u16, bytes: &[u8; 16]) -> IpAddr {
    if family == AF_INET {
        IpAddr::V4(Ipv4Addr::new(bytes[0], bytes[1], bytes[2], bytes[3]))
    } else {
        IpAddr::V6(Ipv6Addr::from(*bytes))
    }
}

/// Both ends of a connection, as records show them.
#[derive(Clone, Copy, Debug, Serialize, PartialEq, Eq, Hash)]
pub struct Endpoints {
    /// 4 or 6.
    pub ip: u8,
    pub saddr: IpAddr,
    pub sport: u16,
    pub daddr: IpAddr,
    pub dport: u16,
}

/// Common fields and endpoints with awkward text and both address
/// families, for tests of records' direct JSON.
#[doc(hidden)]
pub fn json_samples() -> Vec<(Common, Endpoints)> {
    let comms: [&[u8]; 3] = [b"curl", b"a\"b\\c\n\x01\xff\xfe\x7f", b"0123456789abcdef"];
    let eps = [
        ("127.0.0.1", 50706, "10.255.0.9", 443),
        ("::1", 0, "fe80::1:2", 65535),
    ];
    let mut out = Vec::new();
    for (i, c) in comms.iter().enumerate() {
        for (s, sp, d, dp) in eps {
            let mut comm = [0u8; 16];
            comm[..c.len()].copy_from_slice(c);
            let saddr: std::net::IpAddr = s.parse().unwrap();
            out.push((
                Common {
                    ts_ns: u64::MAX - i as u64,
                    pid: 1178,
                    tid: u32::MAX,
                    comm: Comm(comm),
                    uid: 0,
                    cgroup_id: 1 << 40,
                },
                Endpoints {
                    ip: if saddr.is_ipv4() { 4 } else { 6 },
                    saddr,
                    sport: sp,
                    daddr: d.parse().unwrap(),
                    dport: dp,
                },
            ));
        }
    }
    out
}

impl Endpoints {
    /// The fields as serde writes them, for records' direct JSON.
    pub fn json(&self, line: &mut JsonLine<'_>) {
        line.int("ip", self.ip)
            .ip("saddr", self.saddr)
            .int("sport", self.sport)
            .ip("daddr", self.daddr)
            .int("dport", self.dport);
    }
}

impl From<&TcpEndpoints> for Endpoints {
    fn from(e: &TcpEndpoints) -> Self {
        Endpoints {
            ip: if e.family == AF_INET { 4 } else { 6 },
            saddr: ip(e.family, &e.saddr),
            sport: e.sport,
            daddr: ip(e.family, &e.daddr),
            dport: e.dport,
        }
    }
}

/// `addr:port`, with brackets around IPv6 addresses.
pub struct HostPort(pub IpAddr, pub u16);

impl fmt::Display for HostPort {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            IpAddr::V4(a) => write!(f, "{a}:{}", self.1),
            IpAddr::V6(a) => write!(f, "[{a}]:{}", self.1),
        }
    }
}

/// The common record fields of an event header.
pub fn common(h: &EventHeader, clock: &Clock) -> Common {
    Common {
        ts_ns: clock.to_unix_ns(h.ts_ns),
        pid: h.pid,
        tid: h.tid,
        comm: Comm(h.comm),
        uid: h.uid,
        cgroup_id: h.cgroup_id,
    }
}

/// A [`TcpEvent`] from a ring buffer record, or an error for a short one.
pub fn read_event(data: &[u8]) -> std::io::Result<TcpEvent> {
    read_record(data).ok_or_else(|| ebpftop_cli::short_record(data))
}

/// Everything a TCP tool's `run` shares: resolve the socket offsets, hand
/// them and `config` to the programs, and trace with `handler`.
pub fn trace_tcp<H: ebpftop_cli::RecordHandler>(
    object: &ebpftop_runtime::ToolObject,
    config: TcpConfig,
    filter: &ebpftop_cli::FilterArgs,
    output: &ebpftop_cli::OutputArgs,
    columns: &[ebpftop_output::Column],
    run: &ebpftop_cli::RunArgs,
    handler: H,
) -> anyhow::Result<()> {
    let offsets = Offsets::resolve(config)?;
    let spec = ebpftop_cli::TraceSpec {
        object,
        filter: filter.spec(false),
        output: output.options(),
        columns,
        run,
        globals: offsets.globals(),
    };
    ebpftop_cli::trace_with(spec, handler)
}

/// A [`ebpftop_cli::RecordHandler`] that turns each event into one record.
pub struct EachEvent<F>(pub F);

impl<F, R> ebpftop_cli::RecordHandler for EachEvent<F>
where
    F: FnMut(&TcpEvent, &Clock) -> R,
    R: ebpftop_output::Record,
{
    fn record(
        &mut self,
        data: &[u8],
        clock: &Clock,
        out: &mut ebpftop_output::Output,
    ) -> std::io::Result<()> {
        let e = read_event(data)?;
        out.emit(&(self.0)(&e, clock))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports() {
        assert_eq!(parse_ports("80").unwrap().0, vec![80]);
        assert_eq!(parse_ports("80, 443").unwrap().0, vec![80, 443]);
        assert!(parse_ports("0").is_err());
        assert!(parse_ports("65536").is_err());
        assert!(parse_ports("http").is_err());
        assert!(parse_ports("1,2,3,4,5,6,7,8,9").is_err());
    }

    #[test]
    fn addresses() {
        let mut b = [0u8; 16];
        b[..4].copy_from_slice(&[127, 0, 0, 1]);
        assert_eq!(ip(AF_INET, &b).to_string(), "127.0.0.1");
        let v6 = Ipv6Addr::LOCALHOST.octets();
        assert_eq!(ip(AF_INET6, &v6).to_string(), "::1");
        assert_eq!(HostPort(ip(AF_INET6, &v6), 80).to_string(), "[::1]:80");
        assert_eq!(HostPort(ip(AF_INET, &b), 80).to_string(), "127.0.0.1:80");
    }

    #[test]
    fn sock_state_layout_matches_this_kernel() {
        if tracefs::format("sock", "inet_sock_set_state").is_err() {
            eprintln!("no tracefs access; skipped");
            return;
        }
        check_sock_state_layout().unwrap();
        check_retransmit_layout().unwrap();
    }
}
