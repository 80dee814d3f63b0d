//! Workloads for integration tests and benchmarks: a process that does a
//! known set of syscalls, so a tracer's report can be checked against it.
//!
//! Usage: `ebpftop-workload SUBCOMMAND ARGS... [--comm NAME] [--wait-stdin]`
//!
//! * `open-loop N [PATH]`: N times open(PATH, O_RDONLY) + close (PATH is
//!   /dev/null by default); prints the elapsed nanoseconds.
//! * `open-paths PATH...`: opens each PATH (bytes as given) O_RDONLY and
//!   closes it when that worked; prints one JSON line: pid, tid, opened
//!   (how many opens succeeded).
//! * `open-markers DIR`: creates DIR/ebpftop-marker-PID (O_CREAT|O_WRONLY|
//!   O_CLOEXEC, 0644), then opens DIR/ebpftop-missing-PID (ENOENT); prints
//!   one JSON line: pid, tid, comm, created, created_fd, missing,
//!   missing_errno. The created file is removed afterwards.
//! * `exec-loop N PATH`: N times fork, exec PATH (argv: PATH) in the child
//!   and wait for it; prints the elapsed nanoseconds.
//! * `exec-self MISSING PATH ARG...`: execs MISSING (which must fail),
//!   prints one JSON line (pid, tid, ppid, comm, missing_errno), then
//!   execs PATH with argv PATH ARG... in this same process.
//! * `exec-thread PATH ARG...`: prints one JSON line (pid, tid), then a
//!   second thread execs PATH with argv PATH ARG... (the kernel makes it
//!   the leader, with the process id as its thread id).
//! * `stat-markers DIR`: creates DIR/ebpftop-stat-PID and a file under a
//!   path longer than 256 bytes, then newfstatat(existing,
//!   AT_SYMLINK_NOFOLLOW) = 0, newfstatat(missing) = ENOENT, statx(long,
//!   AT_NO_AUTOMOUNT, STATX_BASIC_STATS|STATX_BTIME) = 0,
//!   faccessat2(existing, R_OK|W_OK, AT_EACCESS) = 0, and access(missing,
//!   F_OK) (faccessat where there is no access) = ENOENT, and
//!   newfstatat("/xxx...", 5001 bytes) = ENAMETOOLONG; prints one JSON
//!   line: pid, tid, existing, missing, long, access_syscall.
//! * `mount-tmpfs DIR`: in a mount namespace of its own (unshare, then /
//!   made private, recursively), mounts tmpfs "ebpftop-tmpfs" on DIR/mnt
//!   (MS_NOSUID|MS_NODEV, "size=1m"), unmounts it (MNT_DETACH), mounts it
//!   with options longer than 256 bytes and unmounts it, tries fstype
//!   "ebpftop-nofs" (ENODEV), then, where the kernel has the mount API,
//!   fsopen("tmpfs"), fsconfig(size=2m), fsconfig(create), fsmount,
//!   move_mount onto DIR/mnt and umount; prints one JSON line: pid, tid,
//!   mnt_ns, target, long_data, new_api, fs_fd, mnt_fd.
//!
//! * `connect-loop N`: N times connects to a loopback listener of its
//!   own, accepts, and closes both ends with a reset; prints one JSON
//!   line: the loop's nanoseconds (ns) and the 10th percentile of a pair's
//!   (pair_p10_ns: the host slows pairs down, never speeds them up, so the
//!   fast ones show best what the kernel itself costs).
//! * `tcp-pair ADDR SEND RECV`: listens on ADDR (port chosen by the kernel),
//!   connects to it, accepts, sends SEND bytes client to server and RECV
//!   bytes back, closes both; prints one JSON line: pid, tid, port (the
//!   listener's), client_port.
//! * `tcp-stall ADDR PORT SEND MS`: listens on ADDR:PORT, connects to it,
//!   accepts, writes SEND bytes client to server without reading them,
//!   waits MS milliseconds (for retransmits when a firewall drops them),
//!   then resets the client's end (no retransmits after) and closes
//!   both; prints one JSON line: pid, tid, port, client_port.
//! * `resolve HOST [FUNCTION]`: one getaddrinfo(HOST) through libc, or
//!   one call of FUNCTION (`gethostbyname`, or `gethostbyname2` for
//!   AF_INET); prints one JSON line: pid, tid, addresses (how many it
//!   returned).
//! * `tcp-serve ADDR PORT`: listens on ADDR:PORT from the start (before
//!   `--wait-stdin` releases it), then accepts one connection and reads it
//!   to its end; prints one JSON line: pid, tid, port, peer_port, bytes.
//! * `connect-once ADDR PORT`: one TCP connect to an IPv4 address that
//!   sends its SYN only twice (TCP_SYNCNT 1), so an unanswered connect
//!   times out within ~3 s; prints what `connect` prints.
//! * `connect ADDR PORT`: one TCP connect; prints one JSON line: pid, tid,
//!   errno (0 when it connected), client_port (0 when it did not).
//! * `exit-children MS`: forks a child that sleeps MS ms and exits 3, one
//!   that waits until the parent SIGKILLs it MS ms later, and one that
//!   exits 0 at once; then a thread that sleeps MS ms and ends; waits for
//!   all; prints one JSON line: pid, tid, ppid, code3, killed, clean (the
//!   children's pids), thread_tid.
//! * `leader-exits-first MS`: the main thread ends (SYS_exit, not the
//!   process) while a second thread sleeps MS ms, prints one JSON line
//!   (pid, leader_tid, tid) and ends the process with status 0.
//! * `signal-target`: blocks SIGUSR1, ignores SIGUSR2 (SIG_IGN), prints
//!   one JSON line (pid) and waits for a line or EOF on stdin; it is not
//!   released by `--wait-stdin` but by the test, after signals are sent.
//! * `kill PID SIG[,SIG...]`: kill(PID, SIG) for each, in order (numbers);
//!   prints one JSON line: pid, tid, comm, errnos (0 for success).
//!
//! * `syscall-mix`: exactly 100,000 getppid (through syscall(2), which
//!   libc does not cache), 1,000 openat of a missing path (ENOENT) and 50
//!   nanosleep of 10 ms; prints one JSON line: pid, tid, getppid, openat,
//!   openat_errno, nanosleep.
//! * `getppid-loop N`: N getppid through syscall(2); prints the elapsed
//!   nanoseconds.
//! * `direct-reads DEVICE N`: N reads of 4 KiB with O_DIRECT from DEVICE
//!   (a block device), one at a time, at offsets 0, 4096, ... (wrapping
//!   at its end); prints one JSON line: pid, tid, comm, reads, bytes.
//! * `sync-writes DEVICE N`: N times a 4 KiB O_DIRECT write to DEVICE (at
//!   offsets 0, 4096, ..., wrapping) followed by fsync, which sends the
//!   device a cache flush; prints one JSON line: pid, tid, comm, writes,
//!   fsyncs.
//! * `busy-sleep N BUSY_MS SLEEP_MS`: N times spins on the CPU for BUSY_MS
//!   ms of wall time (run it real-time, so no task cuts in: the time the
//!   host takes the virtual CPU away is then inside the slice, which thread
//!   CPU time would leave out and so stretch the slice) then nanosleeps
//!   SLEEP_MS ms; prints one JSON line: pid, tid, rounds.
//! * `alloc-touch MIB`: maps MIB MiB of anonymous memory and writes every
//!   page (in a memory cgroup with a smaller limit, the OOM killer ends
//!   it); prints one JSON line (pid, mib) only if it survives.
//!
//! * `spin CPU MS [NICE]`: pinned to CPU (sched_setaffinity), at nice NICE,
//!   spins for MS ms of wall time; prints one JSON line: pid, tid, cpu.
//! * `sleep-loop CPU N US [NICE]`: pinned to CPU (and at nice NICE, so a
//!   busy CPU's other tasks do not let it preempt them on wakeup), N times
//!   nanosleeps US microseconds; prints one JSON line: pid, tid, cpu,
//!   sleeps, elapsed_ns.
//! * `dashboard-mix SECS RATE`: for SECS seconds, RATE getppid per second
//!   (paced every millisecond), an open of /etc/hostname every 10 ms and
//!   of a missing file every 20 ms, a loopback connect every 100 ms;
//!   prints one JSON line: pid, syscalls, opens, failed_opens, connects.
//! * `pipe-pingpong N`: a forked child and this process, both pinned to
//!   the last CPU, pass one byte back and forth over two pipes N times
//!   (each round trip is two wakeups and two context switches, and the CPU
//!   never idles, whose wake-up cost in a VM would swamp the measure);
//!   prints the elapsed nanoseconds.
//!
//! `--comm NAME` sets the process name (prctl PR_SET_NAME) first thing;
//! `--wait-stdin` then blocks until a line (or EOF) is read on stdin, so a
//! tracer can be started with this pid as its filter before the work.
//! Only libc calls are used around the measured syscalls, so the traced
//! process does exactly what it says.

use std::{
    ffi::{CString, OsString},
    io::Write,
    os::unix::ffi::OsStrExt,
    process::ExitCode,
    time::Instant,
};

/// The options every subcommand takes, anywhere on the command line.
struct Common {
    comm: Option<OsString>,
    wait_stdin: bool,
}

/// A subcommand, checked and ready to run once the process is released.
type Work = Box<dyn FnOnce() -> Result<(), String>>;

fn main() -> ExitCode {
    match parse(std::env::args_os().skip(1).collect()).and_then(|(common, args)| {
        let work = work(&args)?;
        if let Some(comm) = &common.comm {
            set_comm(comm)?;
        }
        if common.wait_stdin {
            wait_stdin();
        }
        work()
    }) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ebpftop-workload: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The subcommand named by `args`, its arguments parsed.
fn work(args: &[OsString]) -> Result<Work, String> {
    let words: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
    Ok(match words.as_slice() {
        [b"open-loop", n, rest @ ..] if rest.len() <= 1 => {
            let n = count(n)?;
            let path = cstring(rest.first().copied().unwrap_or(b"/dev/null"))?;
            Box::new(move || open_loop(n, &path))
        }
        [b"open-paths", paths @ ..] if !paths.is_empty() => {
            let paths = paths
                .iter()
                .map(|p| cstring(p))
                .collect::<Result<Vec<_>, _>>()?;
            Box::new(move || open_paths(&paths))
        }
        [b"exec-loop", n, path] => {
            let n = count(n)?;
            let path = cstring(path)?;
            Box::new(move || exec_loop(n, &path))
        }
        [b"exec-self", missing, path, args @ ..] => {
            let missing = cstring(missing)?;
            let argv = std::iter::once(*path)
                .chain(args.iter().copied())
                .map(cstring)
                .collect::<Result<Vec<_>, _>>()?;
            Box::new(move || exec_self(&missing, &argv))
        }
        [b"exec-thread", path, args @ ..] => {
            let argv = std::iter::once(*path)
                .chain(args.iter().copied())
                .map(cstring)
                .collect::<Result<Vec<_>, _>>()?;
            Box::new(move || exec_thread(argv))
        }
        [b"open-markers", dir] => {
            let dir = dir.to_vec();
            Box::new(move || open_markers(&dir))
        }
        [b"stat-markers", dir] => {
            let dir = dir.to_vec();
            Box::new(move || stat_markers(&dir))
        }
        [b"mount-tmpfs", dir] => {
            let dir = dir.to_vec();
            Box::new(move || mount_tmpfs(&dir))
        }
        [b"tcp-pair", addr, send, recv] => {
            let addr = ip_addr(addr)?;
            let (send, recv) = (count(send)? as usize, count(recv)? as usize);
            Box::new(move || tcp_pair(addr, send, recv))
        }
        [b"tcp-stall", addr, port, send, ms] => {
            let addr = ip_addr(addr)?;
            let port = count(port)? as u16;
            let (send, ms) = (count(send)? as usize, count(ms)?);
            Box::new(move || tcp_stall(addr, port, send, ms))
        }
        [b"resolve", host] => {
            let host = String::from_utf8(host.to_vec()).map_err(|_| "HOST is not UTF-8")?;
            Box::new(move || resolve(&host))
        }
        [b"resolve", host, function] => {
            let host = std::ffi::CString::new(host.to_vec()).map_err(|_| "HOST holds a NUL")?;
            let two = match &function[..] {
                b"gethostbyname" => false,
                b"gethostbyname2" => true,
                _ => return Err("FUNCTION is gethostbyname or gethostbyname2".into()),
            };
            Box::new(move || resolve_by_name(&host, two))
        }
        [b"tcp-serve", addr, port] => {
            let port = count(port)? as u16;
            let listener = std::net::TcpListener::bind((ip_addr(addr)?, port))
                .map_err(|e| format!("bind: {e}"))?;
            Box::new(move || tcp_serve(listener))
        }
        [b"connect-once", addr, port] => {
            let addr: std::net::Ipv4Addr = std::str::from_utf8(addr)
                .ok()
                .and_then(|a| a.parse().ok())
                .ok_or("connect-once takes an IPv4 address")?;
            let port = count(port)? as u16;
            Box::new(move || connect_once(addr, port))
        }
        [b"connect-loop", n] => {
            let n = count(n)?;
            Box::new(move || connect_loop(n))
        }
        [b"connect", addr, port] => {
            let addr = ip_addr(addr)?;
            let port = count(port)? as u16;
            Box::new(move || tcp_connect(addr, port))
        }
        [b"exit-children", ms] => {
            let ms = count(ms)?;
            Box::new(move || exit_children(ms))
        }
        [b"signal-target"] => Box::new(signal_target),
        [b"leader-exits-first", ms] => {
            let ms = count(ms)?;
            Box::new(move || leader_exits_first(ms))
        }
        [b"kill", pid, sigs] => {
            let pid = std::str::from_utf8(pid)
                .ok()
                .and_then(|p| p.parse::<i32>().ok())
                .ok_or("kill takes a pid")?;
            let sigs = sigs
                .split(|&b| b == b',')
                .map(|s| count(s).map(|n| n as i32))
                .collect::<Result<Vec<_>, _>>()?;
            Box::new(move || kill_each(pid, &sigs))
        }
        [b"syscall-mix"] => Box::new(syscall_mix),
        [b"dashboard-mix", secs, rate] => {
            let (secs, rate) = (count(secs)?, count(rate)?);
            Box::new(move || dashboard_mix(secs, rate))
        }
        [b"getppid-loop", n] => {
            let n = count(n)?;
            Box::new(move || getppid_loop(n))
        }
        [b"direct-reads", device, n] => {
            let n = count(n)?;
            let device = cstring(device)?;
            Box::new(move || direct_reads(&device, n))
        }
        [b"sync-writes", device, n] => {
            let n = count(n)?;
            let device = cstring(device)?;
            Box::new(move || sync_writes(&device, n))
        }
        [b"busy-sleep", n, busy, sleep] => {
            let (n, busy, sleep) = (count(n)?, count(busy)?, count(sleep)?);
            Box::new(move || busy_sleep(n, busy, sleep))
        }
        [b"alloc-touch", mib] => {
            let mib = count(mib)?;
            Box::new(move || alloc_touch(mib))
        }
        [b"spin", cpu, ms, rest @ ..] if rest.len() <= 1 => {
            let (cpu, ms) = (count(cpu)?, count(ms)?);
            let nice = rest
                .first()
                .map(|v| parse_nice(v))
                .transpose()?
                .unwrap_or(0);
            Box::new(move || spin(cpu as usize, ms, nice))
        }
        [b"sleep-loop", cpu, n, us, rest @ ..] if rest.len() <= 1 => {
            let (cpu, n, us) = (count(cpu)?, count(n)?, count(us)?);
            let nice = rest
                .first()
                .map(|v| parse_nice(v))
                .transpose()?
                .unwrap_or(0);
            Box::new(move || sleep_loop(cpu as usize, n, us, nice))
        }
        [b"pipe-pingpong", n] => {
            let n = count(n)?;
            Box::new(move || pipe_pingpong(n))
        }
        _ => return Err(USAGE.to_string()),
    })
}

const USAGE: &str =
    "usage: ebpftop-workload (open-loop N [PATH] | open-paths PATH... | open-markers DIR \
                     | exec-loop N PATH | exec-self MISSING PATH ARG... | exec-thread PATH ARG...
                     | stat-markers DIR | mount-tmpfs DIR | connect-loop N \
                     | tcp-pair ADDR SEND RECV | tcp-stall ADDR PORT SEND MS \
                     | resolve HOST [FUNCTION] | connect ADDR PORT | connect-once ADDR PORT | tcp-serve ADDR PORT \
                     | exit-children MS | leader-exits-first MS | signal-target | kill PID SIG[,SIG...] \
                     | syscall-mix | getppid-loop N | dashboard-mix SECS RATE | direct-reads DEVICE N \
                     | sync-writes DEVICE N | busy-sleep N BUSY_MS SLEEP_MS | alloc-touch MIB) \
                     | spin CPU MS [NICE] | sleep-loop CPU N US [NICE] | pipe-pingpong N) \
                     [--comm NAME] [--wait-stdin]";

/// Splits the common options from the subcommand and its arguments.
fn parse(args: Vec<OsString>) -> Result<(Common, Vec<OsString>), String> {
    let mut common = Common {
        comm: None,
        wait_stdin: false,
    };
    let mut rest = Vec::new();
    let mut it = args.into_iter();
    while let Some(a) = it.next() {
        match a.as_bytes() {
            b"--wait-stdin" => common.wait_stdin = true,
            b"--comm" => common.comm = Some(it.next().ok_or("--comm needs a NAME")?),
            _ => rest.push(a),
        }
    }
    Ok((common, rest))
}

fn cstring(bytes: &[u8]) -> Result<CString, String> {
    CString::new(bytes)
        .map_err(|_| format!("{:?} contains a NUL byte", String::from_utf8_lossy(bytes)))
}

fn errno() -> i32 {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

fn set_comm(name: &OsString) -> Result<(), String> {
    let c = cstring(name.as_bytes())?;
    // SAFETY: PR_SET_NAME reads a NUL-terminated string (cut at 15 bytes).
    if unsafe { libc::prctl(libc::PR_SET_NAME, c.as_ptr() as libc::c_ulong, 0, 0, 0) } != 0 {
        return Err(format!(
            "prctl(PR_SET_NAME): {}",
            std::io::Error::last_os_error()
        ));
    }
    Ok(())
}

/// Blocks until a newline or EOF on stdin, reading with read(2) directly.
fn wait_stdin() {
    let mut b = 0u8;
    loop {
        // SAFETY: reading one byte into a valid buffer.
        let n = unsafe { libc::read(0, (&raw mut b).cast(), 1) };
        if n == 0 || (n < 0 && errno() != libc::EINTR) || (n == 1 && b == b'\n') {
            return;
        }
    }
}

fn count(n: &[u8]) -> Result<u64, String> {
    std::str::from_utf8(n)
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("{:?} is not a count", String::from_utf8_lossy(n)))
}

fn open_loop(n: u64, path: &CString) -> Result<(), String> {
    let start = Instant::now();
    for _ in 0..n {
        // SAFETY: path is NUL-terminated; the fd is ours to close.
        let fd = unsafe { libc::open(path.as_ptr(), libc::O_RDONLY) };
        if fd < 0 {
            return Err(format!(
                "open {path:?}: {}",
                std::io::Error::last_os_error()
            ));
        }
        // SAFETY: closing the fd just opened.
        unsafe { libc::close(fd) };
    }
    let elapsed = start.elapsed().as_nanos();
    println!("{elapsed}");
    Ok(())
}

fn exec_loop(n: u64, path: &CString) -> Result<(), String> {
    let argv = [path.as_ptr(), std::ptr::null()];
    let start = Instant::now();
    for _ in 0..n {
        // SAFETY: the child only calls execv and _exit, which are
        // async-signal-safe, on memory prepared before the fork.
        let child = unsafe { libc::fork() };
        if child < 0 {
            return Err(format!("fork: {}", std::io::Error::last_os_error()));
        }
        if child == 0 {
            unsafe {
                libc::execv(path.as_ptr(), argv.as_ptr());
                libc::_exit(127);
            }
        }
        let mut status = 0;
        // SAFETY: waiting for the child just forked.
        if unsafe { libc::waitpid(child, &mut status, 0) } != child
            || !libc::WIFEXITED(status)
            || libc::WEXITSTATUS(status) != 0
        {
            return Err(format!(
                "{path:?} did not run and exit 0: status {status:#x}"
            ));
        }
    }
    println!("{}", start.elapsed().as_nanos());
    Ok(())
}

fn exec_self(missing: &CString, argv: &[CString]) -> Result<(), String> {
    // SAFETY: getpid, gettid and getppid cannot fail.
    let (pid, tid, ppid) = unsafe { (libc::getpid(), libc::gettid(), libc::getppid()) };
    let missing_argv = [missing.as_ptr(), std::ptr::null()];
    // SAFETY: NUL-terminated path and a NULL-terminated argv.
    unsafe { libc::execv(missing.as_ptr(), missing_argv.as_ptr()) };
    let missing_errno = errno();
    let report = format!(
        r#"{{"pid":{pid},"tid":{tid},"ppid":{ppid},"comm":{},"missing_errno":{missing_errno}}}"#,
        json_str(&comm())
    );
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "{report}")
            .and_then(|()| out.flush())
            .map_err(|e| format!("writing the report: {e}"))?;
    }
    let mut ptrs: Vec<*const libc::c_char> = argv.iter().map(|a| a.as_ptr()).collect();
    ptrs.push(std::ptr::null());
    // SAFETY: NUL-terminated strings and a NULL-terminated argv that
    // outlive the call; it returns only on failure.
    unsafe { libc::execv(argv[0].as_ptr(), ptrs.as_ptr()) };
    Err(format!(
        "exec {:?}: {}",
        argv[0],
        std::io::Error::last_os_error()
    ))
}

fn exec_thread(argv: Vec<CString>) -> Result<(), String> {
    // SAFETY: getpid and gettid cannot fail.
    let (pid, tid) = unsafe { (libc::getpid(), libc::gettid()) };
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, r#"{{"pid":{pid},"tid":{tid}}}"#)
            .and_then(|()| out.flush())
            .map_err(|e| format!("writing the report: {e}"))?;
    }
    let thread = std::thread::spawn(move || {
        let mut ptrs: Vec<*const libc::c_char> = argv.iter().map(|a| a.as_ptr()).collect();
        ptrs.push(std::ptr::null());
        // SAFETY: as in exec_self; on success this process is replaced.
        unsafe { libc::execv(argv[0].as_ptr(), ptrs.as_ptr()) };
        format!("exec {:?}: {}", argv[0], std::io::Error::last_os_error())
    });
    Err(thread
        .join()
        .unwrap_or_else(|_| "exec thread panicked".into()))
}

fn open_paths(paths: &[CString]) -> Result<(), String> {
    // SAFETY: getpid and gettid cannot fail.
    let (pid, tid) = unsafe { (libc::getpid(), libc::gettid()) };
    let mut opened = 0;
    for p in paths {
        // SAFETY: NUL-terminated path; the fd is ours to close.
        let fd = unsafe { libc::open(p.as_ptr(), libc::O_RDONLY | libc::O_CLOEXEC) };
        if fd >= 0 {
            opened += 1;
            // SAFETY: closing the fd just opened.
            unsafe { libc::close(fd) };
        }
    }
    println!(r#"{{"pid":{pid},"tid":{tid},"opened":{opened}}}"#);
    Ok(())
}

fn open_markers(dir: &[u8]) -> Result<(), String> {
    // SAFETY: getpid and gettid cannot fail.
    let (pid, tid) = unsafe { (libc::getpid(), libc::gettid()) };
    let dir = dir
        .strip_suffix(b"/")
        .filter(|d| !d.is_empty())
        .unwrap_or(dir);
    let created = [dir, format!("/ebpftop-marker-{pid}").as_bytes()].concat();
    let missing = [dir, format!("/ebpftop-missing-{pid}").as_bytes()].concat();
    let (c_created, c_missing) = (cstring(&created)?, cstring(&missing)?);

    // SAFETY: NUL-terminated path; mode is passed as the variadic argument.
    let fd = unsafe {
        libc::open(
            c_created.as_ptr(),
            libc::O_CREAT | libc::O_WRONLY | libc::O_CLOEXEC,
            0o644 as libc::c_uint,
        )
    };
    if fd < 0 {
        return Err(format!(
            "creating {c_created:?}: {}",
            std::io::Error::last_os_error()
        ));
    }
    // SAFETY: NUL-terminated path.
    let missing_fd = unsafe { libc::open(c_missing.as_ptr(), libc::O_RDONLY | libc::O_CLOEXEC) };
    let missing_errno = if missing_fd < 0 { errno() } else { 0 };
    // SAFETY: closing fds this function opened; removing the file it made.
    unsafe {
        libc::close(fd);
        if missing_fd >= 0 {
            libc::close(missing_fd);
        }
        libc::unlink(c_created.as_ptr());
    }
    if missing_fd >= 0 {
        return Err(format!("{c_missing:?} exists; it should not"));
    }

    let report = format!(
        r#"{{"pid":{pid},"tid":{tid},"comm":{},"created":{},"created_fd":{fd},"missing":{},"missing_errno":{missing_errno}}}"#,
        json_str(&comm()),
        json_str(&created),
        json_str(&missing),
    );
    let mut out = std::io::stdout().lock();
    writeln!(out, "{report}").map_err(|e| format!("writing the report: {e}"))
}

/// This thread's name, as the kernel reports it.
fn comm() -> Vec<u8> {
    let mut buf = [0u8; 16];
    // SAFETY: PR_GET_NAME writes at most 16 bytes, NUL included.
    unsafe {
        libc::prctl(
            libc::PR_GET_NAME,
            buf.as_mut_ptr() as libc::c_ulong,
            0,
            0,
            0,
        )
    };
    let len = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    buf[..len].to_vec()
}

/// A JSON string literal; bytes that are not UTF-8 come out as U+FFFD.
fn json_str(bytes: &[u8]) -> String {
    let s = String::from_utf8_lossy(bytes);
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A syscall's result as -errno, the way the kernel returns it; call it
/// right after the syscall, before errno changes.
fn raw_ret(r: libc::c_long) -> i64 {
    if r < 0 { -(errno() as i64) } else { r }
}

fn stat_markers(dir: &[u8]) -> Result<(), String> {
    // SAFETY: getpid and gettid cannot fail.
    let (pid, tid) = unsafe { (libc::getpid(), libc::gettid()) };
    let dir = dir.strip_suffix(b"/").unwrap_or(dir);
    let existing = [dir, format!("/ebpftop-stat-{pid}").as_bytes()].concat();
    let missing = [dir, format!("/ebpftop-missing-{pid}").as_bytes()].concat();
    let long_dir = [dir, b"/", &[b'd'; 200][..]].concat();
    let long = [&long_dir[..], b"/", &[b'f'; 100][..]].concat();
    let (c_existing, c_missing) = (cstring(&existing)?, cstring(&missing)?);
    let (c_long_dir, c_long) = (cstring(&long_dir)?, cstring(&long)?);
    // Longer than PATH_MAX: the kernel refuses it, a tracer must say it cut it.
    let c_too_long = cstring(&[&b"/"[..], &[b'x'; 5000][..]].concat())?;
    // SAFETY: NUL-terminated paths; fds closed at once.
    unsafe {
        for (p, dir) in [(&c_existing, false), (&c_long_dir, true), (&c_long, false)] {
            let ok = if dir {
                libc::mkdir(p.as_ptr(), 0o755) == 0
            } else {
                let fd = libc::open(p.as_ptr(), libc::O_CREAT | libc::O_WRONLY, 0o644);
                fd >= 0 && libc::close(fd) == 0
            };
            if !ok {
                return Err(format!(
                    "creating {p:?}: {}",
                    std::io::Error::last_os_error()
                ));
            }
        }
    }
    let mut st = std::mem::MaybeUninit::<libc::stat>::uninit();
    let mut stx = std::mem::MaybeUninit::<libc::statx>::uninit();
    // SAFETY: raw syscalls with NUL-terminated paths and buffers of the
    // kernel's struct sizes.
    let rets = unsafe {
        let fdcwd = libc::AT_FDCWD as libc::c_long;
        [
            raw_ret(libc::syscall(
                libc::SYS_newfstatat,
                fdcwd,
                c_existing.as_ptr(),
                st.as_mut_ptr(),
                libc::AT_SYMLINK_NOFOLLOW,
            )),
            raw_ret(libc::syscall(
                libc::SYS_newfstatat,
                fdcwd,
                c_missing.as_ptr(),
                st.as_mut_ptr(),
                0,
            )),
            raw_ret(libc::syscall(
                libc::SYS_statx,
                fdcwd,
                c_long.as_ptr(),
                libc::AT_NO_AUTOMOUNT,
                libc::STATX_BASIC_STATS | libc::STATX_BTIME,
                stx.as_mut_ptr(),
            )),
            raw_ret(libc::syscall(
                libc::SYS_faccessat2,
                fdcwd,
                c_existing.as_ptr(),
                libc::R_OK | libc::W_OK,
                libc::AT_EACCESS,
            )),
            #[cfg(target_arch = "x86_64")]
            raw_ret(libc::syscall(
                libc::SYS_access,
                c_missing.as_ptr(),
                libc::F_OK,
            )),
            #[cfg(not(target_arch = "x86_64"))]
            raw_ret(libc::syscall(
                libc::SYS_faccessat,
                fdcwd,
                c_missing.as_ptr(),
                libc::F_OK,
            )),
            raw_ret(libc::syscall(
                libc::SYS_newfstatat,
                fdcwd,
                c_too_long.as_ptr(),
                st.as_mut_ptr(),
                0,
            )),
        ]
    };
    let access_syscall = if cfg!(target_arch = "x86_64") {
        "access"
    } else {
        "faccessat"
    };
    // SAFETY: removing what this function created.
    unsafe {
        libc::unlink(c_existing.as_ptr());
        libc::unlink(c_long.as_ptr());
        libc::rmdir(c_long_dir.as_ptr());
    }
    let expected = [
        0,
        -libc::ENOENT as i64,
        0,
        0,
        -libc::ENOENT as i64,
        -libc::ENAMETOOLONG as i64,
    ];
    if rets != expected {
        return Err(format!(
            "stat calls returned {rets:?}, expected {expected:?}"
        ));
    }
    println!(
        r#"{{"pid":{pid},"tid":{tid},"existing":{},"missing":{},"long":{},"access_syscall":"{access_syscall}"}}"#,
        json_str(&existing),
        json_str(&missing),
        json_str(&long),
    );
    Ok(())
}

/// Runs a mount-family syscall; an error names it.
fn check(what: &str, r: libc::c_long) -> Result<libc::c_long, String> {
    if r < 0 {
        return Err(format!("{what}: {}", std::io::Error::last_os_error()));
    }
    Ok(r)
}

fn mount_tmpfs(dir: &[u8]) -> Result<(), String> {
    // SAFETY: getpid and gettid cannot fail.
    let (pid, tid) = unsafe { (libc::getpid(), libc::gettid()) };
    let dir = dir.strip_suffix(b"/").unwrap_or(dir);
    let target = [dir, b"/mnt"].concat();
    let c_target = cstring(&target)?;
    let long_data = format!("size=1m{}", ",nr_inodes=1000".repeat(25));
    let c_long_data = cstring(long_data.as_bytes())?;
    let null = std::ptr::null::<libc::c_char>();
    // SAFETY: raw syscalls with NUL-terminated strings (or NULL where the
    // syscall allows it); fds are closed before returning.
    unsafe {
        check("unshare", libc::unshare(libc::CLONE_NEWNS).into())?;
        let ns = std::fs::read_link("/proc/self/ns/mnt").map_err(|e| e.to_string())?;
        let mnt_ns: u64 = ns
            .to_string_lossy()
            .trim_start_matches("mnt:[")
            .trim_end_matches(']')
            .parse()
            .map_err(|_| format!("odd namespace link {ns:?}"))?;
        let mount = |src: *const libc::c_char,
                     fstype: *const libc::c_char,
                     flags: libc::c_ulong,
                     data: *const libc::c_char| {
            libc::syscall(libc::SYS_mount, src, c_target.as_ptr(), fstype, flags, data)
        };
        check(
            "making / private",
            libc::syscall(
                libc::SYS_mount,
                null,
                c"/".as_ptr(),
                null,
                libc::MS_REC | libc::MS_PRIVATE,
                null,
            ),
        )?;
        check("mkdir", libc::mkdir(c_target.as_ptr(), 0o755).into())?;
        check(
            "mount tmpfs",
            mount(
                c"ebpftop-tmpfs".as_ptr(),
                c"tmpfs".as_ptr(),
                libc::MS_NOSUID | libc::MS_NODEV,
                c"size=1m".as_ptr(),
            ),
        )?;
        let umount = || libc::syscall(libc::SYS_umount2, c_target.as_ptr(), libc::MNT_DETACH);
        check("umount2", umount())?;
        check(
            "mount tmpfs with long options",
            mount(
                c"ebpftop-tmpfs".as_ptr(),
                c"tmpfs".as_ptr(),
                0,
                c_long_data.as_ptr(),
            ),
        )?;
        check("umount2", umount())?;
        let bad = mount(c"ebpftop-bad".as_ptr(), c"ebpftop-nofs".as_ptr(), 0, null);
        if bad != -1 || errno() != libc::ENODEV {
            return Err(format!(
                "mount of a bogus fstype gave {bad}, errno {}",
                errno()
            ));
        }
        // The mount API: optional, a kernel may lack it (ENOSYS).
        let fs_fd = libc::syscall(
            libc::SYS_fsopen,
            c"tmpfs".as_ptr(),
            1, /* FSOPEN_CLOEXEC */
        );
        let (new_api, mut mnt_fd) = (fs_fd >= 0, -1);
        if new_api {
            check(
                "fsconfig size",
                libc::syscall(
                    libc::SYS_fsconfig,
                    fs_fd,
                    1, // FSCONFIG_SET_STRING
                    c"size".as_ptr(),
                    c"2m".as_ptr(),
                    0,
                ),
            )?;
            check(
                "fsconfig create",
                libc::syscall(
                    libc::SYS_fsconfig,
                    fs_fd,
                    6, /* FSCONFIG_CMD_CREATE */
                    null,
                    null,
                    0,
                ),
            )?;
            mnt_fd = check(
                "fsmount",
                libc::syscall(
                    libc::SYS_fsmount,
                    fs_fd,
                    1,   // FSMOUNT_CLOEXEC
                    0x4, // MOUNT_ATTR_NODEV
                ),
            )?;
            check(
                "move_mount",
                libc::syscall(
                    libc::SYS_move_mount,
                    mnt_fd,
                    c"".as_ptr(),
                    libc::AT_FDCWD,
                    c_target.as_ptr(),
                    4, // MOVE_MOUNT_F_EMPTY_PATH
                ),
            )?;
            check("umount2", umount())?;
            libc::close(mnt_fd as i32);
            libc::close(fs_fd as i32);
        } else if errno() != libc::ENOSYS {
            return Err(format!("fsopen: {}", std::io::Error::last_os_error()));
        }
        libc::rmdir(c_target.as_ptr());
        println!(
            r#"{{"pid":{pid},"tid":{tid},"mnt_ns":{mnt_ns},"target":{},"long_data":{},"new_api":{new_api},"fs_fd":{fs_fd},"mnt_fd":{mnt_fd}}}"#,
            json_str(&target),
            json_str(long_data.as_bytes()),
        );
    }
    Ok(())
}

fn ip_addr(a: &[u8]) -> Result<std::net::IpAddr, String> {
    std::str::from_utf8(a)
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("{:?} is not an IP address", String::from_utf8_lossy(a)))
}

fn tcp_pair(addr: std::net::IpAddr, send: usize, recv: usize) -> Result<(), String> {
    use std::io::Read;
    use std::net::{TcpListener, TcpStream};
    let io = |what: &str, e: std::io::Error| format!("{what}: {e}");
    // SAFETY: getpid and gettid cannot fail.
    let (pid, tid) = unsafe { (libc::getpid(), libc::gettid()) };
    let listener = TcpListener::bind((addr, 0)).map_err(|e| io("bind", e))?;
    let port = listener
        .local_addr()
        .map_err(|e| io("local_addr", e))?
        .port();
    let mut client = TcpStream::connect((addr, port)).map_err(|e| io("connect", e))?;
    let client_port = client.local_addr().map_err(|e| io("local_addr", e))?.port();
    let (mut server, _) = listener.accept().map_err(|e| io("accept", e))?;
    // Each side writes from a thread of its own so neither blocks on a
    // full socket buffer while the other is not reading.
    let writer = std::thread::spawn(move || client.write_all(&vec![b'c'; send]).map(|()| client));
    let mut got = vec![0u8; send];
    server
        .read_exact(&mut got)
        .map_err(|e| io("server read", e))?;
    server
        .write_all(&vec![b's'; recv])
        .map_err(|e| io("server write", e))?;
    let mut client = writer
        .join()
        .map_err(|_| "client thread panicked".to_string())?
        .map_err(|e| io("client write", e))?;
    let mut back = vec![0u8; recv];
    client
        .read_exact(&mut back)
        .map_err(|e| io("client read", e))?;
    drop(client);
    drop(server);
    println!(r#"{{"pid":{pid},"tid":{tid},"port":{port},"client_port":{client_port}}}"#);
    Ok(())
}

/// One accepted connection, read to its end.
fn tcp_serve(listener: std::net::TcpListener) -> Result<(), String> {
    use std::io::Read;
    let io = |what: &str, e: std::io::Error| format!("{what}: {e}");
    // SAFETY: getpid and gettid cannot fail.
    let (pid, tid) = unsafe { (libc::getpid(), libc::gettid()) };
    let port = listener
        .local_addr()
        .map_err(|e| io("local_addr", e))?
        .port();
    let (mut conn, peer) = listener.accept().map_err(|e| io("accept", e))?;
    let mut buf = Vec::new();
    let bytes = conn.read_to_end(&mut buf).map_err(|e| io("read", e))?;
    println!(
        r#"{{"pid":{pid},"tid":{tid},"port":{port},"peer_port":{},"bytes":{bytes}}}"#,
        peer.port()
    );
    Ok(())
}

fn tcp_connect(addr: std::net::IpAddr, port: u16) -> Result<(), String> {
    // SAFETY: getpid and gettid cannot fail.
    let (pid, tid) = unsafe { (libc::getpid(), libc::gettid()) };
    let (errno, client_port) = match std::net::TcpStream::connect((addr, port)) {
        Ok(s) => (0, s.local_addr().map(|a| a.port()).unwrap_or(0)),
        Err(e) => (e.raw_os_error().unwrap_or(-1), 0),
    };
    println!(r#"{{"pid":{pid},"tid":{tid},"errno":{errno},"client_port":{client_port}}}"#);
    Ok(())
}

fn tcp_stall(addr: std::net::IpAddr, port: u16, send: usize, ms: u64) -> Result<(), String> {
    use std::net::{TcpListener, TcpStream};
    let io = |what: &str, e: std::io::Error| format!("{what}: {e}");
    // SAFETY: getpid and gettid cannot fail.
    let (pid, tid) = unsafe { (libc::getpid(), libc::gettid()) };
    let listener = TcpListener::bind((addr, port)).map_err(|e| io("bind", e))?;
    let mut client = TcpStream::connect((addr, port)).map_err(|e| io("connect", e))?;
    let client_port = client.local_addr().map_err(|e| io("local_addr", e))?.port();
    let (server, _) = listener.accept().map_err(|e| io("accept", e))?;
    client
        .write_all(&vec![b'c'; send])
        .map_err(|e| io("write", e))?;
    std::thread::sleep(std::time::Duration::from_millis(ms));
    // A reset ends the connection at once: no retransmits after this.
    reset_on_close(&client)?;
    drop(client);
    drop(server);
    println!(r#"{{"pid":{pid},"tid":{tid},"port":{port},"client_port":{client_port}}}"#);
    Ok(())
}

fn resolve(host: &str) -> Result<(), String> {
    use std::net::ToSocketAddrs;
    // SAFETY: getpid and gettid cannot fail.
    let (pid, tid) = unsafe { (libc::getpid(), libc::gettid()) };
    // std resolves through libc's getaddrinfo.
    let addresses = (host, 0)
        .to_socket_addrs()
        .map_err(|e| format!("resolving {host}: {e}"))?
        .count();
    println!(r#"{{"pid":{pid},"tid":{tid},"addresses":{addresses}}}"#);
    Ok(())
}

unsafe extern "C" {
    fn gethostbyname(name: *const libc::c_char) -> *mut libc::hostent;
    fn gethostbyname2(name: *const libc::c_char, af: libc::c_int) -> *mut libc::hostent;
}

/// gethostbyname(host), or gethostbyname2(host, AF_INET) if `two`.
fn resolve_by_name(host: &std::ffi::CStr, two: bool) -> Result<(), String> {
    // SAFETY: getpid and gettid cannot fail.
    let (pid, tid) = unsafe { (libc::getpid(), libc::gettid()) };
    // SAFETY: a NUL-terminated name; the result is libc's static buffer,
    // read before any other lookup.
    let addresses = unsafe {
        let h = if two {
            gethostbyname2(host.as_ptr(), libc::AF_INET)
        } else {
            gethostbyname(host.as_ptr())
        };
        if h.is_null() {
            return Err(format!("resolving {host:?} failed"));
        }
        let mut n = 0;
        while !(*(*h).h_addr_list.add(n)).is_null() {
            n += 1;
        }
        n
    };
    println!(r#"{{"pid":{pid},"tid":{tid},"addresses":{addresses}}}"#);
    Ok(())
}

fn connect_once(addr: std::net::Ipv4Addr, port: u16) -> Result<(), String> {
    // SAFETY: getpid and gettid cannot fail.
    let (pid, tid) = unsafe { (libc::getpid(), libc::gettid()) };
    // SAFETY: plain socket calls on a descriptor this function owns, with
    // a sockaddr_in and an int option that outlive the calls.
    let errno = unsafe {
        let fd = libc::socket(libc::AF_INET, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0);
        if fd < 0 {
            return Err(format!("socket: {}", std::io::Error::last_os_error()));
        }
        let one: libc::c_int = 1;
        libc::setsockopt(
            fd,
            libc::IPPROTO_TCP,
            libc::TCP_SYNCNT,
            (&raw const one).cast(),
            size_of::<libc::c_int>() as libc::socklen_t,
        );
        let mut sa: libc::sockaddr_in = std::mem::zeroed();
        sa.sin_family = libc::AF_INET as libc::sa_family_t;
        sa.sin_port = port.to_be();
        sa.sin_addr.s_addr = u32::from_ne_bytes(addr.octets());
        let r = libc::connect(
            fd,
            (&raw const sa).cast(),
            size_of::<libc::sockaddr_in>() as libc::socklen_t,
        );
        let errno = if r == 0 { 0 } else { errno() };
        libc::close(fd);
        errno
    };
    println!(r#"{{"pid":{pid},"tid":{tid},"errno":{errno},"client_port":0}}"#);
    Ok(())
}

fn sleep_ms(ms: u64) {
    std::thread::sleep(std::time::Duration::from_millis(ms));
}

fn exit_children(ms: u64) -> Result<(), String> {
    // SAFETY: getpid, gettid and getppid cannot fail.
    let (pid, tid, ppid) = unsafe { (libc::getpid(), libc::gettid(), libc::getppid()) };
    let delay = libc::timespec {
        tv_sec: (ms / 1000) as libc::time_t,
        tv_nsec: ((ms % 1000) * 1_000_000) as libc::c_long,
    };
    // SAFETY: the children only call nanosleep, pause and _exit, which
    // are async-signal-safe; the process has one thread while forking.
    let fork = |f: &dyn Fn()| -> Result<i32, String> {
        match unsafe { libc::fork() } {
            -1 => Err(format!("fork: {}", std::io::Error::last_os_error())),
            0 => {
                f();
                unsafe { libc::_exit(0) }
            }
            child => Ok(child),
        }
    };
    let code3 = fork(&|| unsafe {
        libc::nanosleep(&delay, std::ptr::null_mut());
        libc::_exit(3);
    })?;
    let killed = fork(&|| loop {
        // SAFETY: waits for the parent's SIGKILL.
        unsafe { libc::pause() };
    })?;
    let clean = fork(&|| ())?;
    sleep_ms(ms);
    // SAFETY: signalling our own child.
    if unsafe { libc::kill(killed, libc::SIGKILL) } != 0 {
        return Err(format!("kill: {}", std::io::Error::last_os_error()));
    }
    for (child, want) in [(code3, 3 << 8), (killed, libc::SIGKILL), (clean, 0)] {
        let mut status = 0;
        // SAFETY: waiting for a child just forked.
        if unsafe { libc::waitpid(child, &mut status, 0) } != child || status != want {
            return Err(format!(
                "child {child}: status {status:#x}, expected {want:#x}"
            ));
        }
    }
    let thread = std::thread::spawn(move || {
        sleep_ms(ms);
        // SAFETY: gettid cannot fail.
        unsafe { libc::gettid() }
    });
    let thread_tid = thread.join().map_err(|_| "thread panicked")?;
    println!(
        r#"{{"pid":{pid},"tid":{tid},"ppid":{ppid},"code3":{code3},"killed":{killed},"clean":{clean},"thread_tid":{thread_tid}}}"#
    );
    Ok(())
}

fn signal_target() -> Result<(), String> {
    // SAFETY: a sigset and a disposition on this process's own signals.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGUSR1);
        if libc::sigprocmask(libc::SIG_BLOCK, &set, std::ptr::null_mut()) != 0
            || libc::signal(libc::SIGUSR2, libc::SIG_IGN) == libc::SIG_ERR
        {
            return Err(format!("signals: {}", std::io::Error::last_os_error()));
        }
    }
    let mut out = std::io::stdout().lock();
    writeln!(out, r#"{{"pid":{}}}"#, std::process::id())
        .and_then(|()| out.flush())
        .map_err(|e| format!("writing the report: {e}"))?;
    wait_stdin();
    Ok(())
}

fn kill_each(target: i32, sigs: &[i32]) -> Result<(), String> {
    // SAFETY: getpid and gettid cannot fail.
    let (pid, tid) = unsafe { (libc::getpid(), libc::gettid()) };
    let errnos: Vec<String> = sigs
        .iter()
        .map(|&sig| {
            // SAFETY: kill has no memory arguments.
            let r = unsafe { libc::kill(target, sig) };
            (if r == 0 { 0 } else { errno() }).to_string()
        })
        .collect();
    println!(
        r#"{{"pid":{pid},"tid":{tid},"comm":{},"errnos":[{}]}}"#,
        json_str(&comm()),
        errnos.join(",")
    );
    Ok(())
}

fn leader_exits_first(ms: u64) -> Result<(), String> {
    // SAFETY: getpid cannot fail.
    let (pid, leader_tid) = unsafe { (libc::getpid(), libc::gettid()) };
    std::thread::spawn(move || {
        sleep_ms(ms);
        // SAFETY: gettid cannot fail.
        let tid = unsafe { libc::gettid() };
        let mut out = std::io::stdout().lock();
        let _ = writeln!(
            out,
            r#"{{"pid":{pid},"leader_tid":{leader_tid},"tid":{tid}}}"#
        )
        .and_then(|()| out.flush());
        // SAFETY: ends the whole process; nothing is left to clean up.
        unsafe { libc::_exit(0) }
    });
    // SAFETY: ends this thread only; the other one ends the process.
    unsafe { libc::syscall(libc::SYS_exit, 0) };
    Err("SYS_exit returned".into())
}

const MIX_GETPPID: u64 = 100_000;
const MIX_OPENAT: u64 = 1_000;
const MIX_NANOSLEEP: u64 = 50;

fn syscall_mix() -> Result<(), String> {
    for _ in 0..MIX_GETPPID {
        // SAFETY: getppid takes no arguments.
        unsafe { libc::syscall(libc::SYS_getppid) };
    }
    let missing = cstring(format!("/nonexistent-ebpftop-{}", std::process::id()).as_bytes())?;
    let mut errno_seen = 0;
    for _ in 0..MIX_OPENAT {
        // SAFETY: a NUL-terminated path; the call fails, so no fd to close.
        let r = unsafe {
            libc::syscall(
                libc::SYS_openat,
                libc::AT_FDCWD,
                missing.as_ptr(),
                libc::O_RDONLY,
            )
        };
        if r >= 0 {
            return Err(format!("{missing:?} exists"));
        }
        errno_seen = errno();
    }
    let ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 10_000_000,
    };
    for _ in 0..MIX_NANOSLEEP {
        // SAFETY: a valid timespec; no remainder wanted.
        unsafe {
            libc::syscall(
                libc::SYS_nanosleep,
                &ts,
                std::ptr::null_mut::<libc::timespec>(),
            )
        };
    }
    println!(
        r#"{{"pid":{},"tid":{},"getppid":{MIX_GETPPID},"openat":{MIX_OPENAT},"openat_errno":{errno_seen},"nanosleep":{MIX_NANOSLEEP}}}"#,
        std::process::id(),
        // SAFETY: gettid cannot fail.
        unsafe { libc::gettid() },
    );
    Ok(())
}

/// N O_DIRECT reads of 4 KiB, one at a time, so each is one block
/// request of its own (no page cache, no merging, no readahead).
fn direct_reads(device: &CString, n: u64) -> Result<(), String> {
    block_io(device, n, false)?;
    println!(
        r#"{{"pid":{},"tid":{},"comm":{},"reads":{n},"bytes":{}}}"#,
        std::process::id(),
        // SAFETY: gettid cannot fail.
        unsafe { libc::gettid() },
        json_str(&comm()),
        n * DIRECT_BLOCK as u64,
    );
    Ok(())
}

/// N O_DIRECT writes of 4 KiB, each followed by fsync (a cache flush).
fn sync_writes(device: &CString, n: u64) -> Result<(), String> {
    block_io(device, n, true)?;
    println!(
        r#"{{"pid":{},"tid":{},"comm":{},"writes":{n},"fsyncs":{n}}}"#,
        std::process::id(),
        // SAFETY: gettid cannot fail.
        unsafe { libc::gettid() },
        json_str(&comm()),
    );
    Ok(())
}

const DIRECT_BLOCK: usize = 4096;

/// N O_DIRECT transfers of one block at offsets 0, 4096, ... of `device`
/// (wrapping at its end): reads, or writes each followed by fsync.
fn block_io(device: &CString, n: u64, write: bool) -> Result<(), String> {
    let os = |what: &str| format!("{what}: {}", std::io::Error::last_os_error());
    let mode = if write { libc::O_RDWR } else { libc::O_RDONLY };
    // SAFETY: a NUL-terminated path; the fd is closed below.
    let fd = unsafe { libc::open(device.as_ptr(), mode | libc::O_DIRECT) };
    if fd < 0 {
        return Err(os("open O_DIRECT"));
    }
    // SAFETY: a valid fd.
    let size = unsafe { libc::lseek(fd, 0, libc::SEEK_END) };
    let blocks = (size.max(0) as u64) / DIRECT_BLOCK as u64;
    let mut buf: *mut libc::c_void = std::ptr::null_mut();
    // SAFETY: an out pointer; alignment and size are valid for O_DIRECT.
    if blocks == 0 || unsafe { libc::posix_memalign(&mut buf, DIRECT_BLOCK, DIRECT_BLOCK) } != 0 {
        // SAFETY: our fd.
        unsafe { libc::close(fd) };
        return Err(format!(
            "{}: no whole 4 KiB block, or no aligned buffer",
            device.to_string_lossy()
        ));
    }
    // SAFETY: `buf` holds DIRECT_BLOCK bytes.
    unsafe { libc::memset(buf, 0x5a, DIRECT_BLOCK) };
    let mut result = Ok(());
    for i in 0..n {
        let offset = ((i % blocks) * DIRECT_BLOCK as u64) as libc::off_t;
        // SAFETY: `buf` holds DIRECT_BLOCK bytes; our fd.
        let done = unsafe {
            if write {
                libc::pwrite(fd, buf, DIRECT_BLOCK, offset)
            } else {
                libc::pread(fd, buf, DIRECT_BLOCK, offset)
            }
        };
        if done != DIRECT_BLOCK as isize {
            result = Err(os(&format!("transfer at {offset}")));
            break;
        }
        // SAFETY: our fd.
        if write && unsafe { libc::fsync(fd) } != 0 {
            result = Err(os("fsync"));
            break;
        }
    }
    // SAFETY: allocated above; our fd.
    unsafe {
        libc::free(buf);
        libc::close(fd);
    }
    result
}

fn getppid_loop(n: u64) -> Result<(), String> {
    let start = Instant::now();
    for _ in 0..n {
        // SAFETY: getppid takes no arguments.
        unsafe { libc::syscall(libc::SYS_getppid) };
    }
    println!("{}", start.elapsed().as_nanos());
    Ok(())
}

/// What a dashboard shows for a process, at a known pace.
fn dashboard_mix(secs: u64, rate: u64) -> Result<(), String> {
    use std::net::{Ipv4Addr, TcpListener, TcpStream};
    use std::{thread, time::Duration};
    let io = |what: &str, e: std::io::Error| format!("{what}: {e}");
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).map_err(|e| io("bind", e))?;
    let addr = listener.local_addr().map_err(|e| io("local_addr", e))?;
    let (good, missing) = (c"/etc/hostname", c"/nonexistent/ebpftop-dashboard-mix");
    let per_ms = rate / 1000;
    let (mut syscalls, mut opens, mut failed, mut connects) = (0u64, 0u64, 0u64, 0u64);
    let start = Instant::now();
    let mut ms = 0u64;
    while start.elapsed() < Duration::from_secs(secs) {
        for _ in 0..per_ms {
            // SAFETY: getppid takes no arguments.
            unsafe { libc::syscall(libc::SYS_getppid) };
        }
        syscalls += per_ms;
        if ms.is_multiple_of(10) {
            // SAFETY: NUL-terminated paths; a returned fd is closed.
            let fd = unsafe { libc::open(good.as_ptr(), libc::O_RDONLY) };
            if fd >= 0 {
                unsafe { libc::close(fd) };
            }
            opens += 1;
        }
        if ms.is_multiple_of(20) {
            // SAFETY: as above; this one fails with ENOENT.
            unsafe { libc::open(missing.as_ptr(), libc::O_RDONLY) };
            opens += 1;
            failed += 1;
        }
        if ms.is_multiple_of(100) {
            let client = TcpStream::connect(addr).map_err(|e| io("connect", e))?;
            let (server, _) = listener.accept().map_err(|e| io("accept", e))?;
            drop((client, server));
            connects += 1;
        }
        ms += 1;
        let next = start + Duration::from_millis(ms);
        if let Some(wait) = next.checked_duration_since(Instant::now()) {
            thread::sleep(wait);
        }
    }
    println!(
        r#"{{"pid":{},"syscalls":{syscalls},"opens":{opens},"failed_opens":{failed},"connects":{connects}}}"#,
        std::process::id()
    );
    Ok(())
}

/// N loopback connects, each accepted and closed, timed (elapsed ns on
/// stdout). The client closes with SO_LINGER 0 (a reset), so no TIME_WAIT
/// piles up and back-to-back runs do not exhaust the ephemeral ports.
fn connect_loop(n: u64) -> Result<(), String> {
    use std::net::{Ipv4Addr, TcpListener, TcpStream};
    let io = |what: &str, e: std::io::Error| format!("{what}: {e}");
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).map_err(|e| io("bind", e))?;
    let addr = listener.local_addr().map_err(|e| io("local_addr", e))?;
    let mut pairs = Vec::with_capacity(n as usize);
    let start = Instant::now();
    for _ in 0..n {
        let pair = Instant::now();
        let client = TcpStream::connect(addr).map_err(|e| io("connect", e))?;
        let (server, _) = listener.accept().map_err(|e| io("accept", e))?;
        reset_on_close(&client)?;
        drop(client);
        drop(server);
        pairs.push(pair.elapsed().as_nanos() as u64);
    }
    let total = start.elapsed().as_nanos();
    pairs.sort_unstable();
    let p10 = pairs.get(pairs.len() / 10).copied().unwrap_or(0);
    println!(r#"{{"ns":{total},"pair_p10_ns":{p10}}}"#);
    Ok(())
}

/// SO_LINGER 0: closing `s` resets the connection.
fn reset_on_close(s: &std::net::TcpStream) -> Result<(), String> {
    let linger = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    // SAFETY: setsockopt on a socket we own with a valid linger struct.
    let rc = unsafe {
        libc::setsockopt(
            std::os::fd::AsRawFd::as_raw_fd(s),
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            (&raw const linger).cast(),
            size_of::<libc::linger>() as libc::socklen_t,
        )
    };
    if rc != 0 {
        return Err(format!("SO_LINGER: {}", std::io::Error::last_os_error()));
    }
    Ok(())
}

/// N rounds of BUSY_MS ms on the CPU, then SLEEP_MS ms asleep.
fn busy_sleep(n: u64, busy_ms: u64, sleep_ms: u64) -> Result<(), String> {
    let sleep = libc::timespec {
        tv_sec: (sleep_ms / 1000) as libc::time_t,
        tv_nsec: ((sleep_ms % 1000) * 1_000_000) as libc::c_long,
    };
    for _ in 0..n {
        let until = Instant::now() + std::time::Duration::from_millis(busy_ms);
        while Instant::now() < until {
            std::hint::spin_loop();
        }
        // SAFETY: a valid timespec; no remainder wanted.
        unsafe { libc::nanosleep(&sleep, std::ptr::null_mut()) };
    }
    println!(
        r#"{{"pid":{},"tid":{},"rounds":{n}}}"#,
        std::process::id(),
        // SAFETY: gettid cannot fail.
        unsafe { libc::gettid() },
    );
    Ok(())
}

/// Maps MIB MiB and writes a byte in every page.
fn alloc_touch(mib: u64) -> Result<(), String> {
    let len = (mib as usize) << 20;
    // SAFETY: a fresh private anonymous mapping, unmapped below.
    let p = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            len,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        )
    };
    if p == libc::MAP_FAILED {
        return Err(format!("mmap: {}", std::io::Error::last_os_error()));
    }
    let base = p.cast::<u8>();
    for off in (0..len).step_by(4096) {
        // SAFETY: inside the mapping; volatile so the writes happen.
        unsafe { std::ptr::write_volatile(base.add(off), 1) };
    }
    // SAFETY: the mapping made above.
    unsafe { libc::munmap(p, len) };
    println!(r#"{{"pid":{},"mib":{mib}}}"#, std::process::id());
    Ok(())
}

/// A nice value, -20 to 19.
fn parse_nice(v: &[u8]) -> Result<i32, String> {
    let s = String::from_utf8_lossy(v);
    s.parse::<i32>()
        .ok()
        .filter(|n| (-20..=19).contains(n))
        .ok_or_else(|| format!("{s:?} is not a nice value (-20 to 19)"))
}

fn set_nice(nice: i32) -> Result<(), String> {
    // SAFETY: our own process's priority.
    if nice != 0 && unsafe { libc::setpriority(libc::PRIO_PROCESS, 0, nice) } != 0 {
        return Err(format!(
            "setpriority({nice}): {}",
            std::io::Error::last_os_error()
        ));
    }
    Ok(())
}

/// Pins the calling thread to `cpu`.
fn pin_to(cpu: usize) -> Result<(), String> {
    // SAFETY: a zeroed cpu_set_t, set through libc's macros, and our own tid.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(cpu, &mut set);
        if libc::sched_setaffinity(0, size_of::<libc::cpu_set_t>(), &set) != 0 {
            return Err(format!(
                "sched_setaffinity({cpu}): {}",
                std::io::Error::last_os_error()
            ));
        }
    }
    Ok(())
}

fn gettid() -> i32 {
    // SAFETY: gettid cannot fail.
    unsafe { libc::gettid() }
}

fn spin(cpu: usize, ms: u64, nice: i32) -> Result<(), String> {
    pin_to(cpu)?;
    set_nice(nice)?;
    let end = Instant::now() + std::time::Duration::from_millis(ms);
    let mut x = 0u64;
    while Instant::now() < end {
        for _ in 0..10_000 {
            x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
        }
    }
    println!(
        r#"{{"pid":{},"tid":{},"cpu":{cpu}}}"#,
        std::process::id(),
        gettid()
    );
    Ok(())
}

fn sleep_loop(cpu: usize, n: u64, us: u64, nice: i32) -> Result<(), String> {
    pin_to(cpu)?;
    set_nice(nice)?;
    let ts = libc::timespec {
        tv_sec: (us / 1_000_000) as libc::time_t,
        tv_nsec: ((us % 1_000_000) * 1000) as libc::c_long,
    };
    let start = Instant::now();
    for _ in 0..n {
        // SAFETY: a valid timespec; no remainder wanted.
        unsafe { libc::nanosleep(&ts, std::ptr::null_mut()) };
    }
    println!(
        r#"{{"pid":{},"tid":{},"cpu":{cpu},"sleeps":{n},"elapsed_ns":{}}}"#,
        std::process::id(),
        gettid(),
        start.elapsed().as_nanos()
    );
    Ok(())
}

fn pipe_pingpong(n: u64) -> Result<(), String> {
    // Pinned before the fork: the child inherits it.
    pin_to(std::thread::available_parallelism().map_or(1, |c| c.get()) - 1)?;
    let mut ping = [0i32; 2];
    let mut pong = [0i32; 2];
    // SAFETY: pipe writes two fds into each array.
    if unsafe { libc::pipe(ping.as_mut_ptr()) } != 0
        || unsafe { libc::pipe(pong.as_mut_ptr()) } != 0
    {
        return Err(format!("pipe: {}", std::io::Error::last_os_error()));
    }
    let mut b = [0u8; 1];
    // SAFETY: fork in a single-threaded process; the child only does
    // read/write on its pipe ends and _exit.
    match unsafe { libc::fork() } {
        -1 => return Err(format!("fork: {}", std::io::Error::last_os_error())),
        0 => unsafe {
            for _ in 0..n {
                if libc::read(ping[0], b.as_mut_ptr().cast(), 1) != 1
                    || libc::write(pong[1], b.as_ptr().cast(), 1) != 1
                {
                    libc::_exit(1);
                }
            }
            libc::_exit(0);
        },
        _ => {}
    }
    let start = Instant::now();
    for _ in 0..n {
        // SAFETY: one byte through pipes we own.
        let ok = unsafe {
            libc::write(ping[1], b.as_ptr().cast(), 1) == 1
                && libc::read(pong[0], b.as_mut_ptr().cast(), 1) == 1
        };
        if !ok {
            return Err(format!(
                "pipe round trip: {}",
                std::io::Error::last_os_error()
            ));
        }
    }
    let elapsed = start.elapsed().as_nanos();
    let mut status = 0;
    // SAFETY: waiting for our child.
    unsafe { libc::wait(&mut status) };
    println!("{elapsed}");
    Ok(())
}
