//! One program on a tracepoint for all of our tools that watch it at once
//! (the kernel half is `ebpftop_ebpf::hub`).
//!
//! The first tool to attach a shared hook attaches its object's starter
//! program, which only tail-calls the chain (a prog array), and puts its
//! own program in the chain's first place. It then serves the chain on an
//! abstract Unix socket named after the hook and attach kind. A tool that
//! starts later asks there for a place: it gets the place, the chain, the
//! starter's link and the starter program (descriptors, passed over the
//! socket), loads its object against that chain (the loader takes shared
//! maps only by pin: pinned for the load in a bpffs that only the loading
//! thread sees, in a mount namespace of its own), and
//! puts its program in its place. Every program in the chain passes the
//! tracepoint on to the next place after its own work. The tracepoint so
//! calls one program for all the tools, each of its calls saving the cost
//! of calling one more (about 80 ns here).
//!
//! Only root's tools share, with root's. Each attach kind has a chain of
//! its own (a prog array holds one type of program). Where the kernel
//! refuses a chained program (tail calls in a program that calls
//! functions of its own need Linux 5.10 on x86-64, 6.0 on arm64), the
//! hook's `_alone` programs are attached alone.
//!
//! Lifetimes: every tool holds the chain and the starter's link, so the
//! chain runs as long as any of them does and the kernel frees it all with
//! the last. A tool leaving empties its place; the first tool also empties
//! the place of any tool whose connection closes (one that was killed).
//! After the first tool has gone, no one can join (later tools start a
//! chain of their own), and the tools left empty the place of any tool of
//! the chain that is gone: the chain's registry of places
//! ([`registry`]) says which are held, and the lock each tool keeps on its
//! own says whether it still runs.

use std::{
    ffi::CString,
    io::{self, Read, Write},
    mem::size_of,
    os::{
        fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd},
        linux::net::SocketAddrExt,
        unix::net::{SocketAddr, UnixListener, UnixStream},
    },
    path::PathBuf,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
    thread,
    time::Duration,
};

mod registry;

use ebpftop_common::hub::{ALONE, KINDS};
pub use ebpftop_common::hub::{INDEX_GLOBAL, SLOTS};
use registry::{Caretaker, Registry};

use crate::sys::bpf;

use crate::attach::{Candidate, Hook, check_candidate};

/// The chain map and starter program of attach kind `kind`
/// (`AttachPoint::kind`), if that kind can be shared.
fn kind_names(kind: &str) -> Option<(&'static str, &'static str)> {
    KINDS
        .iter()
        .find(|(k, _, _)| *k == kind)
        .map(|&(_, chain, starter)| (chain, starter))
}

/// The prog array of the chain of attach kind `kind`.
pub fn chain_map(kind: &str) -> Option<&'static str> {
    kind_names(kind).map(|(chain, _)| chain)
}

/// The program that starts the chain of attach kind `kind`.
pub fn starter_program(kind: &str) -> Option<&'static str> {
    kind_names(kind).map(|(_, starter)| starter)
}

/// Whether candidate `c` of a shared hook passes the tracepoint on, and so
/// may be chained (the others are attached alone).
pub fn chained(c: &Candidate) -> bool {
    !c.program.ends_with(ALONE) && kind_names(c.at.kind()).is_some()
}

/// Whether this process may share hooks: only root's tools do, with
/// root's. A tool running on capabilities keeps its programs to itself,
/// as the descriptors handed out would let a process of the same user
/// without them empty places in the chain or run its programs.
fn may_share() -> bool {
    // SAFETY: no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// Where this tool's program goes for a shared hook.
pub enum Place {
    /// In another tool's chain.
    Joined(Joined),
    /// First in a chain of its own, which later tools may join: the
    /// address is claimed before load, so that a tool starting at the same
    /// time waits for this one's answer instead of attaching its own.
    First(Claim),
}

/// The address of a chain of `kind`, bound by the tool that will start it.
pub struct Claim {
    kind: &'static str,
    listener: UnixListener,
}

/// This tool's place for `hook`: in the chain of another tool that
/// watches it, of the first kind among the hook's candidates that this
/// tool could attach, or first in a chain of that kind. `None` when no
/// kind can be shared (or the address cannot be had).
pub fn find_place(hook: &Hook) -> Option<Place> {
    if !may_share() {
        return None;
    }
    let kind = hook
        .candidates
        .iter()
        .find(|c| chained(c) && check_candidate(c).is_ok())?
        .at
        .kind();
    let addr = address(hook.name, kind).ok()?;
    // Twice: a tool that bound the address between our connect and bind
    // is one to join.
    for _ in 0..2 {
        if let Ok(stream) = UnixStream::connect_addr(&addr) {
            return Joined::ask(hook.name, kind, stream).map(Place::Joined);
        }
        match UnixListener::bind_addr(&addr) {
            Ok(listener) => return Some(Place::First(Claim { kind, listener })),
            Err(e) if e.kind() == io::ErrorKind::AddrInUse => continue,
            Err(e) => {
                log::info!("{}: not shared ({e})", hook.name);
                return None;
            }
        }
    }
    log::info!(
        "{}: not shared (the chain's address is taken but not served)",
        hook.name
    );
    None
}

impl Claim {
    pub fn kind(&self) -> &'static str {
        self.kind
    }
}

/// The object's chain of attach kind `kind`.
pub fn chain_of<'a>(ebpf: &'a aya::Ebpf, kind: &str) -> Option<BorrowedFd<'a>> {
    match ebpf.map(chain_map(kind)?)? {
        aya::maps::Map::ProgramArray(m) => Some(m.fd().as_fd()),
        _ => None,
    }
}

fn address(hook: &str, kind: &str) -> io::Result<SocketAddr> {
    SocketAddr::from_abstract_name(format!("ebpftop-hub/{hook}/{kind}"))
}

/// How long a joining tool waits for the first tool's answer, which comes
/// once that tool has loaded and attached (tens of milliseconds).
const ANSWER_TIMEOUT: Duration = Duration::from_secs(5);
/// The answer when every place is taken.
const FULL: u32 = u32::MAX;

/// A place in another tool's chain, before and after this tool's program
/// goes in it.
pub struct Joined {
    /// The attach kind of the chain (`AttachPoint::kind`).
    pub kind: &'static str,
    pub index: u32,
    /// The first tool's pid, for `--verbose`.
    pub host_pid: u32,
    chain: OwnedFd,
    /// Held, so that the starter stays attached while this tool runs.
    _link: OwnedFd,
    starter: OwnedFd,
    /// Held: the first tool empties the place when it closes.
    _stream: UnixStream,
    /// Who holds each place: this tool writes its own.
    registry: Registry,
}

impl Joined {
    /// Asks the tool at the other end of `stream`, which serves a chain
    /// for `hook` of attach `kind`, for a place; `None` (said under
    /// `--verbose`) when it has none or gives no answer.
    fn ask(hook: &str, kind: &'static str, stream: UnixStream) -> Option<Joined> {
        // Anyone may bind an abstract address: a chain served by another
        // user could be one our programs are never called from.
        if !peer_is_root(&stream) {
            log::info!("{hook}: the {kind} chain is served by another user; attaching our own");
            return None;
        }
        match Self::answer(kind, stream) {
            Ok(Some(joined)) => Some(joined),
            Ok(None) => {
                log::info!("{hook}: the {kind} chain is full; attaching a program of our own");
                None
            }
            Err(e) => {
                log::info!("{hook}: could not join the {kind} chain ({e}); attaching our own");
                None
            }
        }
    }

    /// The place the first tool gives, with what comes with it; `None` if
    /// the chain is full.
    fn answer(kind: &'static str, mut stream: UnixStream) -> io::Result<Option<Joined>> {
        stream.set_read_timeout(Some(ANSWER_TIMEOUT))?;
        stream.write_all(b"j")?;
        let (bytes, fds) = recv_with_fds(stream.as_fd(), 4).map_err(|e| match e.kind() {
            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => {
                io::Error::other(format!("no answer within {ANSWER_TIMEOUT:?}"))
            }
            _ => e,
        })?;
        let [i0, i1, i2, i3, p0, p1, p2, p3] = bytes;
        let index = u32::from_ne_bytes([i0, i1, i2, i3]);
        let host_pid = u32::from_ne_bytes([p0, p1, p2, p3]);
        if index == FULL {
            return Ok(None);
        }
        if !(1..SLOTS).contains(&index) {
            return Err(io::Error::other(format!("it gave place {index}")));
        }
        let [chain, link, starter, registry]: [OwnedFd; 4] = fds
            .try_into()
            .map_err(|_| io::Error::other("answer without the chain's descriptors"))?;
        let registry = Registry::from_fd(registry)?;
        stream.set_read_timeout(None)?;
        Ok(Some(Joined {
            kind,
            index,
            host_pid,
            chain,
            _link: link,
            starter,
            _stream: stream,
            registry,
        }))
    }

    /// The chain, to load this tool's object against.
    pub fn chain(&self) -> BorrowedFd<'_> {
        self.chain.as_fd()
    }

    /// Puts `program` in this tool's place: from now on the chain calls
    /// it. The place is emptied when the returned value is dropped. Should
    /// the first tool's connection close before (it left, or was killed),
    /// its place is emptied too, and from then on the place of any other
    /// tool of the chain that goes without leaving (killed).
    ///
    /// On failure the place is still this tool's to try again with.
    pub fn enter(self, program: BorrowedFd<'_>) -> Result<Member, (Joined, io::Error)> {
        let index = self.index;
        let prepared = (|| {
            let watch = self._stream.try_clone()?;
            let chain = self.chain.try_clone()?;
            let registry = Registry::from_fd(self.registry.fd().try_clone_to_owned()?)?;
            // Held first: a program in a place not held would stay there.
            self.registry.hold(index)?;
            if let Err(e) = map_update(self.chain.as_fd(), index, program.as_raw_fd() as u32) {
                self.registry.release(index);
                return Err(e);
            }
            Ok((watch, chain, registry))
        })();
        let (mut watch, chain, registry) = match prepared {
            Ok(p) => p,
            Err(e) => return Err((self, e)),
        };
        let leaving = Arc::new(AtomicBool::new(false));
        let ours = Arc::clone(&leaving);
        // Without the watch, a first tool that is killed stays in the
        // chain until the chain ends: wasted work, not lost events.
        let _ = thread::Builder::new()
            .name("hub watch".into())
            .spawn(move || {
                wait_closed(&mut watch);
                if ours.load(Ordering::Acquire) {
                    return;
                }
                empty(&chain, &registry, 0);
                take_care(&chain, &registry, index, &ours);
            });
        Ok(Member {
            joined: self,
            leaving,
        })
    }
}

/// How often a tool left in a chain looks for places of tools gone.
const CARE_INTERVAL: Duration = Duration::from_secs(1);

/// Once the first tool has gone: until this tool leaves, empties every
/// place (but `own`) whose tool has gone. Every tool left in the chain
/// does so; emptying a place twice does no harm, and no place is handed
/// out again (no one serves the chain).
fn take_care(chain: &OwnedFd, registry: &Registry, own: u32, leaving: &AtomicBool) {
    let mut caretaker = Caretaker::default();
    while !leaving.load(Ordering::Acquire) {
        for (place, pid) in caretaker.abandoned(own, registry.unlocked()) {
            log::debug!("hub: emptying place {place}, whose tool (pid {pid}) has gone");
            empty(chain, registry, place);
        }
        thread::sleep(CARE_INTERVAL);
    }
}

/// Empties `place` of `chain`, then unmarks it in `registry`: only once
/// empty, so that a place with a program in it is always marked.
fn empty(chain: &OwnedFd, registry: &Registry, place: u32) {
    if map_delete(chain.as_fd(), place).is_ok() {
        registry.release(place);
    }
}

/// Reads `stream` until its other end closes it (a signal does not end
/// the wait).
fn wait_closed(stream: &mut UnixStream) {
    let mut rest = [0u8; 64];
    loop {
        match stream.read(&mut rest) {
            Ok(n) if n > 0 => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            _ => return,
        }
    }
}

/// A tool's program in another tool's chain.
pub struct Member {
    joined: Joined,
    /// Set when this tool leaves, so that its watch on the first tool's
    /// connection (woken by the shutdown) does not take it for gone.
    leaving: Arc<AtomicBool>,
}

impl Member {
    /// The starter program, whose skipped runs are this tool's too.
    pub fn starter(&self) -> BorrowedFd<'_> {
        self.joined.starter.as_fd()
    }

    /// The first tool's pid and this tool's place, for `--verbose`.
    pub fn where_(&self) -> (u32, u32) {
        (self.joined.host_pid, self.joined.index)
    }
}

impl Drop for Member {
    fn drop(&mut self) {
        // Emptied before the connection closes, so the first tool cannot
        // have handed the place on yet; forgotten after, so that a place
        // with a program always has its holder recorded.
        empty(&self.joined.chain, &self.joined.registry, self.joined.index);
        self.leaving.store(true, Ordering::Release);
        let _ = self.joined._stream.shutdown(std::net::Shutdown::Both);
    }
}

/// The first tool's chain: its starter attached, its own program in place
/// 0, and the places it hands out.
pub struct Host {
    chain: OwnedFd,
    _link: OwnedFd,
    listener: Option<OwnedFd>,
    /// The chain's registry of places, if it is served.
    registry: Option<Arc<Registry>>,
}

impl Host {
    /// Attaches `starter` to the tracepoint (a raw tracepoint `name`, or
    /// the BTF tracepoint the program was loaded for when `name` is
    /// `None`), puts `program` in place 0 of `chain` and serves the other
    /// places at the `claim`ed address, if any (else the chain stays this
    /// tool's alone).
    pub fn start(
        hook: &str,
        claim: Option<Claim>,
        name: Option<&str>,
        chain: BorrowedFd<'_>,
        starter: BorrowedFd<'_>,
        program: BorrowedFd<'_>,
    ) -> io::Result<Host> {
        // The registry first: without it the chain is served to no one,
        // and this tool's program is still attached through the starter.
        let claim = claim.and_then(|c| {
            match Registry::create().and_then(|r| {
                r.hold(0)?;
                Ok(r)
            }) {
                Ok(r) => Some((c, Arc::new(r))),
                Err(e) => {
                    log::info!("{hook}: no registry of places ({e}); not shared");
                    None
                }
            }
        });
        map_update(chain, 0, program.as_raw_fd() as u32)?;
        let link = match raw_tracepoint_open(name, starter) {
            Ok(link) => link,
            Err(e) => {
                let _ = map_delete(chain, 0);
                return Err(e);
            }
        };
        let chain = chain.try_clone_to_owned()?;
        let mut registry = None;
        let listener = match claim {
            Some((Claim { listener, .. }, places)) => {
                registry = Some(Arc::clone(&places));
                let shared = Shared {
                    chain: chain.try_clone()?,
                    link: link.try_clone()?,
                    starter: starter.try_clone_to_owned()?,
                    registry: places,
                    taken: Mutex::new([false; SLOTS as usize]),
                };
                let fd = listener.as_fd().try_clone_to_owned()?;
                let shared = Arc::new(shared);
                thread::Builder::new()
                    .name("hub".into())
                    .spawn(move || serve(listener, shared))?;
                log::info!("{hook}: other tools may join this program's chain");
                Some(fd)
            }
            None => None,
        };
        Ok(Host {
            chain,
            _link: link,
            listener,
            registry,
        })
    }
}

impl Host {
    /// Whether other tools can join the chain.
    pub fn serving(&self) -> bool {
        self.listener.is_some()
    }
}

impl Drop for Host {
    fn drop(&mut self) {
        if let Some(l) = &self.listener {
            // Wakes the serving thread's accept, which then ends.
            // SAFETY: shutdown on a socket we own.
            unsafe { libc::shutdown(l.as_raw_fd(), libc::SHUT_RDWR) };
        }
        // Tools that joined keep the starter attached: the chain goes on
        // without this tool's program.
        match &self.registry {
            Some(r) => empty(&self.chain, r, 0),
            None => {
                let _ = map_delete(self.chain.as_fd(), 0);
            }
        }
    }
}

/// What the serving threads hand out.
struct Shared {
    chain: OwnedFd,
    link: OwnedFd,
    starter: OwnedFd,
    registry: Arc<Registry>,
    /// Places handed out; 0 is the first tool's.
    taken: Mutex<[bool; SLOTS as usize]>,
}

fn serve(listener: UnixListener, shared: Arc<Shared>) {
    for stream in listener.incoming() {
        let stream = match stream {
            Ok(stream) => stream,
            // Shut down by the Host's drop.
            Err(e) if e.raw_os_error() == Some(libc::EINVAL) => return,
            Err(_) => {
                // Out of descriptors, say: the next may succeed.
                thread::sleep(Duration::from_millis(10));
                continue;
            }
        };
        if !peer_is_root(&stream) {
            continue;
        }
        let shared = Arc::clone(&shared);
        let _ = thread::Builder::new()
            .name("hub member".into())
            .spawn(move || member(stream, &shared));
    }
}

/// Serves one joining tool: a place, then, when its connection closes
/// (it left or was killed), the place emptied and handed back.
fn member(mut stream: UnixStream, shared: &Shared) {
    let mut request = [0u8; 1];
    if stream.set_read_timeout(Some(ANSWER_TIMEOUT)).is_err()
        || stream.read_exact(&mut request).is_err()
        || stream.set_read_timeout(None).is_err()
    {
        return;
    }
    let index = {
        let mut taken = shared.taken.lock().unwrap_or_else(|e| e.into_inner());
        let free = (1..SLOTS as usize).find(|&i| !taken[i]);
        if let Some(i) = free {
            taken[i] = true;
        }
        free
    };
    let mut answer = [0u8; 8];
    answer[4..].copy_from_slice(&std::process::id().to_ne_bytes());
    let Some(index) = index else {
        answer[..4].copy_from_slice(&FULL.to_ne_bytes());
        let _ = send_with_fds(stream.as_fd(), &answer, &[]);
        return;
    };
    answer[..4].copy_from_slice(&(index as u32).to_ne_bytes());
    let fds = [
        shared.chain.as_raw_fd(),
        shared.link.as_raw_fd(),
        shared.starter.as_raw_fd(),
        shared.registry.fd().as_raw_fd(),
    ];
    if send_with_fds(stream.as_fd(), &answer, &fds).is_ok() {
        // Nothing more comes: the read ends when the connection closes.
        wait_closed(&mut stream);
    }
    empty(&shared.chain, &shared.registry, index as u32);
    shared.taken.lock().unwrap_or_else(|e| e.into_inner())[index] = false;
}

/// Whether the peer runs as root (see [`may_share`]): a chain it serves
/// must be one our programs are called from.
fn peer_is_root(stream: &UnixStream) -> bool {
    let mut cred = libc::ucred {
        pid: 0,
        uid: u32::MAX,
        gid: 0,
    };
    let mut len = size_of::<libc::ucred>() as libc::socklen_t;
    // SAFETY: a ucred-sized buffer and its length.
    let rc = unsafe {
        libc::getsockopt(
            stream.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_PEERCRED,
            (&raw mut cred).cast(),
            &mut len,
        )
    };
    rc == 0 && cred.uid == 0
}

/// Runs `load` on a thread of its own in a private mount namespace where
/// a bpffs of its own is mounted and `fd` pinned in it as `name`; `load`
/// gets the pin's path. Nothing of it is seen outside the thread, and it
/// all goes with the thread, however the process ends.
pub fn with_pinned<T: Send>(
    fd: BorrowedFd<'_>,
    name: &str,
    load: impl FnOnce(PathBuf) -> T + Send,
) -> io::Result<T> {
    thread::scope(|s| {
        s.spawn(|| {
            let dir = private_bpffs()?;
            let path = dir.join(name);
            let c = c_path(&path)?;
            // `union bpf_attr` for BPF_OBJ_PIN: pathname, bpf_fd.
            let attr: [u64; 2] = [c.as_ptr() as u64, fd.as_raw_fd() as u32 as u64];
            bpf(BPF_OBJ_PIN, &attr)?;
            Ok(load(path))
        })
        .join()
        .unwrap_or_else(|_| Err(io::Error::other("the loading thread panicked")))
    })
}

/// Makes this thread's mounts private and mounts a bpffs over a directory
/// that exists; its path.
fn private_bpffs() -> io::Result<PathBuf> {
    crate::sys::private_mounts_on_this_thread()?;
    let dir = ["/sys/fs/bpf", "/tmp", "/run", "/mnt"]
        .into_iter()
        .map(PathBuf::from)
        .find(|d| d.is_dir())
        .ok_or_else(|| io::Error::other("no directory to mount a bpffs over"))?;
    // In this thread's private namespace: no one else sees it.
    crate::sys::mount(Some(c"bpf"), &c_path(&dir)?, Some(c"bpf"), 0)?;
    Ok(dir)
}

fn c_path(p: &std::path::Path) -> io::Result<CString> {
    use std::os::unix::ffi::OsStrExt as _;
    CString::new(p.as_os_str().as_bytes()).map_err(io::Error::other)
}

const BPF_MAP_UPDATE_ELEM: libc::c_long = 2;
const BPF_MAP_DELETE_ELEM: libc::c_long = 3;
const BPF_OBJ_PIN: libc::c_long = 6;
const BPF_RAW_TRACEPOINT_OPEN: libc::c_long = 17;

fn map_update(map: BorrowedFd<'_>, index: u32, program: u32) -> io::Result<()> {
    let (key, value) = (index, program);
    // map_fd, key, value, flags (BPF_ANY).
    let attr: [u64; 4] = [
        map.as_raw_fd() as u32 as u64,
        (&raw const key) as u64,
        (&raw const value) as u64,
        0,
    ];
    bpf(BPF_MAP_UPDATE_ELEM, &attr).map(drop)
}

fn map_delete(map: BorrowedFd<'_>, index: u32) -> io::Result<()> {
    let key = index;
    let attr: [u64; 2] = [map.as_raw_fd() as u32 as u64, (&raw const key) as u64];
    match bpf(BPF_MAP_DELETE_ELEM, &attr) {
        Err(e) if e.raw_os_error() == Some(libc::ENOENT) => Ok(()),
        r => r.map(drop),
    }
}

/// `BPF_RAW_TRACEPOINT_OPEN`: attaches a raw tracepoint program to `name`,
/// or a BTF tracepoint program (`name` `None`) where it was loaded for.
fn raw_tracepoint_open(name: Option<&str>, program: BorrowedFd<'_>) -> io::Result<OwnedFd> {
    let name = name
        .map(CString::new)
        .transpose()
        .map_err(io::Error::other)?;
    let attr: [u64; 2] = [
        name.as_ref().map_or(0, |n| n.as_ptr() as u64),
        program.as_raw_fd() as u32 as u64,
    ];
    let fd = bpf(BPF_RAW_TRACEPOINT_OPEN, &attr)?;
    // SAFETY: a new descriptor the kernel just gave us.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as RawFd) })
}

/// The kernel's id of the map behind `fd`.
pub fn object_id(fd: BorrowedFd<'_>) -> io::Result<u32> {
    // `struct bpf_map_info` starts with type, id.
    let mut info = [0u32; 2];
    crate::lost::object_info(fd, &mut info)?;
    Ok(info[1])
}

/// Sends `bytes` with `fds` attached (SCM_RIGHTS).
fn send_with_fds(sock: BorrowedFd<'_>, bytes: &[u8], fds: &[RawFd]) -> io::Result<()> {
    let mut iov = libc::iovec {
        iov_base: bytes.as_ptr() as *mut _,
        iov_len: bytes.len(),
    };
    let fd_bytes = std::mem::size_of_val(fds);
    // SAFETY: CMSG_SPACE only computes a size.
    let space = unsafe { libc::CMSG_SPACE(fd_bytes as u32) } as usize;
    let mut control = vec![0u64; space.div_ceil(8)];
    // SAFETY: zeroed msghdr is valid; pointers below outlive sendmsg.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &raw mut iov;
    msg.msg_iovlen = 1;
    if !fds.is_empty() {
        msg.msg_control = control.as_mut_ptr().cast();
        msg.msg_controllen = space as _;
        // SAFETY: the control buffer holds one header and `fds`.
        unsafe {
            let cmsg = libc::CMSG_FIRSTHDR(&msg);
            (*cmsg).cmsg_level = libc::SOL_SOCKET;
            (*cmsg).cmsg_type = libc::SCM_RIGHTS;
            (*cmsg).cmsg_len = libc::CMSG_LEN(fd_bytes as u32) as _;
            std::ptr::copy_nonoverlapping(fds.as_ptr(), libc::CMSG_DATA(cmsg).cast(), fds.len());
        }
    }
    // SAFETY: a valid msghdr.
    if unsafe { libc::sendmsg(sock.as_raw_fd(), &msg, libc::MSG_NOSIGNAL) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Receives 8 bytes and up to `max` descriptors (SCM_RIGHTS).
fn recv_with_fds(sock: BorrowedFd<'_>, max: usize) -> io::Result<([u8; 8], Vec<OwnedFd>)> {
    let mut bytes = [0u8; 8];
    let mut iov = libc::iovec {
        iov_base: bytes.as_mut_ptr().cast(),
        iov_len: bytes.len(),
    };
    // SAFETY: CMSG_SPACE only computes a size.
    let space = unsafe { libc::CMSG_SPACE((max * size_of::<RawFd>()) as u32) } as usize;
    let mut control = vec![0u64; space.div_ceil(8)];
    // SAFETY: zeroed msghdr is valid; pointers below outlive recvmsg.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &raw mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.as_mut_ptr().cast();
    msg.msg_controllen = space as _;
    // SAFETY: a valid msghdr.
    let n = unsafe { libc::recvmsg(sock.as_raw_fd(), &mut msg, libc::MSG_CMSG_CLOEXEC) };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    let mut fds = Vec::new();
    // SAFETY: walking the control messages the kernel wrote.
    unsafe {
        let mut cmsg = libc::CMSG_FIRSTHDR(&msg);
        while !cmsg.is_null() {
            if (*cmsg).cmsg_level == libc::SOL_SOCKET && (*cmsg).cmsg_type == libc::SCM_RIGHTS {
                let data = libc::CMSG_DATA(cmsg).cast::<RawFd>();
                let count =
                    ((*cmsg).cmsg_len as usize - libc::CMSG_LEN(0) as usize) / size_of::<RawFd>();
                for i in 0..count {
                    fds.push(OwnedFd::from_raw_fd(data.add(i).read_unaligned()));
                }
            }
            cmsg = libc::CMSG_NXTHDR(&msg, cmsg);
        }
    }
    if (n as usize) < bytes.len() {
        return Err(io::Error::other("short answer"));
    }
    Ok((bytes, fds))
}

#[cfg(test)]
mod tests {
    use std::io::Seek;

    use super::*;

    #[test]
    fn descriptors_pass_with_the_answer() {
        let (a, b) = UnixStream::pair().unwrap();
        let mut file = tempfile_like();
        file.write_all(b"chain").unwrap();
        let answer = [1, 0, 0, 0, 7, 0, 0, 0];
        send_with_fds(a.as_fd(), &answer, &[file.as_raw_fd(), file.as_raw_fd()]).unwrap();
        let (bytes, fds) = recv_with_fds(b.as_fd(), 3).unwrap();
        assert_eq!(bytes, answer);
        assert_eq!(fds.len(), 2);
        // The same open file: what one reads the other sees moved.
        let mut got = std::fs::File::from(fds.into_iter().next().unwrap());
        got.rewind().unwrap();
        let mut s = String::new();
        got.read_to_string(&mut s).unwrap();
        assert_eq!(s, "chain");
    }

    #[test]
    fn an_answer_without_descriptors_is_read_too() {
        let (a, b) = UnixStream::pair().unwrap();
        send_with_fds(a.as_fd(), &[255, 255, 255, 255, 9, 0, 0, 0], &[]).unwrap();
        let (bytes, fds) = recv_with_fds(b.as_fd(), 3).unwrap();
        assert_eq!(u32::from_ne_bytes(bytes[..4].try_into().unwrap()), FULL);
        assert!(fds.is_empty());
    }

    #[test]
    fn a_closed_connection_is_no_answer() {
        let (a, b) = UnixStream::pair().unwrap();
        drop(a);
        assert!(recv_with_fds(b.as_fd(), 3).is_err());
    }

    fn tempfile_like() -> std::fs::File {
        let path = std::env::temp_dir().join(format!("ebpftop-hub-test.{}", std::process::id()));
        let f = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(&path)
            .unwrap();
        std::fs::remove_file(&path).unwrap();
        f
    }
}
