//! ebpftop against the real kernel: the dashboard in a real terminal
//! (tmux) shows a workload's process with its rates, quits cleanly, and a
//! recorded capture replays to the same screen.

use std::{
    process::{Command, Stdio},
    thread,
    time::{Duration, Instant},
};

use ebpftop_tests::{TempDir, Workload, bin, bpf_program_ids, require_root, serial};

/// Programs the dashboard loads (from syslat, opensnoop, execsnoop, TCP).
const OUR_PROGRAMS: &[&str] = &[
    "syslat_enter_ra",
    "syslat_exit_raw",
    "openat_enter",
    "openat_exit",
    "execve_enter",
    "tcpconnect_stat",
    "tcplife_state_b",
];

/// A tmux session of its own, killed on drop.
struct Tmux(String);

impl Tmux {
    fn start(command: &str) -> Tmux {
        let name = format!("ebpftop-test-{}", std::process::id());
        let ok = Command::new("tmux")
            .args([
                "new-session",
                "-d",
                "-s",
                &name,
                "-x",
                "200",
                "-y",
                "50",
                command,
            ])
            .status()
            .expect("tmux is installed (cargo xtask test installs it)")
            .success();
        assert!(ok, "tmux new-session failed");
        Tmux(name)
    }

    fn tmux(&self, args: &[&str]) -> String {
        let out = Command::new("tmux")
            .args(args)
            .stderr(Stdio::inherit())
            .output()
            .expect("tmux");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn screen(&self) -> String {
        self.tmux(&["capture-pane", "-p", "-t", &self.0])
    }

    fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", &self.0];
        args.extend_from_slice(keys);
        self.tmux(&args);
    }

    fn pane(&self, format: &str) -> String {
        self.tmux(&["display-message", "-p", "-t", &self.0, format])
            .trim()
            .to_string()
    }

    fn wait_for(&self, what: impl Fn(&str) -> bool, timeout: Duration) -> String {
        let end = Instant::now() + timeout;
        loop {
            let s = self.screen();
            if what(&s) || Instant::now() > end {
                return s;
            }
            thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["kill-session", "-t", &self.0])
            .status();
    }
}

/// The Processes row of `pid`: its whitespace-separated cells.
fn row(screen: &str, pid: u32) -> Option<Vec<String>> {
    screen
        .lines()
        .find(|l| l.split_whitespace().next() == Some(&pid.to_string()))
        .map(|l| l.split_whitespace().map(str::to_string).collect())
}

/// The kernel's run count of BPF program `id` (0 while statistics are off
/// and always were).
fn run_count(id: u64) -> u64 {
    let out = Command::new("bpftool")
        .args(["prog", "show", "id", &id.to_string(), "--json"])
        .output()
        .expect("bpftool");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("bpftool JSON");
    v["run_cnt"].as_u64().unwrap_or(0)
}

fn rate(cell: &str) -> f64 {
    let (n, mult) = match cell.strip_suffix('k') {
        Some(n) => (n, 1e3),
        None => match cell.strip_suffix('M') {
            Some(n) => (n, 1e6),
            None => (cell, 1.0),
        },
    };
    n.parse::<f64>()
        .unwrap_or_else(|_| panic!("{cell:?} is not a rate"))
        * mult
}

#[test]
fn the_dashboard_shows_a_workload_and_quits_leaving_nothing_behind() {
    require_root();
    let _g = serial();
    let before = bpf_program_ids(OUR_PROGRAMS);
    let tmux = Tmux::start(&format!(
        "{} -i 1; echo ebpftop-exited-$?; sleep 60",
        bin("ebpftop").display()
    ));
    // Attached once the header shows a completed interval.
    let s = tmux.wait_for(|s| s.contains("events/s"), Duration::from_secs(20));
    assert!(s.contains("1 Processes"), "no dashboard:\n{s}");
    assert_eq!(
        tmux.pane("#{alternate_on}"),
        "1",
        "not on the alternate screen"
    );
    let ours: Vec<u64> = bpf_program_ids(OUR_PROGRAMS)
        .into_iter()
        .filter(|id| !before.contains(id))
        .collect();
    assert!(
        ours.len() >= OUR_PROGRAMS.len(),
        "programs loaded: {ours:?}"
    );
    let w = Workload::start(&["--comm", "dash-e2e", "dashboard-mix", "4", "20000"]);
    let pid = w.pid();
    let report = thread::spawn(move || w.go());
    // Only the workload's row, whatever else is busy.
    tmux.keys(&["/", "dash-e2e", "Enter"]);
    thread::sleep(Duration::from_millis(2500));
    let s = tmux.wait_for(
        |s| row(s, pid).is_some_and(|r| r.len() > 5 && rate(&r[3]) > 0.0),
        Duration::from_secs(5),
    );
    let r = row(&s, pid).unwrap_or_else(|| panic!("no row for pid {pid}:\n{s}"));
    assert_eq!(r[1], "dash-e2e", "{r:?}");
    assert_eq!(r[2], "root", "{r:?}");
    // PID COMM USER SYSCALLS/s TOP OPENS/s FAILED/s EXECS CONNECTS/s ...
    let (syscalls, top, opens, failed, connects) =
        (rate(&r[3]), &r[4], rate(&r[5]), rate(&r[6]), rate(&r[8]));
    assert!(syscalls >= 10_000.0, "syscalls/s {syscalls}: {r:?}");
    assert_eq!(top, "getppid", "{r:?}");
    assert!((100.0..=200.0).contains(&opens), "opens/s {opens}: {r:?}");
    assert!(
        (35.0..=65.0).contains(&failed),
        "failed opens/s {failed}: {r:?}"
    );
    assert!(
        (5.0..=15.0).contains(&connects),
        "connects/s {connects}: {r:?}"
    );
    // It sleeps every millisecond: its wakeups have a run-queue latency.
    assert!(
        r[9].ends_with("us") || r[9].ends_with("ms"),
        "run-queue p99 {:?}: {r:?}",
        r[9]
    );
    report.join().expect("workload");
    // The BPF view: ours marked, with rates, because run-time statistics
    // are on while it is shown; off again once it is left.
    tmux.keys(&["Escape", "Escape", "6"]);
    let own_runs = |s: &str| {
        s.lines()
            .find(|l| l.contains("syslat_exit_raw"))
            .map(|l| l.split_whitespace().map(str::to_string).collect::<Vec<_>>())
    };
    let s = tmux.wait_for(
        |s| own_runs(s).is_some_and(|c| c.len() > 3 && c[3] != "-" && rate(&c[3]) > 0.0),
        Duration::from_secs(5),
    );
    assert!(s.contains("loaded by ebpftop"), "no BPF view:\n{s}");
    let own = own_runs(&s).unwrap_or_else(|| panic!("our programs not listed:\n{s}"));
    assert!(own[0].ends_with('*'), "{own:?}");
    // ID TYPE NAME RUNS/s AVG-ns CPU%
    assert!(
        rate(&own[3]) > 0.0 && own[4].parse::<u64>().unwrap() > 0,
        "{own:?}"
    );
    let id: u64 = own[0].trim_end_matches('*').parse().unwrap();
    tmux.keys(&["1"]);
    thread::sleep(Duration::from_millis(2500));
    let before = run_count(id);
    thread::sleep(Duration::from_millis(500));
    assert_eq!(run_count(id), before, "run-time statistics still on");
    tmux.keys(&["q"]);
    let s = tmux.wait_for(|s| s.contains("ebpftop-exited-"), Duration::from_secs(10));
    assert!(s.contains("ebpftop-exited-0"), "did not exit cleanly:\n{s}");
    assert!(!s.contains("1 Processes"), "dashboard left on screen:\n{s}");
    assert_eq!(
        tmux.pane("#{alternate_on}"),
        "0",
        "alternate screen not left"
    );
    assert_eq!(tmux.pane("#{cursor_flag}"), "1", "cursor left hidden");
    let left: Vec<u64> = bpf_program_ids(OUR_PROGRAMS)
        .into_iter()
        .filter(|id| ours.contains(id))
        .collect();
    assert!(left.is_empty(), "programs left loaded: {left:?}");
}

#[test]
fn sigterm_restores_the_terminal_too() {
    require_root();
    let _g = serial();
    let tmux = Tmux::start(&format!(
        "{} -i 1 & echo $! > /tmp/ebpftop-term-{}; wait $!; echo ebpftop-exited-$?; sleep 60",
        bin("ebpftop").display(),
        std::process::id()
    ));
    let s = tmux.wait_for(|s| s.contains("events/s"), Duration::from_secs(20));
    assert!(s.contains("1 Processes"), "no dashboard:\n{s}");
    let pidfile = format!("/tmp/ebpftop-term-{}", std::process::id());
    let pid = std::fs::read_to_string(&pidfile).unwrap();
    let _ = std::fs::remove_file(&pidfile);
    Command::new("kill")
        .args(["-TERM", pid.trim()])
        .status()
        .unwrap();
    let s = tmux.wait_for(|s| s.contains("ebpftop-exited-"), Duration::from_secs(10));
    assert!(s.contains("ebpftop-exited-0"), "{s}");
    assert_eq!(
        tmux.pane("#{alternate_on}"),
        "0",
        "alternate screen not left"
    );
}

#[test]
fn a_terminal_that_hangs_up_ends_the_dashboard() {
    require_root();
    let _g = serial();
    let tmux = Tmux::start(&format!("exec {} -i 1", bin("ebpftop").display()));
    let s = tmux.wait_for(|s| s.contains("events/s"), Duration::from_secs(20));
    assert!(s.contains("1 Processes"), "no dashboard:\n{s}");
    let pid = tmux.pane("#{pane_pid}");
    // Killing the session closes the terminal under it.
    drop(tmux);
    let gone = || {
        std::fs::read_to_string(format!("/proc/{pid}/stat")).map_or(true, |s| {
            s.rsplit_once(") ").is_some_and(|(_, r)| r.starts_with('Z'))
        })
    };
    let end = Instant::now() + Duration::from_secs(10);
    while !gone() && Instant::now() < end {
        thread::sleep(Duration::from_millis(50));
    }
    assert!(
        gone(),
        "ebpftop (pid {pid}) still runs after its terminal hung up"
    );
}

#[test]
fn a_recorded_capture_replays_to_the_same_processes_view() {
    require_root();
    let _g = serial();
    let dir = TempDir::new("ebpftop-capture");
    let capture = dir.path().join("capture.jsonl");
    let w = Workload::start(&["--comm", "dash-rec", "dashboard-mix", "3", "50000"]);
    let pid = w.pid();
    let report = thread::spawn(move || w.go());
    thread::sleep(Duration::from_millis(300));
    let live = Command::new(bin("ebpftop"))
        .args(["--once", "-i", "2", "--record"])
        .arg(&capture)
        .output()
        .unwrap();
    report.join().expect("workload");
    assert!(
        live.status.success(),
        "{}",
        String::from_utf8_lossy(&live.stderr)
    );
    let live = String::from_utf8(live.stdout).unwrap();
    let r = row(&live, pid).unwrap_or_else(|| panic!("no row for {pid}:\n{live}"));
    assert_eq!(r[1], "dash-rec");
    assert!(rate(&r[3]) >= 25_000.0, "{r:?}");
    // The replay runs as nobody: no root needed.
    let replay = Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(bin("ebpftop"))
        .args(["--replay"])
        .arg(&capture)
        .arg("--once")
        .output()
        .unwrap();
    assert!(
        replay.status.success(),
        "{}",
        String::from_utf8_lossy(&replay.stderr)
    );
    let replay = String::from_utf8(replay.stdout).unwrap();
    let top = |s: &str| s.lines().nth(2).map(str::to_string);
    assert_eq!(top(&live), top(&replay), "top process differs");
    assert_eq!(row(&live, pid), row(&replay, pid));
    assert_eq!(live, replay, "the replayed screen differs");
}

/// A cgroup v2 directory of the test's own, removed on drop.
struct Cgroup(std::path::PathBuf);

impl Cgroup {
    fn new(name: &str) -> Cgroup {
        let dir = std::path::Path::new("/sys/fs/cgroup/unified")
            .join(format!("{name}-{}", std::process::id()));
        std::fs::create_dir(&dir).expect("creating a cgroup v2 directory");
        Cgroup(dir)
    }

    fn add(&self, pid: u32) {
        std::fs::write(self.0.join("cgroup.procs"), pid.to_string())
            .expect("moving into the cgroup");
    }
}

impl Drop for Cgroup {
    fn drop(&mut self) {
        // Its processes have exited by now; give the kernel a moment.
        for _ in 0..50 {
            if std::fs::remove_dir(&self.0).is_ok() {
                return;
            }
            thread::sleep(Duration::from_millis(100));
        }
    }
}

#[test]
fn the_scheduler_view_shows_run_queue_latency_per_cgroup() {
    require_root();
    let _g = serial();
    let cg = Cgroup::new("ebpftop-sched");
    let w = Workload::start(&["--comm", "dash-sched", "dashboard-mix", "3", "1000"]);
    cg.add(w.pid());
    let report = thread::spawn(move || w.go());
    thread::sleep(Duration::from_millis(300));
    let out = Command::new(bin("ebpftop"))
        .args(["--once", "-i", "1", "--view", "scheduler"])
        .output()
        .unwrap();
    report.join().expect("workload");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let s = String::from_utf8(out.stdout).unwrap();
    assert!(!s.contains("unavailable"), "{s}");
    let wakeups = s
        .lines()
        .find_map(|l| l.split("wakeups/s ").nth(1))
        .and_then(|r| r.split_whitespace().next())
        .unwrap_or_else(|| panic!("no system-wide line:\n{s}"));
    // ~1000 sleeps a second from the workload alone.
    assert!(rate(wakeups) >= 500.0, "wakeups/s {wakeups}:\n{s}");
    let name = format!("/ebpftop-sched-{}", std::process::id());
    let row = s
        .lines()
        .find(|l| l.contains(&name))
        .unwrap_or_else(|| panic!("no row for cgroup {name}:\n{s}"));
    let cells: Vec<&str> = row.split('│').nth(1).unwrap().split_whitespace().collect();
    assert_eq!(cells[0], name);
    let per_sec = rate(cells[1]);
    assert!((500.0..=1200.0).contains(&per_sec), "{row}");
}

#[test]
fn bad_input_is_one_line_and_a_non_zero_exit() {
    require_root();
    let run = |args: &[&str]| {
        let out = Command::new(bin("ebpftop"))
            .args(args)
            .stdout(Stdio::piped())
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, err) = run(&[]);
    assert_eq!(code, Some(1));
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("not a terminal") && err.contains("--once"),
        "{err}"
    );
    let (code, err) = run(&["--replay", "/nonexistent/capture", "--once"]);
    assert_eq!(code, Some(1));
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("/nonexistent/capture"), "{err}");
    let dir = TempDir::new("ebpftop-bad-capture");
    let bad = dir.path().join("bad.jsonl");
    std::fs::write(&bad, "{\"event\":\"open\"}\n").unwrap();
    let (code, err) = run(&["--replay", bad.to_str().unwrap(), "--once"]);
    assert_eq!(code, Some(1));
    assert!(err.contains("not an ebpftop capture"), "{err}");
    let (code, _) = run(&["--interval", "soon"]);
    assert_eq!(code, Some(2));
    // Without privileges: which ones, and the command to run instead.
    let out = Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(bin("ebpftop"))
        .arg("--once")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("CAP_BPF") && err.contains("sudo ebpftop"),
        "{err}"
    );
}
