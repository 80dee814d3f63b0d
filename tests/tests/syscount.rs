//! syscount against the real kernel: its in-kernel counts of a workload
//! that makes a known number of syscalls must match what the workload did
//! and what strace (an independent tracer, ptrace-based) counted.

use std::{collections::HashMap, process::Command, time::Duration};

use ebpftop_tests::{TempDir, Tracer, Workload, bin, require_root, serial};
use serde_json::Value;

const GETPPID: u64 = 100_000;
const OPENAT: u64 = 1_000;
const NANOSLEEP: u64 = 50;

/// `count` within 1% above `want` (the process may make a few more of the
/// same calls itself, never fewer).
fn within_1pct(what: &str, count: u64, want: u64) {
    assert!(
        count >= want && count <= want + want / 100,
        "{what}: {count}, want {want} (+1%)"
    );
}

/// Runs syscount with `args` on a fresh `syscall-mix` workload; returns
/// the workload's pid and report, and syscount's output.
fn trace_mix(args: &[&str]) -> (u32, Value, ebpftop_tests::Finished) {
    let w = Workload::start(&["syscall-mix"]);
    let pid = w.pid();
    let p = pid.to_string();
    let mut all = vec!["-p", p.as_str()];
    all.extend_from_slice(args);
    let t = Tracer::ours("syscount", &all);
    let report = w.go();
    let fin = t.stop();
    assert!(fin.status.success(), "{:?}", fin.stderr);
    (pid, report, fin)
}

/// syscall name -> JSON row, for rows of interval 1.
fn rows(fin: &ebpftop_tests::Finished) -> HashMap<String, Value> {
    fin.json()
        .into_iter()
        .filter(|r| r["event"] == "syscount")
        .map(|r| (r["syscall"].as_str().unwrap().to_string(), r))
        .collect()
}

fn count(rows: &HashMap<String, Value>, name: &str) -> u64 {
    rows.get(name)
        .unwrap_or_else(|| panic!("no {name} row in {rows:#?}"))["count"]
        .as_u64()
        .unwrap()
}

/// `strace -f -c`'s summary: calls per syscall name.
fn strace_counts(summary: &std::path::Path) -> HashMap<String, u64> {
    let text = std::fs::read_to_string(summary).unwrap();
    // % time  seconds  usecs/call  calls  [errors]  syscall
    text.lines()
        .filter_map(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            if !(5..=6).contains(&w.len()) || w[0].parse::<f64>().is_err() {
                return None;
            }
            Some((w.last()?.to_string(), w[3].parse().ok()?))
        })
        .collect()
}

#[test]
fn counts_every_call_of_the_mix_as_strace_does() {
    require_root();
    let _g = serial();
    // strace attaches to the same held workload, so both see the same calls.
    let w = Workload::start(&["syscall-mix"]);
    let p = w.pid().to_string();
    let dir = TempDir::new("syscount-strace");
    let summary = dir.path().join("strace.txt");
    let strace = Tracer::spawn(
        "strace",
        &["-f", "-c", "-o", summary.to_str().unwrap(), "-p", &p],
    );
    strace
        .wait_stderr(|l| l.contains("attached"), Duration::from_secs(15))
        .expect("strace attached (cargo xtask test installs it)");
    let ours = Tracer::ours("syscount", &["-p", &p, "--json", "--top", "100"]);
    let report = w.go();
    let fin = ours.stop();
    assert!(fin.status.success(), "{:?}", fin.stderr);
    strace.stop();
    assert_eq!(report["openat_errno"], 2);
    let r = rows(&fin);
    let (getppid, openat, nanosleep) = (
        count(&r, "getppid"),
        count(&r, "openat"),
        count(&r, "nanosleep"),
    );
    within_1pct("getppid", getppid, GETPPID);
    within_1pct("openat", openat, OPENAT);
    within_1pct("nanosleep", nanosleep, NANOSLEEP);
    assert_eq!(r["getppid"]["nr"], libc::SYS_getppid);
    // No latency fields without -L.
    assert!(r["getppid"].get("total_ns").is_none());

    let end: Vec<Value> = fin
        .json()
        .into_iter()
        .filter(|r| r["event"] == "interval")
        .collect();
    assert_eq!(end.len(), 1, "one report at the end without -i");
    assert_eq!(end[0]["interval"], 1);
    assert_eq!(end[0]["lost"], 0);
    assert_eq!(end[0]["lost_total"], 0);

    let reference = strace_counts(&summary);
    for (name, ours) in [
        ("getppid", getppid),
        ("openat", openat),
        ("nanosleep", nanosleep),
    ] {
        let theirs = reference[name];
        let diff = ours.abs_diff(theirs) as f64 / theirs as f64;
        assert!(diff <= 0.01, "{name}: syscount {ours}, strace {theirs}");
    }
}

#[test]
fn failed_only_and_by_errno() {
    require_root();
    let _g = serial();
    let w = Workload::start(&["syscall-mix"]);
    let p = w.pid().to_string();
    let failed = Tracer::ours("syscount", &["-p", &p, "-x", "--json", "--top", "100"]);
    let enoent = Tracer::ours("syscount", &["-p", &p, "-e", "ENOENT", "--json"]);
    let eacces = Tracer::ours("syscount", &["-p", &p, "-e", "13", "--json"]);
    w.go();
    for (t, expect_openat) in [(failed, true), (enoent, true), (eacces, false)] {
        let fin = t.stop();
        assert!(fin.status.success(), "{:?}", fin.stderr);
        let r = rows(&fin);
        assert!(!r.contains_key("getppid"), "getppid never fails: {r:#?}");
        assert!(
            !r.contains_key("nanosleep"),
            "nanosleep did not fail: {r:#?}"
        );
        if expect_openat {
            assert_eq!(count(&r, "openat"), OPENAT, "{r:#?}");
        } else {
            assert!(!r.contains_key("openat"), "no EACCES happened: {r:#?}");
        }
    }
}

#[test]
fn latency_per_syscall_and_counts_per_process() {
    require_root();
    let _g = serial();
    let w = Workload::start(&["syscall-mix", "--comm", "sysc-mix"]);
    let pid = w.pid();
    let p = pid.to_string();
    let timed = Tracer::ours("syscount", &["-p", &p, "-L", "--json", "--top", "100"]);
    let per_process = Tracer::ours("syscount", &["-c", "sysc-mix", "-P", "--json"]);
    w.go();
    let fin = timed.stop();
    let r = rows(&fin);
    let sleep = &r["nanosleep"];
    within_1pct("nanosleep", sleep["count"].as_u64().unwrap(), NANOSLEEP);
    assert_eq!(sleep["timed"], sleep["count"]);
    let avg = sleep["avg_ns"].as_u64().unwrap();
    assert!(
        (10_000_000..20_000_000).contains(&avg),
        "nanosleep avg {avg} ns"
    );
    let total = sleep["total_ns"].as_u64().unwrap();
    assert!(
        total >= NANOSLEEP * 10_000_000,
        "nanosleep total {total} ns"
    );
    let g = &r["getppid"];
    assert!(g["avg_ns"].as_u64().unwrap() < 1_000_000, "{g}");
    // Ranked by time with -L: 500 ms of sleeping beats everything else.
    let first = fin
        .json()
        .into_iter()
        .find(|r| r["event"] == "syscount")
        .unwrap();
    assert_eq!(first["syscall"], "nanosleep");

    let fin = per_process.stop();
    let procs: Vec<Value> = fin
        .json()
        .into_iter()
        .filter(|r| r["event"] == "syscount")
        .collect();
    assert_eq!(procs.len(), 1, "-c let other processes through: {procs:#?}");
    assert_eq!(procs[0]["pid"], pid);
    assert_eq!(procs[0]["comm"], "sysc-mix");
    let n = procs[0]["count"].as_u64().unwrap();
    within_1pct("all calls", n, GETPPID + OPENAT + NANOSLEEP);
}

#[test]
fn intervals_add_up_to_the_whole() {
    require_root();
    let _g = serial();
    let (_, _, fin) = trace_mix(&["--json", "-i", "0.1", "--top", "100"]);
    let all = fin.json();
    let intervals: Vec<u64> = all
        .iter()
        .filter(|r| r["event"] == "interval")
        .map(|r| r["interval"].as_u64().unwrap())
        .collect();
    assert!(intervals.len() >= 3, "{intervals:?}");
    assert!(
        intervals.windows(2).all(|w| w[1] == w[0] + 1),
        "{intervals:?}"
    );
    let getppid: u64 = all
        .iter()
        .filter(|r| r["event"] == "syscount" && r["syscall"] == "getppid")
        .map(|r| r["count"].as_u64().unwrap())
        .sum();
    within_1pct("getppid over intervals", getppid, GETPPID);
}

#[test]
fn table_like_bcc_with_top() {
    require_root();
    let _g = serial();
    let (_, _, fin) = trace_mix(&["--top", "2"]);
    let lines: Vec<&str> = fin
        .stdout
        .iter()
        .map(String::as_str)
        .filter(|l| !l.is_empty())
        .collect();
    assert_eq!(lines.len(), 3, "header and two rows: {lines:?}");
    let header: Vec<&str> = lines[0].split_whitespace().collect();
    assert_eq!(header, ["SYSCALL", "COUNT"]);
    let row: Vec<&str> = lines[1].split_whitespace().collect();
    assert_eq!(row[0], "getppid");
    within_1pct("getppid", row[1].parse().unwrap(), GETPPID);
    let row: Vec<&str> = lines[2].split_whitespace().collect();
    assert_eq!(row[0], "openat");
}

#[test]
fn bad_input_is_one_line_and_fails() {
    for args in [
        &["-e", "ENOPE"][..],
        &["--top", "0"],
        &["--count", "2"],
        &["-i", "-1"],
    ] {
        let out = Command::new(bin("syscount")).args(args).output().unwrap();
        assert!(!out.status.success(), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.starts_with("syscount: "), "{args:?}: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{err}");
    }
    let out = Command::new(bin("syscount")).arg("-l").output().unwrap();
    assert!(out.status.success());
    let list = String::from_utf8_lossy(&out.stdout);
    assert!(
        list.contains(&format!("{} getppid\n", libc::SYS_getppid)),
        "{list}"
    );
}

/// Numbers past the per-syscall array (and the last slot in it) are still
/// counted and shown by number; `-v` says which exit hook was used.
#[test]
fn numbers_beyond_the_table_are_counted() {
    require_root();
    let _g = serial();
    let me = std::process::id().to_string();
    let t = Tracer::ours("syscount", &["-p", &me, "--json", "--top", "1000"]);
    for (nr, times) in [(5000, 7), (1023, 3)] {
        for _ in 0..times {
            // SAFETY: no such syscall; it fails with ENOSYS.
            assert_eq!(unsafe { libc::syscall(nr) }, -1);
        }
    }
    let fin = t.stop();
    assert!(fin.status.success(), "{:?}", fin.stderr);
    let rows = rows(&fin);
    assert_eq!(count(&rows, "syscall_5000"), 7);
    assert_eq!(count(&rows, "syscall_1023"), 3);
    assert!(
        fin.stderr
            .iter()
            .any(|l| l.contains("syscall exit: ") && l.contains("raw_tracepoint sys_exit")),
        "the exit hook's path (raw, or why not) under -v: {:?}",
        fin.stderr
    );
}
