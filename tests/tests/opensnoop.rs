//! opensnoop against the real kernel: what it reports must be what a
//! workload with a known pid did, and what libbpf-tools' opensnoop saw.

use std::{
    os::unix::ffi::OsStrExt,
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use ebpftop_tests::{
    TempDir, Tracer, Workload, bin, bpf_program_ids, require_root, serial, wait_timeout,
};
use serde_json::Value;

const WAIT: Duration = Duration::from_secs(15);

fn opens_by(events: &[Value], pid: u32) -> Vec<&Value> {
    events
        .iter()
        .filter(|e| e["event"] == "open" && e["pid"] == pid)
        .collect()
}

fn with_path<'a>(events: &[&'a Value], path: &str) -> &'a Value {
    events
        .iter()
        .find(|e| e["path"] == path)
        .unwrap_or_else(|| panic!("no open of {path} in {events:#?}"))
}

#[test]
fn reports_marker_opens_as_the_workload_did_them_and_as_libbpf_tools_saw_them() {
    require_root();
    let _g = serial();
    let dir = TempDir::new("opensnoop");
    let w = Workload::start(&[
        "open-markers",
        dir.path().to_str().unwrap(),
        "--comm",
        "osnoop-mark",
    ]);
    let pid = w.pid().to_string();
    let ours = Tracer::ours("opensnoop", &["--json", "-p", &pid]);
    // Line-buffered: its header and rows reach the pipe as printed.
    let reference = Tracer::spawn("stdbuf", &["-oL", "/usr/sbin/opensnoop", "-p", &pid]);
    reference.wait_reference_header("PATH");
    let report = w.go();
    let created = report["created"].as_str().unwrap().to_string();
    let missing = report["missing"].as_str().unwrap().to_string();
    ours.wait_stdout(|l| l.contains(&missing), WAIT)
        .expect("ours saw the failed open");
    reference
        .wait_stdout(|l| l.contains(&missing), WAIT)
        .expect("libbpf-tools saw the failed open");
    let fin = ours.stop();
    assert!(fin.status.success(), "{:?}", fin.stderr);
    let events = fin.json();
    let mine = opens_by(&events, w_pid(&report));
    assert_eq!(mine.len(), events.len(), "-p let other processes through");

    let c = with_path(&mine, &created);
    assert_eq!(c["tid"], report["tid"]);
    assert_eq!(c["comm"], "osnoop-mark");
    assert_eq!(c["uid"], 0);
    assert_eq!(c["syscall"], "openat");
    assert_eq!(c["fd"], report["created_fd"]);
    assert_eq!(c["ret"], report["created_fd"]);
    assert_eq!(c["errno"], Value::Null);
    assert_eq!(c["flags_str"], "O_WRONLY|O_CREAT|O_CLOEXEC");
    assert_eq!(
        c["flags"],
        (libc::O_WRONLY | libc::O_CREAT | libc::O_CLOEXEC) as u64
    );
    assert_eq!(c["mode"], "0644");
    assert!(c["ts_ns"].as_u64().unwrap() > 1_600_000_000_000_000_000);
    assert!(c["cgroup_id"].as_u64().unwrap() > 0);

    let m = with_path(&mine, &missing);
    assert_eq!(m["fd"], Value::Null);
    assert_eq!(m["errno"], 2);
    assert_eq!(m["error"], "ENOENT");
    assert_eq!(m["ret"], -2);
    assert_eq!(m["flags_str"], "O_RDONLY|O_CLOEXEC");

    // libbpf-tools prints `PID COMM FD ERR PATH`: the same fd and errno.
    let fin = reference.stop();
    let row = |path: &str| -> Vec<String> {
        let line = fin
            .stdout
            .iter()
            .find(|l| l.ends_with(path))
            .unwrap_or_else(|| panic!("libbpf-tools did not show {path}: {:?}", fin.stdout));
        line.split_whitespace().map(String::from).collect()
    };
    let r = row(&created);
    assert_eq!(r[0], pid);
    assert_eq!(r[2], report["created_fd"].to_string());
    assert_eq!(r[3], "0");
    let r = row(&missing);
    assert_eq!((r[2].as_str(), r[3].as_str()), ("-1", "2"));
}

fn w_pid(report: &Value) -> u32 {
    report["pid"].as_u64().unwrap() as u32
}

/// A burst much faster than one wake-up per event, small enough to fit the
/// ring buffer whole (5,000 records of ~330 bytes in 4 MiB) however slowly
/// this debug build reads: every open arrives, in order, none lost.
#[test]
fn delivers_every_open_of_a_burst() {
    require_root();
    let _g = serial();
    let dir = TempDir::new("opensnoop-burst");
    let path = dir.path().join("burst");
    std::fs::write(&path, b"").unwrap();
    let path = path.to_str().unwrap().to_string();
    const N: usize = 5_000;
    let w = Workload::start(&["open-loop", &N.to_string(), &path, "--comm", "osnoop-burst"]);
    let pid = w.pid().to_string();
    let ours = Tracer::ours("opensnoop", &["--json", "-p", &pid]);
    w.go();
    let deadline = Instant::now() + WAIT;
    while Instant::now() < deadline
        && ours
            .stdout_so_far()
            .iter()
            .filter(|l| l.contains(&path))
            .count()
            < N
    {
        std::thread::sleep(Duration::from_millis(50));
    }
    let fin = ours.stop();
    let events = fin.json();
    let opens: Vec<&Value> = events
        .iter()
        .filter(|e| e["path"] == path.as_str())
        .collect();
    let lost: Vec<&Value> = events.iter().filter(|e| e["event"] == "lost").collect();
    assert_eq!(
        opens.len(),
        N,
        "opens delivered; lost: {lost:?}; {:?}",
        fin.stderr
    );
    assert!(lost.is_empty(), "lost records: {lost:?}");
    assert!(
        opens
            .windows(2)
            .all(|w| w[0]["ts_ns"].as_u64() <= w[1]["ts_ns"].as_u64()),
        "out of order"
    );
    assert!(opens.iter().all(|e| e["fd"].as_u64().is_some()));
}

#[test]
fn failed_only_shows_only_the_failure() {
    require_root();
    let _g = serial();
    let dir = TempDir::new("opensnoop-x");
    let w = Workload::start(&["open-markers", dir.path().to_str().unwrap()]);
    let pid = w.pid().to_string();
    let ours = Tracer::ours("opensnoop", &["--json", "-x", "-p", &pid]);
    let report = w.go();
    let missing = report["missing"].as_str().unwrap();
    ours.wait_stdout(|l| l.contains(missing), WAIT)
        .expect("saw the failure");
    let events = ours.stop().json();
    assert!(!events.is_empty());
    for e in &events {
        assert!(e["errno"].as_u64().is_some(), "-x showed a success: {e}");
    }
    assert!(!events.iter().any(|e| e["path"] == report["created"]));
}

/// Each filter lets through the workload it names and stops the other,
/// which does the same opens at the same time.
#[test]
fn filters_select_only_their_process() {
    require_root();
    let _g = serial();
    let dir = TempDir::new("opensnoop-filters");
    let d = dir.path().to_str().unwrap();
    let cgroup = TestCgroup::new();
    for case in ["pid", "comm", "uid", "cgroup"] {
        let wanted_comm = "osnoop-want";
        let (wanted, other) = match case {
            "uid" => (
                Workload::start_as(
                    Some(65534),
                    &["open-markers", "/tmp", "--comm", wanted_comm],
                ),
                Workload::start(&["open-markers", d, "--comm", "osnoop-other"]),
            ),
            _ => (
                Workload::start(&["open-markers", d, "--comm", wanted_comm]),
                Workload::start(&["open-markers", d, "--comm", "osnoop-other"]),
            ),
        };
        let wanted_pid = wanted.pid().to_string();
        let args: Vec<String> = match case {
            "pid" => vec!["-p".into(), wanted_pid.clone()],
            "comm" => vec!["-c".into(), wanted_comm.into()],
            "uid" => vec!["-u".into(), "65534".into()],
            _ => {
                cgroup.add(wanted.pid());
                vec!["--cgroup".into(), cgroup.path.clone()]
            }
        };
        let mut all: Vec<&str> = vec!["--json"];
        all.extend(args.iter().map(String::as_str));
        let ours = Tracer::ours("opensnoop", &all);
        let other_report = other.go();
        let report = wanted.go();
        let missing = report["missing"].as_str().unwrap();
        ours.wait_stdout(|l| l.contains(missing), WAIT)
            .unwrap_or_else(|| panic!("{case}: the selected workload was not seen"));
        let events = ours.stop().json();
        assert!(
            !opens_by(&events, w_pid(&report)).is_empty(),
            "{case}: selected workload missing"
        );
        assert!(
            opens_by(&events, w_pid(&other_report)).is_empty(),
            "{case}: the other workload got through"
        );
        for e in &events {
            match case {
                "pid" => assert_eq!(e["pid"].to_string(), wanted_pid),
                "comm" => assert_eq!(e["comm"], wanted_comm),
                "uid" => assert_eq!(e["uid"], 65534),
                _ => assert_eq!(e["cgroup_id"], cgroup.id),
            }
        }
    }
}

/// A cgroup v2 directory made for one test, removed afterwards.
struct TestCgroup {
    path: String,
    id: u64,
}

impl TestCgroup {
    fn new() -> TestCgroup {
        let mounts = std::fs::read_to_string("/proc/self/mounts").unwrap();
        let root = mounts
            .lines()
            .find_map(|l| {
                let f: Vec<&str> = l.split_whitespace().collect();
                (f[2] == "cgroup2").then(|| f[1].to_string())
            })
            .expect("cgroup v2 is mounted");
        let path = format!("{root}/ebpftop-test-{}", std::process::id());
        let _ = std::fs::create_dir(&path);
        let id = std::os::unix::fs::MetadataExt::ino(&std::fs::metadata(&path).unwrap());
        TestCgroup { path, id }
    }

    fn add(&self, pid: u32) {
        std::fs::write(format!("{}/cgroup.procs", self.path), pid.to_string())
            .expect("moving the workload into the test cgroup");
    }
}

impl Drop for TestCgroup {
    fn drop(&mut self) {
        // Its processes have exited by now; retry briefly while they are reaped.
        for _ in 0..50 {
            if std::fs::remove_dir(&self.path).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

#[test]
fn hostile_and_long_paths_are_escaped_in_tables_and_exact_in_json() {
    require_root();
    let _g = serial();
    let hostile: &[u8] = b"/tmp/ebpftop-\x1b[31mred\nline\xff\xfe-\xe2\x80\xae";
    let long = format!("/tmp/{}", "d".repeat(1500));
    let hostile_arg = std::ffi::OsStr::from_bytes(hostile);
    for json in [true, false] {
        let w = Workload::start(&[
            std::ffi::OsStr::new("open-paths"),
            hostile_arg,
            std::ffi::OsStr::new(&long),
        ]);
        let pid = w.pid().to_string();
        let mut args = vec!["-p", pid.as_str()];
        if json {
            args.push("--json");
        }
        let ours = Tracer::ours("opensnoop", &args);
        w.go();
        ours.wait_stdout(|l| l.contains("ddddd"), WAIT)
            .expect("saw the long path");
        let fin = ours.stop();
        if json {
            let events = fin.json();
            let paths: Vec<&str> = events.iter().filter_map(|e| e["path"].as_str()).collect();
            assert!(
                paths.contains(&"/tmp/ebpftop-\u{1b}[31mred\nline\\xff\\xfe-\u{202e}"),
                "{paths:?}"
            );
            assert!(paths.contains(&long.as_str()), "long path cut");
        } else {
            for line in &fin.stdout {
                assert!(
                    !line.bytes().any(|b| b < 0x20),
                    "raw control byte reached the table: {line:?}"
                );
                assert!(
                    !line.contains('\u{202e}'),
                    "bidi override reached the table"
                );
            }
            assert!(
                fin.stdout
                    .iter()
                    .any(|l| l.ends_with("/tmp/ebpftop-\\x1b[31mred\\nline\\xff\\xfe-\\u{202e}")),
                "{:?}",
                fin.stdout
            );
            assert!(fin.stdout.iter().any(|l| l.ends_with(&long)));
        }
    }
}

#[test]
fn stops_promptly_with_status_zero_when_the_reader_goes_away() {
    require_root();
    let _g = serial();
    for json in [false, true] {
        let flag = if json { "--json" } else { "" };
        let script = format!(
            "{} {flag} | head -1 >/dev/null; echo \"status=${{PIPESTATUS[0]}}\" >&2",
            bin("opensnoop").display()
        );
        let start = Instant::now();
        let mut child = Command::new("bash")
            .args(["-c", &script])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // JSON mode needs an event to print before head can exit.
        let dir = TempDir::new("opensnoop-head");
        let marker = dir.path().join("poke");
        let mut status = None;
        while start.elapsed() < Duration::from_secs(20) {
            let _ = std::fs::File::open(&marker);
            if let Ok(Some(s)) = child.try_wait() {
                status = Some(s);
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let Some(status) = status else {
            let _ = child.kill();
            let _ = child.wait();
            panic!("`opensnoop {flag} | head -1` did not end within 20 s")
        };
        let mut err = String::new();
        std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut err).unwrap();
        assert!(status.success());
        assert!(err.contains("status=0"), "opensnoop {flag}: {err}");
        assert!(!err.contains("panicked"), "{err}");
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "took {:?}",
            start.elapsed()
        );
    }
}

#[test]
fn leaves_no_program_behind() {
    require_root();
    let _g = serial();
    let names = [
        "openat_enter",
        "openat_exit",
        "openat2_enter",
        "openat2_exit",
        "open_enter",
        "open_exit",
    ];
    let before = bpf_program_ids(&names);
    for stop in ["sigint", "duration", "sigterm"] {
        let args: &[&str] = if stop == "duration" {
            &["-d", "1"]
        } else {
            &[]
        };
        let t = Tracer::ours("opensnoop", args);
        let running: Vec<u64> = bpf_program_ids(&names)
            .into_iter()
            .filter(|id| !before.contains(id))
            .collect();
        assert_eq!(running.len(), names.len(), "{stop}: programs while running");
        match stop {
            "sigint" => assert!(t.stop().status.success()),
            "sigterm" => {
                // SAFETY: signalling our child.
                unsafe { libc::kill(t.pid() as i32, libc::SIGTERM) };
                let fin = t.stop();
                assert!(fin.status.success(), "{:?}", fin.stderr);
            }
            _ => {
                let deadline = Instant::now() + Duration::from_secs(10);
                while Instant::now() < deadline
                    && Command::new("kill")
                        .args(["-0", &t.pid().to_string()])
                        .stderr(Stdio::null())
                        .status()
                        .unwrap()
                        .success()
                    && !is_zombie(t.pid())
                {
                    std::thread::sleep(Duration::from_millis(50));
                }
                assert!(is_zombie(t.pid()), "-d 1 did not stop it");
                assert!(t.stop().status.success());
            }
        }
        let after = bpf_program_ids(&names);
        for id in running {
            assert!(!after.contains(&id), "{stop}: program {id} left loaded");
        }
    }
}

fn is_zombie(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| {
            s.rsplit(')')
                .next()
                .unwrap_or("")
                .trim_start()
                .starts_with('Z')
        })
        .unwrap_or(true)
}

#[test]
fn bad_input_and_missing_privilege_get_one_clear_line() {
    require_root();
    let cases: &[(&[&str], Option<u32>, &str)] = &[
        (&["-p", "4000000"], None, "no process with pid 4000000"),
        (
            &["-p", "abc"],
            None,
            "invalid value 'abc' for '--pid <PID>'",
        ),
        (&["--bogus"], None, "unexpected argument '--bogus'"),
        (&["-d", "0"], None, "must be a positive number of seconds"),
        (
            &["--cgroup", "/tmp"],
            None,
            "/tmp is not a cgroup v2 directory",
        ),
        (
            &["--cgroup", "/no/such/cgroup"],
            None,
            "cgroup /no/such/cgroup",
        ),
        (
            &["-c", "a-name-longer-than-15"],
            None,
            "must be 1 to 15 bytes",
        ),
        (
            &[],
            Some(65534),
            "missing CAP_BPF and CAP_PERFMON (or CAP_SYS_ADMIN)",
        ),
    ];
    for (args, uid, expected) in cases {
        let mut cmd = match uid {
            Some(uid) => {
                let mut c = Command::new("setpriv");
                c.args([
                    format!("--reuid={uid}"),
                    format!("--regid={uid}"),
                    "--clear-groups".into(),
                    "--inh-caps=-all".into(),
                ])
                .arg(bin("opensnoop"));
                c
            }
            None => Command::new(bin("opensnoop")),
        };
        let mut child = cmd
            .args(*args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let status = wait_timeout(&mut child, WAIT).expect("exits");
        let mut err = String::new();
        std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut err).unwrap();
        assert!(!status.success(), "{args:?}: exit 0");
        assert_eq!(err.lines().count(), 1, "{args:?}: not one line: {err}");
        assert!(err.starts_with("opensnoop: "), "{err}");
        assert!(err.contains(expected), "{args:?}: {err}");
        if uid.is_some() {
            assert!(err.contains("sudo"), "{err}");
        }
    }
}
