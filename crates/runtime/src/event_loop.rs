//! The one event loop every tool runs: epoll over the ring buffers, a
//! signalfd for SIGINT/SIGTERM/SIGHUP, the read end of a stdout pipe (so
//! `tool | head -1` ends as soon as head does), optionally an input fd (the
//! dashboard's terminal) and a timer for ticks.

use std::{
    io,
    os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd},
    time::{Duration, Instant},
};

use aya::maps::{Array, MapData, RingBuf};
use ebpftop_common::cpu_records::DOORBELL;

use crate::{Error, cpu_records::CpuRecords};

/// What a tool does with what the loop delivers.
pub trait Consumer {
    /// One ring buffer record.
    fn record(&mut self, data: &[u8]) -> io::Result<()>;
    /// One record from ring `ring` (in the order the rings were added);
    /// consumers of a single ring need not care.
    fn record_from(&mut self, _ring: usize, data: &[u8]) -> io::Result<()> {
        self.record(data)
    }
    /// The input fd is readable; return `false` to stop.
    fn input(&mut self) -> io::Result<bool> {
        Ok(true)
    }
    /// After a batch of records: flush output.
    fn batch_done(&mut self) -> io::Result<()>;
    /// Every tick interval; return `false` to stop (interval count reached).
    fn tick(&mut self) -> io::Result<bool>;
}

/// Why the loop ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    Signal(i32),
    Duration,
    /// The reader of our output went away (EPIPE): a normal end.
    OutputClosed,
    /// The consumer's tick asked to stop.
    Done,
}

const TOKEN_SIGNAL: u64 = 2;
const TOKEN_STDOUT: u64 = 3;
const TOKEN_INPUT: u64 = 4;
/// Ring `i` wakes epoll with token `TOKEN_RING + i`.
const TOKEN_RING: u64 = 16;

/// Records read per wake-up before signals and ticks get a look in.
const MAX_BATCH: usize = 4096;

const POLL_AGAIN: Duration = Duration::from_nanos(ebpftop_common::READER_POLL_NS);

/// A tool's ring buffer (`EVENTS`), the slot where the reader promises
/// the kernel when it will next drain it (`READER_POLL`), and the per-CPU
/// record areas its programs may write instead (whose doorbells then come
/// through the ring).
pub struct Ring {
    events: RingBuf<MapData>,
    promise: Option<Array<MapData, u64>>,
    cpu_records: Option<CpuRecords>,
}

impl Ring {
    pub fn new(events: RingBuf<MapData>, promise: Option<Array<MapData, u64>>) -> Self {
        Ring {
            events,
            promise,
            cpu_records: None,
        }
    }

    /// Also reads `areas`, polled with the ring.
    pub fn with_cpu_records(mut self, areas: CpuRecords) -> Self {
        self.cpu_records = Some(areas);
        self
    }

    /// Tells the kernel the ring will be drained before `until_ns`
    /// (CLOCK_MONOTONIC, `bpf_ktime_get_ns`'s clock); 0 withdraws the
    /// promise. A failed write costs only wake-ups, never records.
    fn promise(&mut self, until_ns: u64) {
        if let Some(p) = &mut self.promise
            && let Err(e) = p.set(0, until_ns, 0)
        {
            log::debug!("READER_POLL: {e}");
            self.promise = None;
        }
    }
}

pub struct EventLoop {
    epoll: OwnedFd,
    signals: OwnedFd,
    rings: Vec<Ring>,
}

/// CLOCK_MONOTONIC in nanoseconds: the clock of `bpf_ktime_get_ns`.
fn monotonic_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: a valid timespec to fill.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

fn cvt(rc: libc::c_int, what: &str) -> Result<libc::c_int, Error> {
    if rc < 0 {
        Err(Error::Io(what.into(), io::Error::last_os_error()))
    } else {
        Ok(rc)
    }
}

fn epoll_add(epoll: RawFd, fd: RawFd, events: u32, token: u64) -> io::Result<()> {
    let mut ev = libc::epoll_event { events, u64: token };
    // SAFETY: valid fds and event struct.
    if unsafe { libc::epoll_ctl(epoll, libc::EPOLL_CTL_ADD, fd, &mut ev) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Blocks the stop signals and returns a signalfd that receives them.
fn signal_fd() -> Result<OwnedFd, Error> {
    // SAFETY: sigset manipulation on a local, then sigprocmask/signalfd.
    unsafe {
        let mut mask: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut mask);
        for s in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
            libc::sigaddset(&mut mask, s);
        }
        cvt(
            libc::pthread_sigmask(libc::SIG_BLOCK, &mask, std::ptr::null_mut()),
            "blocking signals",
        )?;
        let fd = cvt(
            libc::signalfd(-1, &mask, libc::SFD_CLOEXEC | libc::SFD_NONBLOCK),
            "signalfd",
        )?;
        Ok(OwnedFd::from_raw_fd(fd))
    }
}

/// Whether stdout is a pipe or socket, whose reader can go away.
fn stdout_is_pipe() -> bool {
    // SAFETY: fstat on fd 1 into a zeroed struct.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    if unsafe { libc::fstat(1, &mut st) } != 0 {
        return false;
    }
    matches!(st.st_mode & libc::S_IFMT, libc::S_IFIFO | libc::S_IFSOCK)
}

impl EventLoop {
    /// Call before the programs are attached, so a Ctrl-C during start-up
    /// is seen by the loop rather than killing the process mid-attach.
    pub fn new() -> Result<Self, Error> {
        // SAFETY: plain syscall.
        let epoll = cvt(unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) }, "epoll")?;
        // SAFETY: a fresh fd we own.
        let epoll = unsafe { OwnedFd::from_raw_fd(epoll) };
        let signals = signal_fd()?;
        epoll_add(
            epoll.as_raw_fd(),
            signals.as_raw_fd(),
            libc::EPOLLIN as u32,
            TOKEN_SIGNAL,
        )
        .map_err(|e| Error::Io("epoll signalfd".into(), e))?;
        if stdout_is_pipe() {
            // EPOLLERR is reported without asking once the reader is gone.
            epoll_add(epoll.as_raw_fd(), 1, 0, TOKEN_STDOUT)
                .map_err(|e| Error::Io("epoll stdout".into(), e))?;
        }
        Ok(EventLoop {
            epoll,
            signals,
            rings: Vec::new(),
        })
    }

    /// The tool's one ring buffer.
    pub fn set_ring(&mut self, ring: Ring) -> Result<(), Error> {
        self.add_ring(ring).map(|_| ())
    }

    /// One more ring buffer; returns its index for
    /// [`Consumer::record_from`].
    pub fn add_ring(&mut self, ring: Ring) -> Result<usize, Error> {
        let index = self.rings.len();
        epoll_add(
            self.epoll.as_raw_fd(),
            ring.events.as_raw_fd(),
            libc::EPOLLIN as u32,
            TOKEN_RING + index as u64,
        )
        .map_err(|e| Error::Io("epoll ring buffer".into(), e))?;
        self.rings.push(ring);
        Ok(index)
    }

    /// Calls [`Consumer::input`] whenever `fd` is readable (the caller
    /// keeps it open for as long as the loop runs).
    pub fn watch_input(&mut self, fd: RawFd) -> Result<(), Error> {
        epoll_add(
            self.epoll.as_raw_fd(),
            fd,
            libc::EPOLLIN as u32,
            TOKEN_INPUT,
        )
        .map_err(|e| Error::Io("epoll input".into(), e))
    }

    /// Runs until a signal, the duration, a closed output or the consumer
    /// stops it. Records already in the ring buffer are delivered before
    /// returning, except when the output is gone.
    pub fn run(
        &mut self,
        consumer: &mut impl Consumer,
        duration: Option<Duration>,
        tick: Duration,
    ) -> Result<Stop, Error> {
        let start = Instant::now();
        let deadline = duration.map(|d| start + d);
        let mut next_tick = start + tick;
        // Records submitted without a wake-up (see `WAKEUP_INTERVAL_NS`)
        // are collected by polling again this soon after every wake-up or
        // poll that found records; idle, the loop blocks.
        let mut poll_at: Option<Instant> = None;
        let mut events = [libc::epoll_event { events: 0, u64: 0 }; 16];
        loop {
            let now = Instant::now();
            let mut wake = next_tick;
            if let Some(d) = deadline {
                wake = wake.min(d);
            }
            if let Some(p) = poll_at {
                wake = wake.min(p);
            }
            // Round up, so the loop never wakes just before the deadline
            // and spins.
            let timeout_ms = wake
                .saturating_duration_since(now)
                .as_nanos()
                .div_ceil(1_000_000)
                .min(i32::MAX as u128) as i32;
            // SAFETY: valid epoll fd and event buffer.
            let n = unsafe {
                libc::epoll_wait(
                    self.epoll.as_raw_fd(),
                    events.as_mut_ptr(),
                    events.len() as i32,
                    timeout_ms,
                )
            };
            if n < 0 {
                let e = io::Error::last_os_error();
                if e.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                return Err(Error::Io("epoll_wait".into(), e));
            }
            let mut stop = None;
            // The tick drains too: a bound on how long any record can wait,
            // whatever the timing between its commit and our last poll.
            let mut ring_ready =
                poll_at.is_some_and(|p| Instant::now() >= p) || Instant::now() >= next_tick;
            let mut input_ready = false;
            for ev in &events[..n as usize] {
                // A copy: the struct is packed.
                let token = ev.u64;
                match token {
                    TOKEN_SIGNAL => stop = Some(Stop::Signal(self.read_signal())),
                    TOKEN_STDOUT => return Ok(Stop::OutputClosed),
                    TOKEN_INPUT => input_ready = true,
                    t if t >= TOKEN_RING => ring_ready = true,
                    _ => {}
                }
            }
            if ring_ready {
                let delivered = match self.drain(consumer, MAX_BATCH)? {
                    Ok(n) => n,
                    Err(s) => return Ok(s),
                };
                // A wake-up always re-arms the poll: the records that
                // follow it within the interval do not wake us.
                let woken = n > 0 && events[..n as usize].iter().any(|e| { e.u64 } >= TOKEN_RING);
                poll_at = if woken || delivered > 0 {
                    Some(self.poll_again(delivered))
                } else if poll_at.is_some() {
                    // Going idle: withdraw the promise, then look once
                    // more for records submitted while it still stood.
                    self.promise(0);
                    match self.drain(consumer, MAX_BATCH)? {
                        Ok(0) => None,
                        Ok(delivered) => Some(self.poll_again(delivered)),
                        Err(s) => return Ok(s),
                    }
                } else {
                    None
                };
            }
            if input_ready && stop.is_none() {
                match consumer.input() {
                    Ok(true) => {}
                    Ok(false) => stop = Some(Stop::Done),
                    Err(e) => return io_stop(e),
                }
            }
            let now = Instant::now();
            if stop.is_none() && deadline.is_some_and(|d| now >= d) {
                stop = Some(Stop::Duration);
            }
            if let Some(stop) = stop {
                return Ok(self.drain(consumer, usize::MAX)?.err().unwrap_or(stop));
            }
            if now >= next_tick {
                next_tick += tick;
                if next_tick < now {
                    next_tick = now + tick;
                }
                match consumer.tick() {
                    Ok(true) => {}
                    Ok(false) => {
                        return Ok(self
                            .drain(consumer, usize::MAX)?
                            .err()
                            .unwrap_or(Stop::Done));
                    }
                    Err(e) => return io_stop(e),
                }
            }
        }
    }

    fn promise(&mut self, until_ns: u64) {
        for ring in &mut self.rings {
            ring.promise(until_ns);
        }
    }

    /// After a poll that delivered `delivered` records: when to poll next,
    /// promised to the kernel. A full batch may have left records behind,
    /// which no wake-up will announce: then at once.
    fn poll_again(&mut self, delivered: usize) -> Instant {
        self.promise(monotonic_ns() + ebpftop_common::READER_PROMISE_NS);
        let again = if delivered >= MAX_BATCH {
            Duration::ZERO
        } else {
            POLL_AGAIN
        };
        Instant::now() + again
    }

    /// Delivers up to `max` records (from the rings in turn), then flushes: how many, or `Err` with
    /// the reason to stop when the output is gone.
    fn drain(
        &mut self,
        consumer: &mut impl Consumer,
        max: usize,
    ) -> Result<Result<usize, Stop>, Error> {
        let mut n = 0;
        for (index, ring) in self.rings.iter_mut().enumerate() {
            let doorbells = ring.cpu_records.is_some();
            while n < max {
                let Some(item) = ring.events.next() else {
                    break;
                };
                if doorbells && *item == DOORBELL.to_ne_bytes() {
                    continue;
                }
                if let Err(e) = consumer.record_from(index, &item) {
                    return io_stop(e).map(Err);
                }
                n += 1;
            }
            if let Some(areas) = &mut ring.cpu_records {
                match areas.drain(max - n, |rec| consumer.record_from(index, rec)) {
                    Ok(taken) => n += taken,
                    Err(e) => return io_stop(e).map(Err),
                }
            }
        }
        if let Err(e) = consumer.batch_done() {
            return io_stop(e).map(Err);
        }
        Ok(Ok(n))
    }

    fn read_signal(&self) -> i32 {
        // SAFETY: reading one signalfd_siginfo from our nonblocking fd.
        let mut info: libc::signalfd_siginfo = unsafe { std::mem::zeroed() };
        let size = std::mem::size_of::<libc::signalfd_siginfo>();
        let n = unsafe { libc::read(self.signals.as_raw_fd(), (&raw mut info).cast(), size) };
        if n as usize == size {
            info.ssi_signo as i32
        } else {
            libc::SIGTERM
        }
    }
}

/// A broken pipe ends the loop normally; any other write error is an error.
fn io_stop(e: io::Error) -> Result<Stop, Error> {
    if e.kind() == io::ErrorKind::BrokenPipe {
        Ok(Stop::OutputClosed)
    } else {
        Err(Error::Io("writing output".into(), e))
    }
}
