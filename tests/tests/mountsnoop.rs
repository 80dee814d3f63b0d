//! mountsnoop against the real kernel: a workload with a known pid mounts
//! and unmounts tmpfs in a private mount namespace; mountsnoop must report
//! exactly those calls, as libbpf-tools' mountsnoop saw them too.

use std::{process::Command, time::Duration};

use ebpftop_tests::{TempDir, Tracer, Workload, bin, require_root, serial};
use serde_json::Value;

const WAIT: Duration = Duration::from_secs(15);

/// What the workload's syscalls look like, in order: (syscall, call line).
fn expected_calls(report: &Value) -> Vec<(&'static str, String)> {
    let target = report["target"].as_str().unwrap();
    let long = report["long_data"].as_str().unwrap();
    let mut calls = vec![
        (
            "mount",
            "mount(NULL, \"/\", NULL, MS_REC|MS_PRIVATE, NULL) = 0".to_string(),
        ),
        (
            "mount",
            format!(
                "mount(\"ebpftop-tmpfs\", \"{target}\", \"tmpfs\", MS_NOSUID|MS_NODEV, \"size=1m\") = 0"
            ),
        ),
        ("umount", format!("umount(\"{target}\", MNT_DETACH) = 0")),
        (
            "mount",
            format!("mount(\"ebpftop-tmpfs\", \"{target}\", \"tmpfs\", 0, \"{long}\") = 0"),
        ),
        ("umount", format!("umount(\"{target}\", MNT_DETACH) = 0")),
        (
            "mount",
            format!("mount(\"ebpftop-bad\", \"{target}\", \"ebpftop-nofs\", 0, NULL) = -ENODEV"),
        ),
    ];
    if report["new_api"] == true {
        let (fs_fd, mnt_fd) = (&report["fs_fd"], &report["mnt_fd"]);
        calls.extend([
            ("fsopen", format!("fsopen(\"tmpfs\", FSOPEN_CLOEXEC) = {fs_fd}")),
            (
                "fsconfig",
                format!("fsconfig({fs_fd}, FSCONFIG_SET_STRING, \"size\", \"2m\", 0) = 0"),
            ),
            (
                "fsconfig",
                format!("fsconfig({fs_fd}, FSCONFIG_CMD_CREATE, NULL, NULL, 0) = 0"),
            ),
            (
                "fsmount",
                format!("fsmount({fs_fd}, FSMOUNT_CLOEXEC, MOUNT_ATTR_NODEV) = {mnt_fd}"),
            ),
            (
                "move_mount",
                format!(
                    "move_mount({mnt_fd}, \"\", AT_FDCWD, \"{target}\", MOVE_MOUNT_F_EMPTY_PATH) = 0"
                ),
            ),
            ("umount", format!("umount(\"{target}\", MNT_DETACH) = 0")),
        ]);
    }
    calls
}

fn run_workload(args: &[&str], comm: &str, reference: bool) -> (Value, Vec<Value>, Vec<String>) {
    let dir = TempDir::new("mountsnoop");
    let w = Workload::start(&["mount-tmpfs", dir.path().to_str().unwrap(), "--comm", comm]);
    let pid = w.pid().to_string();
    let mut all = vec!["--json", "-p", &pid];
    all.extend_from_slice(args);
    let ours = Tracer::ours("mountsnoop", &all);
    let libbpf = reference.then(|| {
        let t = Tracer::spawn("stdbuf", &["-oL", "/usr/sbin/mountsnoop", "-p", &pid]);
        t.wait_reference_header("CALL");
        t
    });
    let report = w.go();
    ours.wait_stdout(|l| l.contains("ENODEV"), WAIT)
        .expect("mountsnoop saw the failed mount");
    let last = if report["new_api"] == true {
        "move_mount"
    } else {
        "ENODEV"
    };
    if !args.contains(&"-x") {
        ours.wait_stdout(|l| l.contains(last), WAIT)
            .expect("mountsnoop saw the last call");
        std::thread::sleep(Duration::from_millis(300));
    }
    let fin = ours.stop();
    assert!(fin.status.success(), "{:?}", fin.stderr);
    let reference_lines = match libbpf {
        Some(t) => {
            t.wait_stdout(|l| l.contains("\"ebpftop-bad\""), WAIT)
                .expect("libbpf-tools saw the failed mount");
            t.stop().stdout
        }
        None => Vec::new(),
    };
    (report, fin.json(), reference_lines)
}

#[test]
fn reports_the_workloads_mounts_umounts_and_failure_as_libbpf_tools_saw_them() {
    require_root();
    let _g = serial();
    let (report, events, reference) = run_workload(&[], "msnoop-mark", true);
    let expected = expected_calls(&report);
    let got: Vec<(&str, &str)> = events
        .iter()
        .map(|e| (e["syscall"].as_str().unwrap(), e["call"].as_str().unwrap()))
        .collect();
    let want: Vec<(&str, &str)> = expected.iter().map(|(s, c)| (*s, c.as_str())).collect();
    assert_eq!(got, want);
    for e in &events {
        assert_eq!(e["event"], "mount");
        assert_eq!(e["pid"], report["pid"]);
        assert_eq!(e["tid"], report["tid"]);
        assert_eq!(e["comm"], "msnoop-mark");
        assert_eq!(e["mnt_ns"], report["mnt_ns"], "the namespace it unshared");
        assert_eq!(e["truncated"], serde_json::json!([]));
    }
    let target = report["target"].as_str().unwrap();
    let m = &events[1];
    assert_eq!(m["source"], "ebpftop-tmpfs");
    assert_eq!(m["target"], target);
    assert_eq!(m["fstype"], "tmpfs");
    assert_eq!(m["data"], "size=1m");
    assert_eq!(m["flags"], libc::MS_NOSUID | libc::MS_NODEV);
    assert_eq!(m["flags_str"], "MS_NOSUID|MS_NODEV");
    assert_eq!(
        (&m["ret"], &m["errno"], &m["error"]),
        (&0.into(), &Value::Null, &Value::Null)
    );
    let u = &events[2];
    assert_eq!(u["target"], target);
    assert_eq!(u["source"], Value::Null);
    assert_eq!(u["flags"], libc::MNT_DETACH);
    assert_eq!(u["flags_str"], "MNT_DETACH");
    // Longer than the small record: read again whole, not cut.
    assert!(report["long_data"].as_str().unwrap().len() > 256);
    assert_eq!(events[3]["data"], report["long_data"]);
    let bad = &events[5];
    assert_eq!(bad["fstype"], "ebpftop-nofs");
    assert_eq!((&bad["ret"], &bad["errno"]), (&(-19).into(), &19.into()));
    assert_eq!(bad["error"], "ENODEV");
    if report["new_api"] == true {
        let fsconfig = &events[7];
        assert_eq!(fsconfig["key"], "size");
        assert_eq!(fsconfig["value"], "2m");
        assert_eq!(fsconfig["cmd_str"], "FSCONFIG_SET_STRING");
        assert_eq!(fsconfig["fd"], report["fs_fd"]);
        assert_eq!(events[9]["attr_set_str"], "MOUNT_ATTR_NODEV");
        assert_eq!(events[10]["to_fd"], -100);
    }

    // libbpf-tools prints `COMM PID TID MNT_NS CALL` (its flag names and
    // its fstype, cut at 8 bytes, differ): the same process, namespace,
    // strings and results.
    let pid = report["pid"].to_string();
    let mnt_ns = report["mnt_ns"].to_string();
    let find = |needles: &[&str]| -> Vec<String> {
        let line = reference
            .iter()
            .find(|l| needles.iter().all(|n| l.contains(n)))
            .unwrap_or_else(|| panic!("libbpf-tools did not show {needles:?}: {reference:#?}"));
        line.split_whitespace().map(String::from).collect()
    };
    let tmpfs = find(&[
        &format!("mount(\"ebpftop-tmpfs\", \"{target}\", \"tmpfs\","),
        "\"size=1m\") = 0",
    ]);
    assert_eq!(tmpfs[1..4], [pid.clone(), pid.clone(), mnt_ns.clone()]);
    let bad = find(&["mount(\"ebpftop-bad\""]);
    assert_eq!(bad.last().unwrap(), "-ENODEV", "{bad:?}");
}

#[test]
fn failed_only_shows_only_the_failed_mount() {
    require_root();
    let _g = serial();
    let (_report, events, _) = run_workload(&["-x"], "msnoop-x", false);
    std::thread::sleep(Duration::from_millis(100));
    let calls: Vec<&str> = events.iter().map(|e| e["call"].as_str().unwrap()).collect();
    assert_eq!(calls.len(), 1, "{calls:#?}");
    assert!(calls[0].ends_with("= -ENODEV"), "{calls:?}");
}

#[test]
fn table_shows_calls_as_strace_would() {
    require_root();
    let _g = serial();
    let dir = TempDir::new("mountsnoop-table");
    let w = Workload::start(&[
        "mount-tmpfs",
        dir.path().to_str().unwrap(),
        "--comm",
        "msnoop-tab",
    ]);
    let pid = w.pid().to_string();
    let ours = Tracer::ours("mountsnoop", &["-p", &pid]);
    let report = w.go();
    let target = report["target"].as_str().unwrap();
    let line = ours
        .wait_stdout(|l| l.contains("\"size=1m\""), WAIT)
        .expect("saw the tmpfs mount");
    let header = ours.stdout_so_far()[0].clone();
    ours.stop();
    assert_eq!(
        header.split_whitespace().collect::<Vec<_>>(),
        ["COMM", "PID", "TID", "MNT_NS", "CALL"]
    );
    let prefix: Vec<&str> = line.split_whitespace().take(4).collect();
    let mnt_ns = report["mnt_ns"].to_string();
    assert_eq!(
        prefix,
        ["msnoop-tab", pid.as_str(), pid.as_str(), mnt_ns.as_str()]
    );
    assert!(
        line.ends_with(&format!(
            "mount(\"ebpftop-tmpfs\", \"{target}\", \"tmpfs\", MS_NOSUID|MS_NODEV, \"size=1m\") = 0"
        )),
        "{line}"
    );
}

#[test]
fn bad_input_is_one_line_and_a_failure() {
    require_root();
    for args in [
        &["-p", "-3"][..],
        &["--cgroup", "/nonexistent/ebpftop"],
        &["--bogus"],
    ] {
        let out = Command::new(bin("mountsnoop")).args(args).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?} succeeded");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
        assert!(out.stdout.is_empty(), "{args:?}");
        assert!(err.starts_with("mountsnoop: "), "{args:?}: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{args:?}: {err}");
    }
}
