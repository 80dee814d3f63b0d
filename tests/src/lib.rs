//! Helpers for the integration tests, which run the real tools as root
//! against the real kernel and compare what they report with what a
//! workload did.

use std::{
    io::{BufRead, BufReader, Write},
    path::PathBuf,
    process::{Child, ChildStdin, Command, ExitStatus, Stdio},
    sync::{Arc, Condvar, Mutex, MutexGuard},
    thread,
    time::{Duration, Instant},
};

use ebpftop_common::LostReason;

pub mod sched;
pub mod tracepoint_count;

/// The one place that says the integration tests need root.
pub fn require_root() {
    // SAFETY: geteuid cannot fail.
    if unsafe { libc::geteuid() } != 0 {
        panic!(
            "integration tests load BPF programs and must run as root: \
             sudo -E cargo xtask test"
        );
    }
}

/// Tests in one binary that trace system-wide run one at a time, so one
/// test's workload does not show up in another's tracer.
pub fn serial() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

/// A binary of this workspace, built by `cargo build --release --workspace
/// --bins`: the tests run the builds users run. (On the test VM a debug
/// build of hardirqs, and only a debug build, sometimes goes without some
/// of its programs' runs; see tests/hardirqs.rs.)
pub fn bin(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("current exe");
    // target/<profile>/deps/<test> -> target/release/<name>
    let target = exe
        .parent()
        .and_then(|d| d.parent())
        .and_then(|d| d.parent())
        .expect("target dir");
    let path = target.join("release").join(name);
    assert!(
        path.exists(),
        "{} is missing: run cargo build --release --workspace --bins (cargo xtask test does)",
        path.display()
    );
    path
}

/// Lines a child printed, shared with the thread that reads them.
#[derive(Default)]
struct Lines {
    lines: Mutex<(Vec<String>, bool)>,
    changed: Condvar,
}

impl Lines {
    fn spawn_reader(self: &Arc<Self>, r: impl std::io::Read + Send + 'static) {
        let me = Arc::clone(self);
        thread::spawn(move || {
            let mut reader = BufReader::new(r);
            let mut buf = Vec::new();
            loop {
                buf.clear();
                match reader.read_until(b'\n', &mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {
                        let line = String::from_utf8_lossy(&buf)
                            .trim_end_matches('\n')
                            .to_string();
                        me.lines.lock().unwrap().0.push(line);
                        me.changed.notify_all();
                    }
                }
            }
            me.lines.lock().unwrap().1 = true;
            me.changed.notify_all();
        });
    }

    fn wait_for(&self, pred: impl Fn(&str) -> bool, timeout: Duration) -> Option<String> {
        self.wait_count(pred, 1, timeout)
            .map(|mut v| v.swap_remove(0))
    }

    /// The first `n` lines that match, once there are that many.
    fn wait_count(
        &self,
        pred: impl Fn(&str) -> bool,
        n: usize,
        timeout: Duration,
    ) -> Option<Vec<String>> {
        let deadline = Instant::now() + timeout;
        let mut guard = self.lines.lock().unwrap();
        loop {
            let found: Vec<&String> = guard.0.iter().filter(|l| pred(l)).take(n).collect();
            if found.len() == n {
                return Some(found.into_iter().cloned().collect());
            }
            let now = Instant::now();
            if guard.1 || now >= deadline {
                return None;
            }
            guard = self.changed.wait_timeout(guard, deadline - now).unwrap().0;
        }
    }

    fn wait_closed(&self, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        let mut guard = self.lines.lock().unwrap();
        while !guard.1 && Instant::now() < deadline {
            guard = self
                .changed
                .wait_timeout(guard, deadline - Instant::now())
                .unwrap()
                .0;
        }
    }

    fn snapshot(&self) -> Vec<String> {
        self.lines.lock().unwrap().0.clone()
    }
}

/// A running tracer (ours or a reference tool) with its output collected.
pub struct Tracer {
    child: Option<Child>,
    stdout: Arc<Lines>,
    stderr: Arc<Lines>,
    what: String,
}

/// What a stopped tracer printed.
pub struct Finished {
    pub status: ExitStatus,
    pub stdout: Vec<String>,
    pub stderr: Vec<String>,
}

impl Finished {
    /// The sum of the `lost_total` of an interval tool's `interval`
    /// records.
    pub fn interval_lost_total(&self) -> u64 {
        self.json()
            .iter()
            .filter(|r| r["event"] == "interval")
            .map(|r| r["lost_total"].as_u64().unwrap())
            .sum()
    }

    /// The sum of the `lost` records' counts for one reason.
    pub fn lost_for(&self, reason: &str) -> u64 {
        self.json()
            .iter()
            .filter(|r| r["event"] == "lost" && r["reason"] == reason)
            .map(|r| r["count"].as_u64().unwrap())
            .sum()
    }

    /// The most runs of IRQ (or softirq vector) `number` that hardirqs or
    /// softirqs found the kernel counted and their programs did not, from
    /// their `--verbose` lines.
    pub fn irq_shortfall(&self, number: u32) -> u64 {
        let tag = format!("({number}): ");
        self.stderr
            .iter()
            .filter_map(|l| l.split_once(&tag)?.1.split_once(" of the ")?.0.parse().ok())
            .max()
            .unwrap_or(0)
    }

    /// The runs the kernel skipped as nested, summed from the `lost`
    /// records; panics on a loss of any other kind. A skipped run may be of
    /// any event the program sees, the workload's or another's: the tests
    /// that count the workload's events exactly still catch one of those.
    pub fn skipped_runs_only(&self) -> u64 {
        self.json()
            .iter()
            .filter(|r| r["event"] == "lost")
            .map(|r| {
                assert_eq!(
                    r["reason"],
                    LostReason::Skipped.describe(),
                    "events were lost: {r}"
                );
                r["count"].as_u64().unwrap()
            })
            .sum()
    }

    /// The stdout lines that parse as JSON objects.
    pub fn json(&self) -> Vec<serde_json::Value> {
        self.stdout
            .iter()
            .map(|l| {
                serde_json::from_str(l)
                    .unwrap_or_else(|e| panic!("output line is not JSON ({e}): {l:?}"))
            })
            .collect()
    }

    /// Panics unless `--verbose` said hook `hook` attached through `path`
    /// (as "kind target (program name)").
    pub fn assert_attached(&self, hook: &str, path: &str) {
        let line = format!("attach {hook}: {path}");
        assert!(
            self.stderr.iter().any(|l| l.contains(&line)),
            "not attached through {path}: {:?}",
            self.stderr
        );
    }
}

impl Tracer {
    pub fn spawn(program: impl Into<PathBuf>, args: &[&str]) -> Tracer {
        Tracer::spawn_env(program, args, &[])
    }

    /// [`Tracer::spawn`] with extra environment variables.
    pub fn spawn_env(program: impl Into<PathBuf>, args: &[&str], env: &[(&str, &str)]) -> Tracer {
        let program = program.into();
        let what = format!("{} {}", program.display(), args.join(" "));
        let mut child = Command::new(&program)
            .args(args)
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("spawning {what}: {e}"));
        let stdout = Arc::new(Lines::default());
        let stderr = Arc::new(Lines::default());
        stdout.spawn_reader(child.stdout.take().unwrap());
        stderr.spawn_reader(child.stderr.take().unwrap());
        Tracer {
            child: Some(child),
            stdout,
            stderr,
            what,
        }
    }

    /// Our tools, started with `--verbose`, say "tracing" on stderr once
    /// every program is attached.
    pub fn ours(tool: &str, args: &[&str]) -> Tracer {
        Tracer::ours_env(tool, args, &[])
    }

    /// [`Tracer::ours`] with extra environment variables.
    pub fn ours_env(tool: &str, args: &[&str], env: &[(&str, &str)]) -> Tracer {
        let t = Tracer::ours_starting(tool, args, env);
        t.wait_ready();
        t
    }

    /// Our tool `tool`, started with `--verbose` and not waited for: see
    /// [`Tracer::wait_ready`].
    pub fn ours_starting(tool: &str, args: &[&str], env: &[(&str, &str)]) -> Tracer {
        let mut all = vec!["--verbose"];
        all.extend_from_slice(args);
        Tracer::spawn_env(bin(tool), &all, env)
    }

    /// Waits until one of our tools says it is tracing.
    pub fn wait_ready(&self) {
        self.wait_stderr(|l| l.contains("tracing"), Duration::from_secs(20))
            .unwrap_or_else(|| {
                panic!(
                    "{} never became ready: {:?}",
                    self.what,
                    self.stderr.snapshot()
                )
            });
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().unwrap().id()
    }

    pub fn wait_stdout(&self, pred: impl Fn(&str) -> bool, timeout: Duration) -> Option<String> {
        self.stdout.wait_for(pred, timeout)
    }

    /// Waits for `n` stdout lines matching `pred`; panics with what was
    /// seen if they do not all come within `timeout`.
    pub fn wait_stdout_count(&self, pred: impl Fn(&str) -> bool, n: usize, timeout: Duration) {
        if self.stdout.wait_count(pred, n, timeout).is_none() {
            panic!(
                "{}: fewer than {n} matching lines in {timeout:?}: {:#?}",
                self.what,
                self.stdout.snapshot()
            );
        }
    }

    /// For a libbpf-tools reference: waits for its table header, then a
    /// moment more. Its programs do not always see events the moment the
    /// header is out (a workload released at once had both its opens
    /// missed by libbpf-tools opensnoop in about 1 run in 4).
    pub fn wait_reference_header(&self, column: &str) {
        if self
            .wait_stdout(|l| l.contains(column), Duration::from_secs(15))
            .is_none()
        {
            panic!(
                "{} printed no header: {:?}",
                self.what,
                self.stderr.snapshot()
            );
        }
        thread::sleep(Duration::from_millis(300));
    }

    pub fn wait_stderr(&self, pred: impl Fn(&str) -> bool, timeout: Duration) -> Option<String> {
        self.stderr.wait_for(pred, timeout)
    }

    pub fn stdout_so_far(&self) -> Vec<String> {
        self.stdout.snapshot()
    }

    /// SIGINT, then wait (bounded) for the exit and the last output.
    pub fn stop(mut self) -> Finished {
        let mut child = self.child.take().unwrap();
        // SAFETY: signalling our own child.
        unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
        let status = wait_timeout(&mut child, Duration::from_secs(10))
            .unwrap_or_else(|| panic!("{} did not exit within 10 s of SIGINT", self.what));
        self.stdout.wait_closed(Duration::from_secs(5));
        self.stderr.wait_closed(Duration::from_secs(5));
        Finished {
            status,
            stdout: self.stdout.snapshot(),
            stderr: self.stderr.snapshot(),
        }
    }
}

impl Drop for Tracer {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Waits for a child to exit, at most `timeout`.
pub fn wait_timeout(child: &mut Child, timeout: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Ok(Some(s)) = child.try_wait() {
            return Some(s);
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        thread::sleep(Duration::from_millis(10));
    }
}

/// `ebpftop-workload`, started held at `--wait-stdin` so its pid is known
/// before it does anything; `go` releases it and returns its report.
pub struct Workload {
    child: Child,
    stdin: Option<ChildStdin>,
}

impl Workload {
    pub fn start<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> Workload {
        Workload::start_as(None, args)
    }

    /// Started through `setpriv` as another uid/gid when `as_user` is set.
    pub fn start_as<S: AsRef<std::ffi::OsStr>>(as_user: Option<u32>, args: &[S]) -> Workload {
        let workload = bin("ebpftop-workload");
        let cmd = match as_user {
            Some(uid) => {
                let mut c = Command::new("setpriv");
                c.arg(format!("--reuid={uid}"))
                    .arg(format!("--regid={uid}"))
                    .arg("--clear-groups")
                    .arg(&workload);
                c
            }
            None => Command::new(&workload),
        };
        Workload::spawn(cmd, args)
    }

    /// Started inside network namespace `netns` (`ip netns exec` execs
    /// the workload in place, so the pid is the workload's).
    pub fn start_in_netns<S: AsRef<std::ffi::OsStr>>(netns: &NetNs, args: &[S]) -> Workload {
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", &netns.0])
            .arg(bin("ebpftop-workload"));
        Workload::spawn(cmd, args)
    }

    fn spawn<S: AsRef<std::ffi::OsStr>>(mut cmd: Command, args: &[S]) -> Workload {
        let mut child = cmd
            .args(args)
            .arg("--wait-stdin")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawning ebpftop-workload");
        let stdin = child.stdin.take();
        Workload { child, stdin }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Releases the workload and returns its JSON report.
    pub fn go(mut self) -> serde_json::Value {
        let mut stdin = self.stdin.take().unwrap();
        stdin.write_all(b"go\n").expect("releasing workload");
        drop(stdin);
        let status = wait_timeout(&mut self.child, Duration::from_secs(60)).expect("workload hung");
        let mut out = String::new();
        std::io::Read::read_to_string(self.child.stdout.as_mut().unwrap(), &mut out).unwrap();
        assert!(status.success(), "workload failed: {status}: {out}");
        serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("workload report {out:?}: {e}"))
    }
}

/// Ids of loaded BPF programs with one of `names`, from bpftool.
pub fn bpf_program_ids(names: &[&str]) -> Vec<u64> {
    let out = Command::new("bpftool")
        .args(["prog", "list", "--json"])
        .output()
        .expect("bpftool is installed (cargo xtask test installs it)");
    assert!(out.status.success(), "bpftool prog list failed");
    let progs: serde_json::Value = serde_json::from_slice(&out.stdout).expect("bpftool JSON");
    progs
        .as_array()
        .expect("array")
        .iter()
        .filter(|p| p["name"].as_str().is_some_and(|n| names.contains(&n)))
        .filter_map(|p| p["id"].as_u64())
        .collect()
}

/// A fresh directory under the system temp dir, removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let p = std::env::temp_dir().join(format!("ebpftop-{tag}-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }

    pub fn path(&self) -> &std::path::Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A network namespace of the test's own, with its loopback up; deleted
/// on drop. Nothing done inside it touches the host's network.
pub struct NetNs(pub String);

impl NetNs {
    pub fn new(tag: &str) -> NetNs {
        let name = format!("ebpftop-{tag}-{}", std::process::id());
        let ns = NetNs(name);
        ns.run("ip", &["netns", "add", &ns.0], false);
        ns.run("ip", &["link", "set", "lo", "up"], true);
        ns
    }

    /// Runs `program args` inside the namespace (or outside, for `ip
    /// netns` itself), panicking with its stderr when it fails.
    pub fn run(&self, program: &str, args: &[&str], inside: bool) {
        if inside {
            self.output(program, args);
            return;
        }
        check(program, args, "the host", Command::new(program).args(args));
    }

    /// What `program args`, run inside the namespace, prints; panics with
    /// its stderr when it fails.
    pub fn output(&self, program: &str, args: &[&str]) -> String {
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", &self.0, program]).args(args);
        check(program, args, &self.0, &mut cmd)
    }

    /// The TCP segments retransmitted inside so far, by the kernel's own
    /// count (RetransSegs in the namespace's /proc/net/snmp).
    pub fn retransmits(&self) -> u64 {
        let text = self.output("cat", &["/proc/net/snmp"]);
        let tcp: Vec<Vec<&str>> = text
            .lines()
            .filter(|l| l.starts_with("Tcp:"))
            .map(|l| l.split_whitespace().collect())
            .collect();
        let [names, values] = &tcp[..] else {
            panic!("no Tcp lines in {}'s /proc/net/snmp: {text}", self.0);
        };
        let at = names
            .iter()
            .position(|n| *n == "RetransSegs")
            .expect("RetransSegs");
        values[at].parse().expect("RetransSegs is a number")
    }

    /// Waits until something listens on TCP `port` inside.
    pub fn wait_listening(&self, port: &str) {
        let end = Instant::now() + Duration::from_secs(15);
        let sport = format!("sport = :{port}");
        while Instant::now() < end {
            if !self.output("ss", &["-Hltn", &sport]).is_empty() {
                return;
            }
            thread::sleep(Duration::from_millis(20));
        }
        panic!("nothing listens on port {port} in {}", self.0);
    }
}

/// Runs `cmd` (`program args`, in `place`): its stdout; panics with its
/// stderr when it fails.
fn check(program: &str, args: &[&str], place: &str, cmd: &mut Command) -> String {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("{program} {args:?}: {e} (cargo xtask test installs it)"));
    assert!(
        out.status.success(),
        "{program} {args:?} in {place}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

impl Drop for NetNs {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.0]).status();
    }
}

/// A loop device over a file in `dir`, with direct I/O to the file (so a
/// read of the device is one request to it and no page cache copy);
/// detached when dropped, also when a test fails.
pub struct LoopDevice {
    /// `/dev/loopN`.
    pub path: String,
    /// `loopN`, the disk's name.
    pub name: String,
}

impl LoopDevice {
    pub fn new(dir: &std::path::Path, bytes: u64) -> LoopDevice {
        let file = dir.join("ebpftop-loop.img");
        std::fs::File::create(&file)
            .and_then(|f| f.set_len(bytes))
            .unwrap_or_else(|e| panic!("creating {}: {e}", file.display()));
        let file = file.display().to_string();
        let args = ["--find", "--show", "--direct-io=on", file.as_str()];
        let out = check(
            "losetup",
            &args,
            "the host",
            Command::new("losetup").args(args),
        );
        let path = out.trim().to_string();
        let name = path.trim_start_matches("/dev/").to_string();
        assert!(name.starts_with("loop"), "losetup printed {path:?}");
        // Whatever probes a new disk (udev, blkid) does so now, not while
        // a test counts its requests.
        thread::sleep(Duration::from_millis(300));
        LoopDevice { path, name }
    }
}

impl Drop for LoopDevice {
    fn drop(&mut self) {
        let _ = Command::new("losetup").args(["-d", &self.path]).status();
    }
}
