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
        [b"open-markers", dir] => {
            let dir = dir.to_vec();
            Box::new(move || open_markers(&dir))
        }
        _ => return Err(USAGE.to_string()),
    })
}

const USAGE: &str = "usage: ebpftop-workload (open-loop N [PATH] | open-paths PATH... | open-markers DIR) \
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
