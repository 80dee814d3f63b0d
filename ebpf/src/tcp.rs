//! Kernel-side helpers of the TCP tools: the `sock:inet_sock_set_state`
//! record, socket owners, and reads of `struct sock` through offsets that
//! user space resolved from BTF.
//!
//! State changes after connect() mostly run in softirq, where the current
//! task is whoever was interrupted. So the task is remembered, by socket
//! address, where it is known: at CLOSE -> SYN_SENT (inside connect()),
//! at LISTEN (inside listen()) and at accept()'s return.

use aya_ebpf::{
    EbpfContext, helpers::generated::bpf_get_current_pid_tgid, maps::HashMap,
    programs::TracePointContext,
};
use ebpftop_common::{
    EventHeader, Filter, LostReason,
    tcp::{AF_INET, AF_INET6, IPPROTO_TCP, SockOffsets, TcpConfig, TcpEndpoints, TcpEvent},
};

use crate::{
    count_lost, current_task, fill_header, kernel_read,
    records::{Emit, RingOut},
    sched::{Probe, TaskRead},
    slots::InFlight,
    take_syscall, tp_u64,
};

/// The globals the helpers below read. They live in the tool's binary,
/// declared by [`tcp_globals!`]: statics here would be kept in every
/// tool's object (exported symbols survive LTO), and each map in an object
/// is created at load.
pub trait TcpGlobals {
    /// Offsets into socket structs, set by user space before load (`SOCK`).
    fn offsets() -> *const SockOffsets;
    /// The tool's port/family/threshold settings (`TCP_CONFIG`).
    fn config() -> *const TcpConfig;
}

/// A tool that remembers who owns each socket (`SOCK_OWNERS`).
pub trait SockOwners: TcpGlobals {
    /// Who owns each socket we care about, stamped when it was learnt.
    fn owners() -> &'static HashMap<u64, EventHeader>;
}

/// Declares `SOCK` and `TCP_CONFIG` in a TCP tool's binary, and `$name`,
/// the [`TcpGlobals`] that the helpers take them through. With `owners`,
/// also `SOCK_OWNERS` and [`SockOwners`].
#[macro_export]
macro_rules! tcp_globals {
    ($name:ident) => {
        #[unsafe(no_mangle)]
        static SOCK: ebpftop_common::tcp::SockOffsets = ebpftop_common::tcp::SockOffsets::UNSET;
        #[unsafe(no_mangle)]
        static TCP_CONFIG: ebpftop_common::tcp::TcpConfig = ebpftop_common::tcp::TcpConfig::ANY;
        struct $name;
        impl $crate::tcp::TcpGlobals for $name {
            #[inline(always)]
            fn offsets() -> *const ebpftop_common::tcp::SockOffsets {
                &raw const SOCK
            }
            #[inline(always)]
            fn config() -> *const ebpftop_common::tcp::TcpConfig {
                &raw const TCP_CONFIG
            }
        }
    };
    ($name:ident, owners) => {
        $crate::tcp_globals!($name);
        #[aya_ebpf::macros::map]
        static SOCK_OWNERS: aya_ebpf::maps::HashMap<u64, ebpftop_common::EventHeader> =
            aya_ebpf::maps::HashMap::with_max_entries(16384, 0);
        impl $crate::tcp::SockOwners for $name {
            #[inline(always)]
            fn owners() -> &'static aya_ebpf::maps::HashMap<u64, ebpftop_common::EventHeader> {
                &SOCK_OWNERS
            }
        }
    };
}

/// One call of `inet_sock_set_state(sk, oldstate, newstate)`: the
/// arguments of its BTF or raw tracepoint. No trace record is built for
/// these, which makes them much cheaper than `sock:inet_sock_set_state`.
#[derive(Clone, Copy)]
pub struct Change {
    /// The socket, to read through.
    pub sk: u64,
    /// The socket's address as a number, to key maps and slots with
    /// (the verifier allows no arithmetic on a BTF-typed `sk`).
    pub key: u64,
    pub oldstate: u32,
    pub newstate: u32,
}

/// Defines the programs on `inet_sock_set_state`, each calling
/// `$handler::<R, O>(Change, tables)`: the tp_btf programs with the
/// [`TaskRead`] `Direct` (loads through the BTF-typed socket), the raw
/// tracepoint programs with `Probe` (`bpf_probe_read_kernel`).
/// `$btf`/`$raw` keep per-socket records in `$slots` (a
/// [`crate::slots::Slots`]) and emit through `$out` (a per-CPU area,
/// [`crate::cpu_records!`]), which need BPF atomics (Linux 5.12);
/// `$btf_h`/`$raw_h` keep them in `$hash`, a hash map, and emit through
/// the ring buffer, for older kernels. Each passes the tracepoint on to
/// the next program in the hub's chain (see [`crate::hub`]); the `alone`
/// programs, the same four in that order, do not.
#[macro_export]
macro_rules! state_change_programs {
    ($handler:ident: $btf:ident, $raw:ident => $slots:expr, $out:ty;
     $btf_h:ident, $raw_h:ident => $hash:expr;
     alone: $btf_a:ident, $raw_a:ident, $btf_ha:ident, $raw_ha:ident $(;)?) => {
        // TCP tools running at once share one program on the tracepoint.
        $crate::hub!("inet_sock_set_state");
        $crate::state_change_programs!(@btf $btf, $handler, $slots, $out, hub_pass_on_btf);
        $crate::state_change_programs!(@raw $raw, $handler, $slots, $out, hub_pass_on_raw);
        $crate::state_change_programs!(@btf $btf_h, $handler, $hash, $crate::records::RingOut,
                                       hub_pass_on_btf);
        $crate::state_change_programs!(@raw $raw_h, $handler, $hash, $crate::records::RingOut,
                                       hub_pass_on_raw);
        // The same, not passing the tracepoint on: for kernels that refuse
        // tail calls in programs with calls of their own (memset here).
        $crate::state_change_programs!(@btf $btf_a, $handler, $slots, $out, $crate::hub::alone);
        $crate::state_change_programs!(@raw $raw_a, $handler, $slots, $out, $crate::hub::alone);
        $crate::state_change_programs!(@btf $btf_ha, $handler, $hash, $crate::records::RingOut,
                                       $crate::hub::alone);
        $crate::state_change_programs!(@raw $raw_ha, $handler, $hash, $crate::records::RingOut,
                                       $crate::hub::alone);
    };
    (@btf $name:ident, $handler:ident, $table:expr, $out:ty, $pass_on:path) => {
        #[aya_ebpf::macros::btf_tracepoint(function = "inet_sock_set_state")]
        pub fn $name(ctx: aya_ebpf::programs::BtfTracePointContext) -> u32 {
            $handler::<$crate::sched::Direct, $out>(
                $crate::tcp::Change {
                    sk: ctx.arg(0),
                    key: $crate::tcp::pointer_key(ctx.arg(0)),
                    oldstate: ctx.arg::<u64>(1) as u32,
                    newstate: ctx.arg::<u64>(2) as u32,
                },
                $table,
            );
            $pass_on(&ctx);
            0
        }
    };
    (@raw $name:ident, $handler:ident, $table:expr, $out:ty, $pass_on:path) => {
        #[aya_ebpf::macros::raw_tracepoint(tracepoint = "inet_sock_set_state")]
        pub fn $name(ctx: aya_ebpf::programs::RawTracePointContext) -> u32 {
            $handler::<$crate::sched::Probe, $out>(
                $crate::tcp::Change {
                    sk: ctx.arg(0),
                    key: ctx.arg(0),
                    oldstate: ctx.arg::<u64>(1) as u32,
                    newstate: ctx.arg::<u64>(2) as u32,
                },
                $table,
            );
            $pass_on(&ctx);
            0
        }
    };
}

/// A number that stands for the BTF-typed pointer `p` (a key), unique as
/// the pointer is: its distance from a global. The verifier forbids any
/// arithmetic on `p` alone, but lets a privileged program subtract one
/// pointer from another.
#[inline(always)]
pub fn pointer_key(p: u64) -> u64 {
    p.wrapping_sub(crate::filter_address())
}

macro_rules! sock_offset {
    ($g:ident, $field:ident) => {
        // SAFETY: a plain static of the tool, never written by programs.
        unsafe { core::ptr::read_volatile(&raw const (*$g::offsets()).$field) }
    };
}

macro_rules! tcp_config {
    ($g:ident, $field:ident) => {
        // SAFETY: a plain static of the tool, never written by programs.
        unsafe { core::ptr::read_volatile(&raw const (*$g::config()).$field) }
    };
}

/// `sock:inet_sock_set_state`, as its format file lays it out (checked
/// by user space at start-up).
pub struct SockState {
    pub skaddr: u64,
    pub oldstate: u32,
    pub newstate: u32,
    pub protocol: u16,
    pub ep: TcpEndpoints,
}

const SK_SKADDR: usize = 8;
const SK_OLDSTATE: usize = 16;
const SK_SPORT: usize = 24;
const SK_SADDR_V6: usize = 40;

/// Reads the tracepoint record of `sock:inet_sock_set_state`.
#[inline(always)]
pub fn sock_state(ctx: &TracePointContext) -> SockState {
    let p = ctx.as_ptr();
    // SAFETY: offsets inside the record, per its format file: skaddr 8,
    // oldstate/newstate 16/20, sport/dport/family/protocol 24..32,
    // saddr/daddr 32/36, saddr_v6/daddr_v6 40/56.
    unsafe {
        let states = tp_u64(p, SK_OLDSTATE);
        let ports = tp_u64(p, SK_SPORT);
        let family = (ports >> 32) as u16;
        let mut ep = TcpEndpoints {
            family,
            sport: ports as u16,
            dport: (ports >> 16) as u16,
            ..TcpEndpoints::default()
        };
        if family == AF_INET {
            let v4 = tp_u64(p, SK_SPORT + 8);
            ep.saddr[..4].copy_from_slice(&(v4 as u32).to_ne_bytes());
            ep.daddr[..4].copy_from_slice(&((v4 >> 32) as u32).to_ne_bytes());
        } else {
            let b = p.cast::<u8>();
            core::ptr::copy_nonoverlapping(b.add(SK_SADDR_V6), ep.saddr.as_mut_ptr(), 16);
            core::ptr::copy_nonoverlapping(b.add(SK_SADDR_V6 + 16), ep.daddr.as_mut_ptr(), 16);
        }
        SockState {
            skaddr: tp_u64(p, SK_SKADDR),
            oldstate: states as u32,
            newstate: (states >> 32) as u32,
            protocol: (ports >> 48) as u16,
            ep,
        }
    }
}

/// `tcp:tcp_retransmit_skb`: the socket, its state and endpoints, laid
/// out as its format file says (checked by user space at start-up).
#[inline(always)]
pub fn retransmit(ctx: &TracePointContext) -> (u64, u32, TcpEndpoints) {
    let p = ctx.as_ptr();
    // SAFETY: skaddr at 16 and state at 24 are aligned fields of the record.
    let (skaddr, state) = unsafe { (tp_u64(p, 16), tp_u64(p, 24) as u32) };
    // The rest packs u16s and u8 arrays at unaligned offsets, which the
    // verifier refuses as direct context loads: copy them with a helper.
    // sport 28, dport 30, family 32, saddr 34, daddr 38, saddr_v6 42,
    // daddr_v6 58.
    let base = p as u64;
    let ports: [u16; 3] = kernel_read(base, 28);
    let mut ep = TcpEndpoints {
        family: ports[2],
        sport: ports[0],
        dport: ports[1],
        ..TcpEndpoints::default()
    };
    if ep.family == AF_INET {
        let v4: [u8; 8] = kernel_read(base, 34);
        ep.saddr[..4].copy_from_slice(&v4[..4]);
        ep.daddr[..4].copy_from_slice(&v4[4..]);
    } else {
        ep.saddr = kernel_read(base, 42);
        ep.daddr = kernel_read(base, 58);
    }
    (skaddr, state, ep)
}

/// Whether the tool's family and port settings let `ep` through.
#[inline(always)]
pub fn config_selects<G: TcpGlobals>(ep: &TcpEndpoints) -> bool {
    let family = tcp_config!(G, family);
    if family != 0 && family != ep.family {
        return false;
    }
    ports_match(
        tcp_config!(G, n_dports),
        unsafe { &raw const (*G::config()).dports },
        ep.dport,
    ) && ports_match(
        tcp_config!(G, n_lports),
        unsafe { &raw const (*G::config()).lports },
        ep.sport,
    )
}

#[inline(always)]
fn ports_match(n: u16, ports: *const [u16; TcpConfig::MAX_PORTS], port: u16) -> bool {
    if n == 0 {
        return true;
    }
    let mut i = 0;
    while i < TcpConfig::MAX_PORTS {
        // SAFETY: `ports` points into TCP_CONFIG; i is in bounds.
        let p = unsafe { core::ptr::read_volatile(ports.cast::<u16>().add(i)) };
        if i < n as usize && p == port {
            return true;
        }
        i += 1;
    }
    false
}

/// `min_span_ns` and `report_failed` of the tool's configuration.
#[inline(always)]
pub fn min_span_ns<G: TcpGlobals>() -> u64 {
    tcp_config!(G, min_span_ns)
}

#[inline(always)]
pub fn report_failed<G: TcpGlobals>() -> bool {
    tcp_config!(G, report_failed) != 0
}

/// The current task's identity, stamped now.
#[inline(always)]
pub fn current_header(pid_tgid: u64) -> EventHeader {
    let mut h = EventHeader::default();
    fill_header(&mut h, pid_tgid);
    h
}

/// Records `owner` (a task the filter selected) as the owner of `skaddr`.
#[inline(always)]
pub fn remember_owner<G: SockOwners>(skaddr: u64, owner: EventHeader) {
    if !G::owners().put(skaddr, owner) {
        count_lost(LostReason::InFlightFull);
    }
}

/// The owner of `skaddr`, if one was recorded.
#[inline(always)]
pub fn owner<G: SockOwners>(skaddr: u64) -> Option<EventHeader> {
    G::owners().get_mut(skaddr).map(|h| *h)
}

#[inline(always)]
pub fn forget_owner<G: SockOwners>(skaddr: u64) {
    let _ = G::owners().take(skaddr);
}

/// `sk->sk_err`: why a connection failed.
#[inline(always)]
pub fn sock_error<G: TcpGlobals, R: TaskRead>(sk: u64) -> i32 {
    R::read(sk, sock_offset!(G, sk_err))
}

/// Whether `sk` is a TCP socket (`inet_sock_set_state` also fires for
/// other protocols).
#[inline(always)]
pub fn is_tcp<G: TcpGlobals, R: TaskRead>(sk: u64) -> bool {
    R::read::<u16>(sk, sock_offset!(G, sk_protocol)) == IPPROTO_TCP
}

/// A socket's network namespace and local port: what a listener and the
/// connections it accepts have in common.
#[repr(C)]
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct NetPort {
    /// The `struct net`, as [`TaskRead::key`] numbers it.
    pub net: u64,
    pub port: u64,
}

impl NetPort {
    /// One number for both, to key a map with. Pointer keys are
    /// differences of two kernel addresses, within 2^47 of each other
    /// with 4-level page tables, so their low 48 bits tell them apart;
    /// with 5-level ones two namespaces may share a key, which is why the
    /// whole `NetPort` is kept with what it keys and compared.
    #[inline(always)]
    pub fn key(&self) -> u64 {
        (self.net << 16) | self.port
    }
}

/// `sk`'s [`NetPort`], at its changes to and from LISTEN and its
/// children's births, where it still holds its port: `skc_num`, in
/// `struct sock` itself, so a load where `inet_sport` costs a call.
#[inline(always)]
pub fn net_port<G: TcpGlobals, R: TaskRead>(sk: u64) -> NetPort {
    NetPort {
        net: R::key(R::read(sk, sock_offset!(G, skc_net))),
        port: R::read::<u16>(sk, sock_offset!(G, skc_num)) as u64,
    }
}

/// The local port of a socket, host order, still there at the change to
/// CLOSE (`skc_num` is not). `tsk` is `R::tcp_sock(sk)`: `inet_sock`
/// lies past `struct sock`.
#[inline(always)]
pub fn local_port<G: TcpGlobals, R: TaskRead>(tsk: u64) -> u16 {
    if tsk == 0 {
        return 0;
    }
    u16::from_be(R::read(tsk, sock_offset!(G, inet_sport)))
}

/// Whether the tool's configuration looks at endpoints at all: when it
/// does not, they need not be read to apply it.
#[inline(always)]
pub fn config_has_endpoints<G: TcpGlobals>() -> bool {
    tcp_config!(G, family) != 0 || tcp_config!(G, n_dports) != 0 || tcp_config!(G, n_lports) != 0
}

/// `(bytes_received, bytes_acked)` of a `tcp_sock`; `tsk` is
/// `R::tcp_sock(sk)`.
#[inline(always)]
pub fn tcp_bytes<G: TcpGlobals, R: TaskRead>(tsk: u64) -> (u64, u64) {
    if tsk == 0 {
        return (0, 0);
    }
    (
        R::read(tsk, sock_offset!(G, bytes_received)),
        R::read(tsk, sock_offset!(G, bytes_acked)),
    )
}

/// The `struct sock` behind file descriptor `fd` of the current task, or
/// 0: `current->files->fdt->fd[fd]->private_data->sk`.
#[inline(always)]
pub fn current_fd_sock<G: TcpGlobals>(fd: u32) -> u64 {
    let files: u64 = kernel_read(current_task(), sock_offset!(G, task_files));
    if files == 0 {
        return 0;
    }
    let fdt: u64 = kernel_read(files, sock_offset!(G, files_fdt));
    if fdt == 0 {
        return 0;
    }
    let max: u32 = kernel_read(fdt, sock_offset!(G, fdt_max_fds));
    if fd >= max {
        return 0;
    }
    let table: u64 = kernel_read(fdt, sock_offset!(G, fdt_fd));
    if table == 0 {
        return 0;
    }
    let file: u64 = kernel_read(table + 8 * fd as u64, 0);
    if file == 0 {
        return 0;
    }
    let socket: u64 = kernel_read(file, sock_offset!(G, file_private_data));
    if socket == 0 {
        return 0;
    }
    kernel_read(socket, sock_offset!(G, socket_sk))
}

/// Where [`sock_endpoints`] finds the local port.
#[derive(Clone, Copy)]
pub enum LocalPort {
    /// `inet_sport` of `R::tcp_sock(sk)` (this value): still there at the
    /// change to CLOSE.
    Inet(u64),
    /// `skc_num`, a load from `struct sock` itself (`inet_sport` costs a
    /// call under tp_btf): for sockets that hold their port.
    Bound,
}

/// The endpoints of TCP socket `sk`, or `None` when it is not an IPv4 or
/// IPv6 TCP socket.
#[inline(always)]
pub fn sock_endpoints<G: TcpGlobals, R: TaskRead>(
    sk: u64,
    port: LocalPort,
) -> Option<TcpEndpoints> {
    let family: u16 = R::read(sk, sock_offset!(G, skc_family));
    if (family != AF_INET && family != AF_INET6) || !is_tcp::<G, R>(sk) {
        return None;
    }
    let dport: u16 = R::read(sk, sock_offset!(G, skc_dport));
    // As two u64s each: built from bytes, the compiler keeps (and later
    // stores) each byte on its own.
    let (saddr, daddr): ([u64; 2], [u64; 2]) = if family == AF_INET {
        let s: u32 = R::read(sk, sock_offset!(G, skc_rcv_saddr));
        let d: u32 = R::read(sk, sock_offset!(G, skc_daddr));
        // Little-endian: the address's bytes stay first, as in memory.
        ([s as u64, 0], [d as u64, 0])
    } else {
        (
            R::read(sk, sock_offset!(G, skc_v6_rcv_saddr)),
            R::read(sk, sock_offset!(G, skc_v6_daddr)),
        )
    };
    Some(TcpEndpoints {
        family,
        sport: match port {
            LocalPort::Inet(tsk) => local_port::<G, R>(tsk),
            LocalPort::Bound => R::read(sk, sock_offset!(G, skc_num)),
        },
        dport: u16::from_be(dport),
        _pad: 0,
        // SAFETY: 16 bytes either way.
        saddr: unsafe { core::mem::transmute::<[u64; 2], [u8; 16]>(saddr) },
        daddr: unsafe { core::mem::transmute::<[u64; 2], [u8; 16]>(daddr) },
    })
}

/// The header of an event about a socket: its owner's identity stamped
/// now, or the current task's when `owner` is `None`.
#[inline(always)]
pub fn event_header(owner: Option<EventHeader>, now_ns: u64) -> EventHeader {
    match owner {
        Some(mut h) => {
            h.ts_ns = now_ns;
            h
        }
        None => {
            // SAFETY: helper call without arguments.
            let mut h = current_header(unsafe { bpf_get_current_pid_tgid() });
            h.ts_ns = now_ns;
            h
        }
    }
}

/// Emits `event` through the ring buffer; a full one is counted as lost.
#[inline(always)]
pub fn emit(event: &TcpEvent) {
    RingOut::emit(event, event.header.ts_ns);
}

/// Whether any of the common task filters (-p, -t, -u, -c, --cgroup) is on.
#[inline(always)]
pub fn task_filter_on() -> bool {
    crate::filter_has(Filter::PID | Filter::TID | Filter::UID | Filter::CGROUP | Filter::COMM)
}

/// At `syscalls:sys_exit_accept*`: the accepted socket of a selected task,
/// its endpoints and the task's pid_tgid; `None` for failed accepts,
/// skipped tasks and sockets that are not TCP.
#[inline(always)]
pub fn accepted<G: TcpGlobals, F: crate::InFlightSyscalls>(
    ctx: &TracePointContext,
) -> Option<(u64, TcpEndpoints, u64)> {
    let (_, pid_tgid, ret) = take_syscall::<F>(ctx)?;
    if ret < 0 {
        return None;
    }
    let sk = current_fd_sock::<G>(ret as u32);
    if sk == 0 {
        return None;
    }
    let ep = sock_endpoints::<G, Probe>(sk, LocalPort::Bound)?;
    Some((sk, ep, pid_tgid))
}
