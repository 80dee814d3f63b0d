//! statsnoop against the real kernel: what it reports must be exactly the
//! stat and access calls a workload with a known pid made.

use std::{process::Command, time::Duration};

use ebpftop_tests::{TempDir, Tracer, Workload, bin, require_root, serial};
use serde_json::Value;

const WAIT: Duration = Duration::from_secs(15);

/// Runs the stat-markers workload under `statsnoop ARGS -p PID` and
/// returns the workload's report and what statsnoop printed.
fn trace_markers(args: &[&str], comm: &str) -> (Value, Vec<String>) {
    let dir = TempDir::new("statsnoop");
    let w = Workload::start(&["stat-markers", dir.path().to_str().unwrap(), "--comm", comm]);
    let pid = w.pid().to_string();
    let mut all = args.to_vec();
    all.extend(["-p", &pid]);
    let ours = Tracer::ours("statsnoop", &all);
    let report = w.go();
    let missing = report["missing"].as_str().unwrap().to_string();
    // The workload's last call is the stat of a path longer than PATH_MAX.
    ours.wait_stdout(|l| l.contains("xxxxxxxxxxxxxxxx"), WAIT)
        .expect("statsnoop saw the workload's last call");
    assert!(ours.stdout_so_far().iter().any(|l| l.contains(&missing)));
    let fin = ours.stop();
    assert!(fin.status.success(), "{:?}", fin.stderr);
    (report, fin.stdout)
}

fn json(lines: &[String]) -> Vec<Value> {
    lines
        .iter()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

#[test]
fn reports_exactly_the_workloads_stat_and_access_calls() {
    require_root();
    let _g = serial();
    let (report, out) = trace_markers(&["--json"], "ssnoop-mark");
    let events = json(&out);
    let (existing, missing, long) = (
        report["existing"].as_str().unwrap(),
        report["missing"].as_str().unwrap(),
        report["long"].as_str().unwrap(),
    );
    assert!(
        long.len() > 256,
        "the long path must not fit the small record"
    );
    let access = report["access_syscall"].as_str().unwrap();
    // (syscall, path, ret, error, flags_str, mode_str, mask_str)
    let too_long = format!("/{}", "x".repeat(4094));
    let expected: [(&str, &str, i64, Value, Value, Value, Value); 6] = [
        (
            "newfstatat",
            existing,
            0,
            Value::Null,
            "AT_SYMLINK_NOFOLLOW".into(),
            Value::Null,
            Value::Null,
        ),
        (
            "newfstatat",
            missing,
            -2,
            "ENOENT".into(),
            "0".into(),
            Value::Null,
            Value::Null,
        ),
        (
            "statx",
            long,
            0,
            Value::Null,
            "AT_NO_AUTOMOUNT".into(),
            Value::Null,
            "STATX_BASIC_STATS|STATX_BTIME".into(),
        ),
        (
            "faccessat2",
            existing,
            0,
            Value::Null,
            "AT_EACCESS".into(),
            "R_OK|W_OK".into(),
            Value::Null,
        ),
        (
            access,
            missing,
            -2,
            "ENOENT".into(),
            if access == "access" {
                Value::Null
            } else {
                "0".into()
            },
            "F_OK".into(),
            Value::Null,
        ),
        (
            "newfstatat",
            &too_long,
            -36,
            "ENAMETOOLONG".into(),
            "0".into(),
            Value::Null,
            Value::Null,
        ),
    ];
    assert_eq!(
        events.len(),
        expected.len(),
        "exactly the workload's calls: {events:#?}"
    );
    for (e, (syscall, path, ret, error, flags, mode, mask)) in events.iter().zip(expected) {
        assert_eq!(e["event"], "stat");
        assert_eq!(e["pid"], report["pid"]);
        assert_eq!(e["tid"], report["tid"]);
        assert_eq!(e["comm"], "ssnoop-mark");
        assert_eq!(e["uid"], 0);
        assert_eq!(e["syscall"], syscall, "{e}");
        assert_eq!(e["path"], path, "{e}");
        assert_eq!(e["path_truncated"], *path == too_long, "{e}");
        assert_eq!(e["ret"], ret, "{e}");
        assert_eq!(e["error"], error, "{e}");
        assert_eq!(
            e["errno"],
            if ret < 0 { (-ret).into() } else { Value::Null }
        );
        assert_eq!(e["flags_str"], flags, "{e}");
        assert_eq!(e["mode_str"], mode, "{e}");
        assert_eq!(e["mask_str"], mask, "{e}");
        let has_dfd = syscall != "access";
        assert_eq!(e["dfd"], if has_dfd { (-100).into() } else { Value::Null });
        assert!(e["ts_ns"].as_u64().unwrap() > 1_600_000_000_000_000_000);
    }
    // Numbers next to the names, as the kernel saw them.
    assert_eq!(events[0]["flags"], libc::AT_SYMLINK_NOFOLLOW);
    assert_eq!(
        events[2]["mask"],
        libc::STATX_BASIC_STATS | libc::STATX_BTIME
    );
    assert_eq!(events[3]["mode"], libc::R_OK | libc::W_OK);
    assert!(
        events
            .windows(2)
            .all(|w| w[0]["ts_ns"].as_u64() <= w[1]["ts_ns"].as_u64())
    );
}

#[test]
fn failed_only_shows_only_the_missing_path() {
    require_root();
    let _g = serial();
    let (report, out) = trace_markers(&["--json", "-x"], "ssnoop-x");
    let events = json(&out);
    let got: Vec<(&str, &str, i64)> = events
        .iter()
        .map(|e| {
            (
                e["syscall"].as_str().unwrap(),
                e["path"].as_str().unwrap(),
                e["ret"].as_i64().unwrap(),
            )
        })
        .collect();
    let missing = report["missing"].as_str().unwrap();
    let access = report["access_syscall"].as_str().unwrap();
    assert_eq!(
        got,
        [
            ("newfstatat", missing, -2),
            (access, missing, -2),
            ("newfstatat", &format!("/{}", "x".repeat(4094)), -36)
        ],
        "{events:#?}"
    );
}

#[test]
fn table_has_libbpf_tools_columns_and_extended_fields() {
    require_root();
    let _g = serial();
    let (report, out) = trace_markers(&["-e"], "ssnoop-table");
    let pid = report["pid"].to_string();
    let header: Vec<&str> = out[0].split_whitespace().collect();
    assert_eq!(
        header,
        [
            "PID", "COMM", "RET", "ERR", "SYSCALL", "DFD", "FLAGS", "MODE", "PATH"
        ]
    );
    let rows: Vec<Vec<&str>> = out[1..]
        .iter()
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(rows.len(), 6, "{out:#?}");
    let missing = report["missing"].as_str().unwrap();
    assert_eq!(
        rows[1],
        [
            pid.as_str(),
            "ssnoop-table",
            "-1",
            "2",
            "newfstatat",
            "AT_FDCWD",
            "0",
            "-",
            missing
        ]
    );
    let long = report["long"].as_str().unwrap();
    assert_eq!(
        rows[2][4..],
        [
            "statx",
            "AT_FDCWD",
            "AT_NO_AUTOMOUNT",
            "STATX_BASIC_STATS|STATX_BTIME",
            long
        ]
    );
    assert_eq!(rows[3][2..6], ["0", "0", "faccessat2", "AT_FDCWD"]);
    assert_eq!(rows[3][6..8], ["AT_EACCESS", "R_OK|W_OK"]);
    // A path the kernel refused as too long: shown cut, and marked so.
    assert_eq!(rows[5][2..4], ["-1", "36"]);
    assert_eq!(rows[5][8], format!("/{}...", "x".repeat(4094)));
}

#[test]
fn comm_filter_selects_the_named_process() {
    require_root();
    let _g = serial();
    let dir = TempDir::new("statsnoop-comm");
    let d = dir.path().to_str().unwrap();
    let wanted = Workload::start(&["stat-markers", d, "--comm", "ssnoop-want"]);
    let other = Workload::start(&["stat-markers", d, "--comm", "ssnoop-other"]);
    let ours = Tracer::ours("statsnoop", &["--json", "-c", "ssnoop-want"]);
    let other_report = other.go();
    let report = wanted.go();
    let missing = report["missing"].as_str().unwrap();
    ours.wait_stdout(|l| l.contains("ENAMETOOLONG"), WAIT)
        .expect("saw the wanted process's last call");
    assert!(ours.stdout_so_far().iter().any(|l| l.contains(missing)));
    let events = ours.stop().json();
    assert_eq!(events.len(), 6, "{events:#?}");
    assert!(events.iter().all(|e| e["pid"] == report["pid"]));
    assert!(!events.iter().any(|e| e["pid"] == other_report["pid"]));
}

#[test]
fn bad_input_is_one_line_and_a_failure() {
    require_root();
    for args in [
        &["-p", "abc"][..],
        &["--cgroup", "/nonexistent/ebpftop"],
        &["-c", "a-name-longer-than-fifteen"],
        &["-d", "0"],
    ] {
        let out = Command::new(bin("statsnoop")).args(args).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?} succeeded");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
        assert!(out.stdout.is_empty(), "{args:?}");
        assert!(err.starts_with("statsnoop: "), "{args:?}: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{args:?}: {err}");
    }
}
