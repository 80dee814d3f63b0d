//! runqslower against the real kernel: a sleeper pinned to a CPU shared
//! with two hogs has slow wakeups, each reported with its tid and the hog
//! that held the CPU.

use ebpftop_tests::{
    Tracer, Workload, require_root,
    sched::{Hogs, cgroup2_mount, test_cpu},
    serial,
};
use serde_json::Value;

/// The cgroup v2 id (directory inode) process `pid` is in.
fn cgroup_id_of(pid: u32) -> u64 {
    use std::os::unix::fs::MetadataExt;
    let text = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).unwrap();
    let rel = text.lines().find_map(|l| l.strip_prefix("0::")).unwrap();
    let dir = cgroup2_mount().join(rel.trim_start_matches('/'));
    std::fs::metadata(dir).unwrap().ino()
}

fn sleeper(n: u64) -> Workload {
    let cpu = test_cpu().to_string();
    // Nice 19: it does not preempt the hogs on wakeup, so it waits.
    Workload::start(&["sleep-loop", &cpu, &n.to_string(), "1000", "19"])
}

#[test]
fn slow_wakeups_of_a_sleeper_name_a_hog_as_prev() {
    require_root();
    let _g = serial();
    let hogs = Hogs::spawn(2, test_cpu(), 30_000);
    let hog_pids: Vec<u64> = hogs.pids().into_iter().map(u64::from).collect();
    let w = sleeper(200);
    let pid = w.pid();
    let cgroup_id = cgroup_id_of(pid);
    let t = Tracer::ours("runqslower", &["--json", "-p", &pid.to_string(), "1000"]);
    let report = w.go();
    let fin = t.stop();
    drop(hogs);
    assert!(fin.status.success(), "{:?}", fin.stderr);
    let tid = report["tid"].as_u64().unwrap();
    let events: Vec<Value> = fin
        .json()
        .into_iter()
        .filter(|e| e["event"] == "runqslow")
        .collect();
    assert!(events.len() >= 10, "few slow wakeups: {events:#?}");
    for e in &events {
        assert_eq!(e["pid"], pid, "-p let another process through: {e}");
        assert_eq!(e["tid"], tid);
        assert_eq!(e["comm"], "ebpftop-workloa");
        assert_eq!(
            (&e["uid"], &e["cgroup_id"]),
            (&Value::from(0), &Value::from(cgroup_id))
        );
        assert!(e["delta_us"].as_u64().unwrap() >= 1000, "{e}");
        assert!(e["cpu"].as_u64().unwrap() == test_cpu() as u64, "{e}");
    }
    // The previous task is a hog for many of them; the others are whatever
    // else ran on that CPU (a kworker, this harness, a build).
    let by_hog = events
        .iter()
        .filter(|e| {
            hog_pids.contains(&e["prev_pid"].as_u64().unwrap())
                && e["prev_pid"] == e["prev_tid"]
                && e["prev_comm"] == "ebpftop-workloa"
        })
        .count();
    assert!(
        by_hog >= 5 && by_hog * 4 >= events.len(),
        "{by_hog} of {events:#?}"
    );
}

#[test]
fn table_shows_prev_with_dash_p_and_the_tid_filter_holds() {
    require_root();
    let _g = serial();
    let hogs = Hogs::spawn(2, test_cpu(), 30_000);
    let w = sleeper(100);
    let tid = w.pid().to_string();
    let t = Tracer::ours("runqslower", &["-P", "-t", &tid, "1000"]);
    w.go();
    let fin = t.stop();
    drop(hogs);
    assert!(fin.status.success(), "{:?}", fin.stderr);
    let header = &fin.stdout[0];
    let cols: Vec<&str> = header.split_whitespace().collect();
    assert_eq!(
        cols,
        ["COMM", "TID", "LAT(us)", "PREV", "COMM", "PREV", "TID"]
    );
    let rows = &fin.stdout[1..];
    assert!(rows.len() >= 5, "{:?}", fin.stdout);
    for r in rows {
        let f: Vec<&str> = r.split_whitespace().collect();
        assert_eq!((f[0], f[1]), ("ebpftop-workloa", tid.as_str()), "{r}");
        assert!(f[2].parse::<u64>().unwrap() >= 1000, "{r}");
        // Prev comm and tid follow (a comm may hold spaces).
        assert!(f.len() >= 5 && f[f.len() - 1].parse::<u32>().is_ok(), "{r}");
    }
}
